"""``scgw check``: catalogs, support policies and scenario files validated without
starting anything; one line per problem."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from carrier_rules import Catalog, SupportPolicy
from gateway.scenarios.model import Scenario, resolve_catalogs, scenario_problems
from gateway.settings import DEFAULT_CATALOGS

__all__ = ["check_files"]


def _field(loc: Iterable[int | str]) -> str:
    return ".".join(str(part) for part in loc) or "(root)"


def _validate(model: type[BaseModel], data: Mapping[str, Any], path: Path) -> list[str]:
    try:
        model.model_validate(data)
    except ValidationError as exc:
        return [
            f"{path}: {_field(e['loc'])}: {str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
    return []


def _read(path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), []
    except OSError as exc:
        return None, [f"{path}: cannot read it: {exc.strerror or exc}"]
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return None, [f"{path}: not TOML: {exc}"]


def _catalogs(paths: Iterable[Path]) -> tuple[dict[str, Catalog], list[str]]:
    found: dict[str, Catalog] = {}
    problems: list[str] = []
    for path in paths:
        data, trouble = _read(path)
        if data is None:
            problems += trouble
            continue
        try:
            catalog = Catalog.model_validate(data)
        except ValidationError:
            problems += _validate(Catalog, data, path)
            continue
        if catalog.shortcode in found:
            problems.append(
                f"{path}: shortcode: {catalog.shortcode} is already served by"
                f" {found[catalog.shortcode].name!r}"
            )
        found[catalog.shortcode] = catalog
    return found, problems


def _scenario_refs(scenario: Scenario, path: Path) -> list[str]:
    """The short codes and packages a scenario names exist in the catalogs it runs with."""
    files = resolve_catalogs(scenario, path) or tuple(DEFAULT_CATALOGS)
    catalogs, problems = _catalogs(files)
    if problems:
        return [f"{path}: scenario.catalogs: {p}" for p in problems]
    packages = {p.code.upper() for c in catalogs.values() for p in c.packages}
    for n, step in enumerate(scenario.steps, start=1):
        if step.send is not None and step.send.to not in catalogs:
            problems.append(
                f"{path}: step {n}: send.to: no catalog serves short code {step.send.to!r}"
                f" (served: {', '.join(sorted(catalogs))})"
            )
        named = [s.package for s in step.expect_subscription]
        named += [c.package for c in step.expect_charge if c.package is not None]
        for package in named:
            if package.upper() not in packages:
                problems.append(f"{path}: step {n}: no package {package!r} in the catalogs")
    return problems


def check_files(paths: Iterable[Path]) -> list[str]:
    """Every problem in ``paths``: a file with a ``[scenario]`` table is a scenario, one
    with ``closure_phrases`` a support policy, anything else a catalog."""
    problems: list[str] = []
    catalogs: list[Path] = []
    for path in paths:
        data, trouble = _read(path)
        if data is None:
            problems += trouble
        elif "scenario" in data:
            scenario, found = scenario_problems(path)
            problems += found
            if scenario is not None:
                problems += _scenario_refs(scenario, path)
        elif "closure_phrases" in data:
            problems += _validate(SupportPolicy, data, path)
        else:
            catalogs.append(path)
    problems += _catalogs(catalogs)[1]
    return problems
