"""MachineView: the runs of one machine that the report uses, chosen once and looked up by BenchKey.

Sections never parse bench names or runtime tags: a bench is found by its ``BenchKey`` (decoded from
stored metadata, old runs included), a runtime is a ``RuntimeTag``. The view holds one mode only: a
quick run's smaller jobs never merge into a default view, and what was not used is said in "Left out".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from labs.analyse import compare, hosts
from labs.analyse import estimates as analysed
from labs.analyse import noise as noise_profile
from labs.analyse.estimates import Estimate
from labs.analyse.runs import Bench, Run
from labs.compat import store as compat_store
from labs.core.tag import RuntimeTag
from labs.plan.key import BenchKey
from labs.report import estimates
from labs.store import source

MODE_RANK = {"quick": 0, "default": 1, "rigorous": 2}
MODEL_ORDER = (
    "serial",
    "threads",
    "asyncio",
    "processes-fork",
    "processes-spawn",
    "processes-forkserver",
    "interpreters-pool",
    "interpreters-raw",
)
# The report's suites: the matrix splits by workload kind, because CPU and I/O benches answer different
# questions and are produced by different commands. Value: how to produce the suite's data.
REPORT_SUITES = {
    "cpu": "nox -s bench -- --kind cpu",
    "io": "nox -s bench -- --kind io",
    "capacity": "nox -s bench -- --kind io",
    "startup": "nox -s bench",
    "transfer": "nox -s bench -- --suite costs",
    "memory": "nox -s bench -- --suite costs",
    "ladder": "nox -s bench -- --suite costs",
    "race": "nox -s bench -- --suite costs",
}


def model_rank(model: str) -> int:
    return MODEL_ORDER.index(model) if model in MODEL_ORDER else len(MODEL_ORDER)


def report_suite(key: BenchKey, bench: Bench) -> str:
    """The report suite of a bench: matrix benches split into "cpu" and "io" by their workload kind."""
    if key.suite == "matrix":
        return "io" if bench.meta.kind == "io" else "cpu"
    return key.suite


def run_mode(run: Run) -> str:
    return str(run.record.get("mode", "default"))


def serial_key(workload: str) -> BenchKey:
    """The key of a workload's serial baseline in the matrix."""
    return BenchKey("matrix", workload).serial_baseline()


GRAIN_PREFIX = "grain-"  # labs/workloads/grain.py's variants


@dataclass
class RuntimeView:
    """The benches of one runtime in the view's mode: the latest run's bench wins for each key."""

    tag: RuntimeTag
    mode: str
    record: dict[str, Any]  # the newest chosen run's record: runtime facts, pyperf options
    sources: list[str] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)  # the lab's code behind each source (labs.store.source)
    failed: list[Any] = field(default_factory=list)  # the failed benches every chosen run recorded
    benches: dict[BenchKey, Bench] = field(default_factory=dict)
    suites: dict[BenchKey, str] = field(default_factory=dict)
    session_of: dict[BenchKey, str] = field(default_factory=dict)  # benches alike here shared the drift
    _speedups: dict[BenchKey, Estimate | None] = field(default_factory=dict, repr=False)

    @property
    def facts(self) -> dict[str, Any]:
        return self.record.get("runtime", {})

    @property
    def version(self) -> str:
        return str(self.facts.get("version", "?"))

    @property
    def usable_cpus(self) -> int:
        return int(self.facts.get("usable_cpus") or self.facts.get("cpu_count") or 1)

    def in_suite(self, suite: str) -> dict[BenchKey, Bench]:
        return {k: b for k, b in self.benches.items() if self.suites[k] == suite}

    def matrix(self, kind: str = "cpu") -> Iterator[tuple[BenchKey, Bench]]:
        """Matrix benches of one kind, in model order, then pattern, then workers."""
        found = self.in_suite(kind)
        for key in sorted(found, key=lambda k: (k.workload, model_rank(k.model), k.pattern, k.workers)):
            yield key, found[key]

    def serial(self, workload: str) -> Bench | None:
        return self.benches.get(serial_key(workload))

    def speedup(self, key: BenchKey) -> Estimate | None:
        """A matrix bench's speedup over its serial baseline in this view; CPU-bound ones are checked
        against physics (I/O concurrency may exceed the CPUs). None without a comparable baseline."""
        if key not in self._speedups:
            # the baseline timed in the bench's own processes when there is one, else the run's serial
            bench = self.benches.get(key)
            serial = self.benches.get(key.paired_baseline()) or self.benches.get(key.serial_baseline())
            found = None
            if bench is not None and serial is not None and estimates.comparable(serial, bench):
                found = analysed.speedup(serial, bench)
                if self.suites[key] == "cpu":
                    found = estimates.check_physics(found, key.workers, self.usable_cpus)
                if found.usable and bench.meta.suspect:  # flagged when it was measured
                    found = replace(found, suspect=bench.meta.suspect)
            self._speedups[key] = found
        return self._speedups[key]

    def curves(self, workload: str, model: str, pattern: str = "n-workers") -> dict[int, dict[int, Estimate]]:
        """Tasks a job -> (workers -> speedup) of one (workload, model, pattern), CPU-bound or I/O: one
        curve per job size, since jobs of different sizes are different questions."""
        found: dict[int, dict[int, Estimate]] = {}
        for key, bench in self.benches.items():
            if (key.suite, key.workload, key.model, key.pattern) == ("matrix", workload, model, pattern):
                estimate = self.speedup(key)
                if estimate is not None:
                    found.setdefault(bench.meta.tasks or 0, {})[key.workers] = estimate
        return {size: dict(sorted(points.items())) for size, points in sorted(found.items())}

    def job_size(self, workload: str, model: str, pattern: str = "n-workers") -> int | None:
        """The job size a curve is drawn at: the one with the most worker counts, the larger on a tie."""
        curves = self.curves(workload, model, pattern)
        return max(curves, key=lambda size: (len(curves[size]), size)) if curves else None

    def curve(self, workload: str, model: str, pattern: str = "n-workers") -> dict[int, Estimate]:
        """workers -> speedup at one job size (``job_size``): a curve, a fit or a recommendation never
        mixes jobs of different sizes."""
        size = self.job_size(workload, model, pattern)
        return self.curves(workload, model, pattern)[size] if size is not None else {}

    def split_curves(self, workload: str, model: str, pattern: str = "n-workers") -> list[str]:
        """One line for each job size left out of the curve: what was measured at it."""
        curves, size = self.curves(workload, model, pattern), self.job_size(workload, model, pattern)
        return [
            f"{self.tag} {workload}/{model}: w{', w'.join(map(str, points))} measured with {other} tasks a "
            f"job, left out of its {size}-task curve (one job size a curve)"
            for other, points in curves.items()
            if other != size
        ]

    def models(self, workload: str, kind: str = "cpu") -> list[str]:
        """Models with a bench of *workload*, serial excluded, in model order."""
        return list(
            dict.fromkeys(
                k.model for k, _ in self.matrix(kind) if k.workload == workload and k.model != "serial"
            )
        )


