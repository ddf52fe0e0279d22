"""Read stored runs and compare them bench by bench. Reads only results/ JSON, so any run can be
re-analysed later and on another machine."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs.analyse import stats
from labs.core.errors import UsageError
from labs.store import runs as results

THRESHOLD = 0.05  # a change smaller than 5% is not flagged, however significant
ALPHA = 0.05
MIN_VALUES = 3  # fewer values a side give no meaningful test or bootstrap interval


@dataclass
class Bench:
    name: str
    values: list[float]
    metadata: dict[str, Any]
    runs_metadata: list[dict[str, Any]] = field(default_factory=list)  # what differs between pyperf runs

    def each_run(self, key: str) -> list[Any]:
        """*key* of every measured run (from the run's own metadata, else the bench's)."""
        found = [m.get(key, self.metadata.get(key)) for m in self.runs_metadata]
        return [value for value in found if value is not None]

    @property
    def mean(self) -> float:
        return stats.mean(self.values)


@dataclass
class Run:
    path: Path
    machine: str
    tag: str
    started: str
    record: dict[str, Any]
    benches: dict[str, Bench] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.tag}@{self.started}"

    @property
    def version(self) -> str:
        return str(self.record.get("runtime", {}).get("version", "?"))


def parse_run(path: Path, data: dict[str, Any]) -> Run:
    record = data.get("labs", {})
    run = Run(
        path=path,
        machine=record.get("machine", path.parent.parent.name),
        tag=path.parent.name,
        started=record.get("started", path.stem),
        record=record,
    )
    common = data.get("metadata", {})
    for bench in data.get("benchmarks", []):
        metadata = {**common, **bench.get("metadata", {})}
        measured = [r for r in bench.get("runs", []) if r.get("values")]
        values = [v for r in measured for v in r["values"]]
        name = metadata.get("name")
        if name and values:
            run.benches[name] = Bench(name, values, metadata, [r.get("metadata", {}) for r in measured])
    return run


def load(root: Path) -> tuple[list[Run], list[str]]:
    """Every run under *root* (oldest first), and one line per file left out and why."""
    loaded, problems = results.load_all(root)
    runs = [parse_run(path, data) for path, data in loaded]
    return sorted(runs, key=lambda r: (r.machine, r.tag, r.started)), problems


def resolve(spec: str, runs: list[Run]) -> Run:
    """A run named by a file path, a runtime tag (its latest run), or MACHINE/TAG."""
    path = Path(spec)
    if path.suffix == ".json":
        if not path.exists():
            raise UsageError(f"no such results file: {spec}")
        try:
            return parse_run(path, results.load_run(path))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    machine, _, tag = spec.rpartition("/")
    matching = [r for r in runs if r.tag == tag and (not machine or r.machine == machine)]
    if not matching:
        tags = sorted({r.tag for r in runs})
        raise UsageError(f"no stored run for {spec!r}; runtimes with results: {', '.join(tags) or 'none'}")
    if len({r.machine for r in matching}) > 1:
        machines = sorted({r.machine for r in matching})
        raise UsageError(
            f"{spec!r} is on several machines; say which: {', '.join(m + '/' + tag for m in machines)}"
        )
    return matching[-1]


@dataclass
class Comparison:
    name: str
    base: Bench
    other: Bench
    ratio: float  # mean(other) / mean(base): above 1 means slower
    ci: tuple[float, float] | None
    p_value: float | None  # Mann-Whitney U: decides the verdict
    welch_p: float | None  # Welch's t-test, shown beside it
    verdict: str


def compare_benches(base: Bench, other: Bench, threshold: float = THRESHOLD) -> Comparison:
    ratio = other.mean / base.mean
    if min(len(base.values), len(other.values)) < MIN_VALUES:
        return Comparison(
            base.name, base, other, ratio, None, None, None, f"not tested (< {MIN_VALUES} values a side)"
        )
    ci = stats.bootstrap_ratio_ci(base.values, other.values)
    _, p_value = stats.mann_whitney_u(base.values, other.values)
    _, _, welch_p = stats.welch_t_test(base.values, other.values)
    verdict = "same"
    if p_value < ALPHA and ratio > 1 + threshold:
        verdict = "REGRESSION"
    elif p_value < ALPHA and ratio < 1 - threshold:
        verdict = "improvement"
    elif abs(ratio - 1) > threshold:
        verdict = "not significant"
    return Comparison(base.name, base, other, ratio, ci, p_value, welch_p, verdict)


def compare_runs(base: Run, other: Run, threshold: float = THRESHOLD) -> tuple[list[Comparison], list[str]]:
    """Comparisons of the benches both runs have, and lines for those only one side has."""
    common = [name for name in base.benches if name in other.benches]
    notes = [f"only in {base.label}: {name}" for name in base.benches if name not in other.benches]
    notes += [f"only in {other.label}: {name}" for name in other.benches if name not in base.benches]
    return [compare_benches(base.benches[n], other.benches[n], threshold) for n in common], notes


def format_time(seconds: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale or unit == "us":
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds:.3g} s"


def format_ci(ci: tuple[float, float] | None) -> str:
    return "n/a" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def format_p(p: float | None) -> str:
    if p is None:
        return "n/a"
    return f"{p:.2g}" if p >= 1e-4 or p == 0 else f"{p:.1e}"


def comparison_table(base: Run, other: Run, comparisons: list[Comparison], markdown: bool) -> list[str]:
    header = ["bench", base.label, other.label, "ratio", "95% CI", "p (MWU)", "p (Welch)", "n", "verdict"]
    rows = [
        [
            c.name,
            format_time(c.base.mean),
            format_time(c.other.mean),
            f"{c.ratio:.3f}",
            format_ci(c.ci),
            format_p(c.p_value),
            format_p(c.welch_p),
            f"{len(c.base.values)}/{len(c.other.values)}",
            c.verdict,
        ]
        for c in comparisons
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(str(cell).ljust(w) for cell, w in zip(r, widths, strict=True)) for r in [header, *rows]]


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan
