"""Read stored runs as typed views, and choose which runs compare. Reads only results/ JSON, so any run
can be re-analysed later and on another machine."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from labs.analyse import stats
from labs.core.errors import UsageError
from labs.plan.key import BenchKey
from labs.store import runs as results
from labs.store import upgrade
from labs.store.schema import Meta


@dataclass
class Bench:
    """One stored bench. ``processes`` holds the values of each pyperf worker process apart: the
    process is the sample (labs.analyse.estimates); ``values`` pools them for display only."""

    name: str
    values: list[float]
    metadata: dict[str, Any]
    runs_metadata: list[dict[str, Any]] = field(default_factory=list)  # what differs between pyperf runs
    processes: list[list[float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.processes and self.values:
            self.processes = [list(self.values)]  # built from pooled values alone: one process

    @cached_property
    def meta(self) -> Meta:
        """The bench's ``lab_*`` metadata, typed (labs.store.schema)."""
        return Meta.of(self.metadata)

    @cached_property
    def run_metas(self) -> list[Meta]:
        """Each measured run's ``lab_*`` metadata, typed: the run's own, else the bench's."""
        return [Meta.of({**self.metadata, **m}) for m in self.runs_metadata]

    def each_run[T](self, read: Callable[[Meta], T | None]) -> list[T]:
        """What *read* finds in every measured run (``bench.each_run(lambda m: m.lost)``), None left out."""
        return [value for m in self.run_metas if (value := read(m)) is not None]

    @property
    def process_means(self) -> list[float]:
        return [stats.mean(values) for values in self.processes]

    @property
    def mean(self) -> float:
        """The mean of the process means (each process weighs the same, however many values it has)."""
        return stats.mean(self.process_means)

    @property
    def shape(self) -> str:
        """n as "processes x values a process": "3x3", or "3x2-3" when processes differ."""
        counts = sorted({len(values) for values in self.processes})
        per = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        return f"{len(self.processes)}x{per}"

    @cached_property
    def key(self) -> BenchKey | None:
        """The bench's typed identity, None for a bench that is not the lab's (a plain pyperf file).
        Decoded once: matching and baseline look-ups ask for it for every bench of a run."""
        try:
            return BenchKey.from_metadata(self.metadata)
        except ValueError:
            return None


@dataclass(eq=False)  # a run is itself: hashable by identity, so it can key a dict
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

    @property
    def mode(self) -> str:
        return str(self.record.get("mode", "?"))

    @property
    def by_key(self) -> dict[BenchKey, Bench]:
        return {key: bench for bench in self.benches.values() if (key := bench.key) is not None}

    @property
    def suites(self) -> frozenset[str]:
        """The suites this run measured: the record's own list when it has one, else its benches' keys."""
        listed = self.record.get("suites")
        if isinstance(listed, list) and all(isinstance(s, str) for s in listed):
            return frozenset(listed)
        return frozenset(key.suite for key in self.by_key)

    @property
    def kind(self) -> tuple[str, frozenset[str]]:
        """(mode, suites): two runs compare bench for bench only when these agree."""
        return self.mode, self.suites


def parse_run(path: Path, data: dict[str, Any]) -> Run:
    """A typed view of one validated stored run (labs.store.runs.load_run checked its shape), its
    metadata in the current schema whatever version stored it."""
    data = upgrade.run(data)
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
        processes = [list(r["values"]) for r in measured]
        name = metadata.get("name")
        if name and processes:
            values = [v for p in processes for v in p]
            run.benches[name] = Bench(
                name, values, metadata, [r.get("metadata", {}) for r in measured], processes
            )
    return run


def load(root: Path) -> tuple[list[Run], list[str]]:
    """Every valid run under *root* (oldest first), and one line per file left out and why."""
    loaded, problems = results.load_all(root)
    runs = [parse_run(path, data) for path, data in loaded]
    return sorted(runs, key=lambda r: (r.machine, r.tag, r.started)), problems


def _load_file(spec: str) -> Run:
    path = Path(spec)
    if not path.exists():
        raise UsageError(f"no such results file: {spec}")
    try:
        return parse_run(path, results.load_run(path))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _runs_of(spec: str, runs: list[Run]) -> list[Run]:
    """Every run a tag or MACHINE/TAG names (oldest first); UsageError when none or ambiguous."""
    machine, _, tag = spec.rpartition("/")
    matching = [r for r in runs if r.tag == tag and (not machine or r.machine == machine) and r.benches]
    if not matching:
        tags = sorted({r.tag for r in runs})
        raise UsageError(f"no stored run for {spec!r}; runtimes with results: {', '.join(tags) or 'none'}")
    if len({r.machine for r in matching}) > 1:
        machines = sorted({r.machine for r in matching})
        raise UsageError(
            f"{spec!r} is on several machines; say which: {', '.join(m + '/' + tag for m in machines)}"
        )
    return sorted(matching, key=lambda r: r.started)


def resolve(spec: str, runs: list[Run]) -> Run:
    """A run named by a file path, a runtime tag (its latest run), or MACHINE/TAG.

    Alone, a tag means its newest run whatever it measured; ``resolve_all`` picks runs that compare."""
    if Path(spec).suffix == ".json":
        return _load_file(spec)
    return _runs_of(spec, runs)[-1]


def _describe(kind: tuple[str, frozenset[str]]) -> str:
    return f"{kind[0]} {'+'.join(sorted(kind[1])) or 'no benches'}"


def resolve_all(specs: list[str], runs: list[Run]) -> list[Run]:
    """The runs that *specs* name, chosen so that they compare: the same mode and the same suites.

    A file path names one run. A tag (or MACHINE/TAG) names the newest of its runs whose (mode, suites)
    every other spec also has; among the kinds all specs share, the one whose oldest chosen run is the
    newest wins. Resolving each tag to its newest run alone would pit a --quick run against a costs
    run, where nothing is comparable. UsageError listing what each side has when no kind is shared.
    """
    candidates: list[list[Run]] = [
        [_load_file(spec)] if Path(spec).suffix == ".json" else _runs_of(spec, runs) for spec in specs
    ]
    shared = set.intersection(*({r.kind for r in found} for found in candidates))
    if not shared:
        sides = "; ".join(
            f"{spec}: {', '.join(sorted({_describe(r.kind) for r in found}))}"
            for spec, found in zip(specs, candidates, strict=True)
        )
        raise UsageError(f"no runs of the same mode and suites to compare ({sides})")

    def newest_of(kind: tuple[str, frozenset[str]]) -> list[Run]:
        return [[r for r in found if r.kind == kind][-1] for found in candidates]

    choices = [newest_of(kind) for kind in sorted(shared, key=_describe)]
    return max(choices, key=lambda chosen: (min(r.started for r in chosen), max(r.started for r in chosen)))