@dataclass
class MachineView:
    machine: str
    mode: str
    runtimes: dict[RuntimeTag, RuntimeView]
    all_runs: list[Run]  # every stored run of the machine, for the history listing
    left_out: list[str]
    compat: list[dict[str, Any]] = field(default_factory=list)  # results/<machine>/compat/, oldest first
    host_of: dict[Run, hosts.Host] = field(default_factory=dict)  # the host each run ran on
    host: hosts.Host | None = None  # the one host this report's numbers come from
    normalized: list[str] = field(default_factory=list)  # runs of another speed class, scaled (--normalize)
    session: str | None = None  # the one session this view reads; None: every session merged
    noise: noise_profile.Profile = noise_profile.DEFAULT  # the host's between-run drift

    def across(self, found: Estimate, *sides: tuple[RuntimeView, BenchKey]) -> Estimate:
        """*found*, a ratio of the benches named by *sides*, widened by the host's between-run drift
        when they were measured in different sessions (labs.analyse.noise)."""
        if len({runtime.session_of.get(key) for runtime, key in sides}) == 1:
            return found
        return noise_profile.widened(found, self.noise.time)

    @property
    def tags(self) -> list[RuntimeTag]:
        return list(self.runtimes)

    def workloads(self, kind: str = "cpu") -> list[str]:
        """The workloads a user picks a model for; the grain sweep (a cost, not a workload to run) is the
        scale-out section's alone."""
        found = {k.workload for rt in self.runtimes.values() for k, _ in rt.matrix(kind)}
        return sorted(w for w in found if not w.startswith(GRAIN_PREFIX))

    def worker_counts(self, kind: str = "cpu") -> list[int]:
        return sorted({k.workers for rt in self.runtimes.values() for k, _ in rt.matrix(kind)})

    def top_workers(self) -> int | None:
        """The largest CPU-bound worker count measured: where models are compared."""
        return max(self.worker_counts(), default=None)

    def twins(self) -> list[tuple[RuntimeTag, RuntimeTag]]:
        """(default build, free-threaded build) pairs of one version, both in the view."""
        return [
            (tag.default_twin, tag)
            for tag in self.runtimes
            if tag.free_threaded and not tag.gil_forced and tag.default_twin in self.runtimes
        ]

    def with_suite(self, suite: str) -> dict[RuntimeTag, dict[BenchKey, Bench]]:
        """Runtime -> benches of *suite*, for the runtimes that have any."""
        found = {tag: rt.in_suite(suite) for tag, rt in self.runtimes.items()}
        return {tag: benches for tag, benches in found.items() if benches}


def key_of(bench: Bench) -> BenchKey | None:
    """The bench's key, or None for a bench that is not the lab's (a plain pyperf benchmark)."""
    try:
        return BenchKey.from_metadata(bench.metadata)
    except ValueError:
        return None


def _keyed(run: Run) -> tuple[dict[BenchKey, Bench], list[str]]:
    benches, unknown = {}, []
    for name, bench in run.benches.items():
        try:
            benches[BenchKey.from_metadata(bench.metadata)] = bench
        except ValueError as exc:
            unknown.append(f"{run.tag}/{run.path.name}: {name}: {exc}")
    return benches, unknown


