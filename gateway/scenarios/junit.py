"""Scenario results as JUnit XML, the report format every CI system reads."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from gateway.scenarios.run import ScenarioResult

__all__ = ["junit_xml", "write_junit"]


def junit_xml(results: Sequence[ScenarioResult], *, suite: str = "scgw scenarios") -> str:
    """One ``testcase`` per scenario (classname: the file), a ``failure`` per failed one."""
    failed = sum(1 for r in results if not r.ok)
    total = sum(r.seconds for r in results)
    root = ET.Element("testsuites", tests=str(len(results)), failures=str(failed))
    element = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failed),
        errors="0",
        skipped="0",
        time=f"{total:.3f}",
    )
    for result in results:
        case = ET.SubElement(
            element,
            "testcase",
            classname=result.path.with_suffix("").as_posix().strip("/").replace("/", "."),
            name=result.name,
            file=result.path.as_posix(),
            time=f"{result.seconds:.3f}",
        )
        if not result.ok:
            failure = ET.SubElement(
                case, "failure", message=result.failures[0], type="ExpectationFailed"
            )
            failure.text = "\n".join(result.failures)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(path: Path, results: Sequence[ScenarioResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(junit_xml(results), encoding="utf-8")
