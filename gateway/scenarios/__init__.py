"""Scenario files: a harness's stories as TOML, each run on a fresh gateway
(``scgw scenario run``), checked offline (``scgw check``) and reported as JUnit XML."""

from __future__ import annotations

from gateway.scenarios.junit import junit_xml, write_junit
from gateway.scenarios.model import Scenario, ScenarioError, load_scenario, scenario_problems
from gateway.scenarios.run import ScenarioResult, run_file, run_scenario

__all__ = [
    "Scenario",
    "ScenarioError",
    "ScenarioResult",
    "junit_xml",
    "load_scenario",
    "run_file",
    "run_scenario",
    "scenario_problems",
    "write_junit",
]
