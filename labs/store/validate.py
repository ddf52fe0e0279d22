"""The schema every stored result file must meet before analysis reads it.

Result files are untrusted input: they travel between machines, are edited by hand and can be
truncated by a crash. One bad file must cost a warning naming it, never a traceback and never a
wrong number, so the whole document is checked here once and the analysis code may then assume
its shape. A check returns the reason as a ValueError message; the loader adds the file name.
"""

from __future__ import annotations

import math
import re
from typing import Any

# A machine id becomes a directory name under results/ when reports are written: one plain path
# component, so "../../x" or "a/b" can never steer a write outside the results tree.
SAFE_COMPONENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
TIME_UNIT = "second"


def is_safe_component(text: object) -> bool:
    return isinstance(text, str) and SAFE_COMPONENT.fullmatch(text) is not None and ".." not in text


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond any float
        return False


def _check_values(values: object, unit: str, where: str) -> None:
    if not isinstance(values, list):
        raise ValueError(f"{where}: values must be a list of numbers, got {type(values).__name__}")
    for value in values:
        if not _is_number(value):
            raise ValueError(f"{where}: value {value!r} is not a number")
        if not _is_finite(value):
            raise ValueError(f"{where}: value {str(value)[:20]!r} is not finite")
        if unit == TIME_UNIT and value <= 0:
            raise ValueError(f"{where}: time value {value!r} is not positive")
        if value < 0:
            raise ValueError(f"{where}: value {value!r} ({unit}) is negative")


def _check_run(run: object, unit: str, where: str) -> None:
    if not isinstance(run, dict):
        raise ValueError(f"{where}: a run must be an object, got {type(run).__name__}")
    if "values" in run:
        _check_values(run["values"], unit, where)
    if not isinstance(run.get("metadata", {}), dict):
        raise ValueError(f"{where}: run metadata must be an object")
    warmups = run.get("warmups", [])
    if not isinstance(warmups, list) or not all(
        isinstance(w, list) and len(w) == 2 and all(_is_number(x) and _is_finite(x) for x in w)
        for w in warmups
    ):
        raise ValueError(f"{where}: warmups must be a list of [loops, value] pairs")


def _check_benchmark(bench: object, common: dict[str, Any], index: int) -> None:
    where = f"benchmark #{index}"
    if not isinstance(bench, dict):
        raise ValueError(f"{where} must be an object, got {type(bench).__name__}")
    metadata = bench.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ValueError(f"{where}: metadata must be an object")
    name = {**common, **metadata}.get("name")
    if name is not None:
        if not isinstance(name, str):
            raise ValueError(f"{where}: name must be a string, got {name!r}")
        where = f"benchmark {name!r}"
    unit = {**common, **metadata}.get("unit", TIME_UNIT)
    if not isinstance(unit, str):
        raise ValueError(f"{where}: unit must be a string, got {unit!r}")
    runs = bench.get("runs", [])
    if not isinstance(runs, list):
        raise ValueError(f"{where}: runs must be a list, got {type(runs).__name__}")
    for number, run in enumerate(runs, 1):
        _check_run(run, unit, f"{where} run {number}")


def _check_labs_record(record: object) -> None:
    if not isinstance(record, dict):
        raise ValueError(f"'labs' must be an object, got {type(record).__name__}")
    if "machine" in record and not is_safe_component(record["machine"]):
        raise ValueError(
            f"labs.machine {record['machine']!r} is not a safe directory name "
            "(letters, digits, '.', '_' and '-', no '..')"
        )
    for name in ("started", "mode", "session"):
        if name in record and not isinstance(record[name], str):
            raise ValueError(f"labs.{name} must be a string, got {record[name]!r}")
    for name in ("runtime",):
        if name in record and not isinstance(record[name], dict):
            raise ValueError(f"labs.{name} must be an object, got {type(record[name]).__name__}")
    for name in ("failed", "notes", "suites"):
        if name in record and not isinstance(record[name], list):
            raise ValueError(f"labs.{name} must be a list, got {type(record[name]).__name__}")


def check_suite(data: object) -> None:
    """Raise ValueError saying what is wrong unless *data* is a well-formed stored run."""
    if not isinstance(data, dict) or "benchmarks" not in data or "version" not in data:
        raise ValueError("not a pyperf BenchmarkSuite file")
    if not isinstance(data["version"], str):
        raise ValueError(f"version must be a string, got {data['version']!r}")
    benchmarks = data["benchmarks"]
    if not isinstance(benchmarks, list):
        raise ValueError(f"benchmarks must be a list, got {type(benchmarks).__name__}")
    common = data.get("metadata", {})
    if not isinstance(common, dict):
        raise ValueError("metadata must be an object")
    for index, bench in enumerate(benchmarks, 1):
        _check_benchmark(bench, common, index)
    if "labs" in data:
        _check_labs_record(data["labs"])