def build_view(
    machine: str, runs: list[Run], problems: list[str], normalize: bool = False, all_sessions: bool = False
) -> MachineView:
    """The view over *runs* of one machine: the newest complete session of the most thorough mode
    stored (its runtimes measured together, so nothing measured days apart is merged); with
    *all_sessions* or *normalize*, or when no session is complete, every session of that mode, the
    newest run's bench winning for each key. With *normalize*, a run whose host differs from the
    report's only by its speed fingerprint (same kernel and CPU: a co-tenant slowed the machine) is
    kept with its times divided by the ratio of the fingerprints, and named; speedups, timed within one
    run, do not change."""
    left_out = list(problems)
    measured = [r for r in runs if r.benches]
    left_out += [f"{r.tag}/{r.path.name}: no measured bench" for r in runs if not r.benches]
    valid = [r for r in measured if RuntimeTag.is_valid(r.tag)]
    left_out += [f"{r.tag}/{r.path.name}: not a runtime tag folder" for r in measured if r not in valid]
    mode = max((run_mode(r) for r in valid), key=lambda m: MODE_RANK.get(m, -1), default="default")
    # One host per report: the newest run's. Names do not identify hosts (labs.analyse.hosts).
    found = hosts.assign(runs)
    host = hosts.newest_host([r for r in valid if run_mode(r) == mode], found)
    on_this_host = [r for r in valid if run_mode(r) == mode and (not host or hosts.same_host(found[r], host))]
    # --normalize asks for other sessions' runs (scaled to this host), so it merges them too
    session = None if all_sessions or normalize else hosts.newest_complete_session(on_this_host)
    chosen = set(session) if session else None
    runtimes: dict[RuntimeTag, RuntimeView] = {}
    normalized: list[str] = []
    older: dict[str, list[str]] = {}  # other sessions of this mode and host: their runtimes
    for run in sorted(valid, key=lambda r: r.started):
        tag = RuntimeTag.parse(run.tag)
        if run_mode(run) != mode:
            left_out.append(f"{run.tag}/{run.path.name}: a {run_mode(run)} run; this report uses {mode} runs")
            continue
        kept, why = hosts.on_host(run, host, found, normalize)
        if kept is None:
            left_out.append(why)
            continue
        if chosen is not None and run not in chosen:
            older.setdefault(hosts.session_id(run), []).append(run.tag)
            continue
        if why:
            normalized.append(why)
        run = kept
        view = runtimes.setdefault(tag, RuntimeView(tag, mode, run.record))
        benches, unknown = _keyed(run)
        left_out += unknown
        view.record = run.record
        view.failed += run.record.get("failed", [])
        view.sources.append(f"{run.tag}/{run.path.name}")
        view.commits.append(source.label(run.record.get("source")))
        view.benches.update(benches)
        view.suites.update({key: report_suite(key, bench) for key, bench in benches.items()})
        view.session_of.update(dict.fromkeys(benches, _drift_group(run)))
    ordered = dict(sorted(runtimes.items()))
    left_out += _other_sessions(older, ordered, {RuntimeTag.parse(r.tag) for r in valid})
    # the probe's files sit beside the runtime folders: results/<machine>/compat/ (not runs)
    compat, refused = compat_store.load(runs[0].path.parent.parent) if runs else ([], [])
    return MachineView(
        machine, mode, ordered, runs, left_out + refused, compat, found, host, normalized,
        hosts.session_id(session[-1]) if session else None, noise_profile.learn(on_this_host),
    )  # fmt: skip


def _drift_group(run: Run) -> str:
    """Runs of one session whose processes alternated share the host's drift; any other run is apart."""
    return hosts.session_id(run) + ("" if compare.alternated(run) else f"/{run.path.name}")


def _other_sessions(
    older: dict[str, list[str]], runtimes: dict[RuntimeTag, RuntimeView], stored: set[RuntimeTag]
) -> list[str]:
    """A line per session left out (its runtimes), then what the view lacks: a runtime only older
    sessions measured is named by their lines, not as unmeasured."""
    lines = [
        f"session {name} ({', '.join(tags)}): not the newest complete session "
        "(`labs report --all-sessions` merges every session)"
        for name, tags in older.items()
    ]
    in_older = {RuntimeTag.parse(tag) for tags in older.values() for tag in tags}
    return lines + _missing(runtimes, stored - (in_older - set(runtimes)))


def _missing(runtimes: dict[RuntimeTag, RuntimeView], stored: set[RuntimeTag]) -> list[str]:
    """One line per runtime and report suite without data in the view."""
    lines = []
    for tag in sorted(stored):
        view = runtimes.get(tag)
        if view is None:
            lines.append(f"{tag}: every suite (no run in this report's mode)")
            continue
        present = set(view.suites.values())
        absent = [s for s in REPORT_SUITES if s not in present]
        lines += [f"{tag} / {suite}: no data (`{REPORT_SUITES[suite]}`)" for suite in absent]
    return lines
