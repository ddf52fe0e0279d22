"""The bench driver: plan the matrix on this runtime, run each bench in its own pyperf subprocess, store.

Each bench runs as ``python -m <spec.module>`` (pyperf's manager and workers) in its own process group,
so one bench that fails, hangs or crashes is recorded with its reason while the run goes on. Every
bench is journaled the moment it ends (``labs.store.journal``); SIGINT, SIGTERM and SIGHUP end the run
with what was measured saved, and the bench's process group is killed on every way out.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime
import math
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from labs import models
from labs.core import limits, runtime
from labs.core import machine as machine_facts
from labs.core.errors import Interrupted, RunError, UsageError
from labs.measure import bench, fingerprint, together, turns
from labs.measure.costs import ladder, memory, races, transfer
from labs.plan.key import BenchKey
from labs.plan.matrix import BenchSpec, Plan, plan
from labs.plan.selection import Selection
from labs.store import journal, runs, schema, source

WORKDIR_PREFIX = "labs-bench-"


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)


class RuntimeAvailability:
    """What the running interpreter can do, asked of the real registries (the planner's input)."""

    def __init__(self) -> None:
        self.usable_cpus = runtime.usable_cpus()

    def model(self, name: str) -> str | None:
        return models.get(name).unavailable_reason()

    def carrier(self, name: str, size: int) -> str | None:
        try:
            limits.check_memory(size)
        except UsageError as exc:
            return str(exc)
        return transfer.CARRIERS.get(name).unavailable_reason(size)

    def memory(self) -> str | None:
        return memory.unavailable_reason()

    def rung(self, name: str) -> str | None:
        return ladder.RUNGS.get(name).unavailable_reason()

    def carriers(self) -> Mapping[str, str]:
        return {name: transfer.CARRIERS.get(name).family for name in transfer.CARRIERS.names()}

    def rungs(self) -> Sequence[str]:
        return ladder.RUNGS.names()

    def race_strategies(self) -> tuple[Sequence[str], Sequence[str]]:
        return tuple(races.STRATEGIES), tuple(races.ASYNC_STRATEGIES)

    def transfer_sizes(self, quick: bool) -> Sequence[int]:
        return transfer.QUICK_SIZES if quick else transfer.DEFAULT_SIZES


def _sweep_stale_workdirs() -> None:
    """Remove work folders of earlier drivers that were killed (SIGKILL runs no clean-up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        match = re.match(rf"{WORKDIR_PREFIX}(\d+)-", folder.name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            shutil.rmtree(folder, ignore_errors=True)


_SESSION = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def session_id() -> str:
    """The session this run belongs to: the one ``nox -s bench`` names for all its runtimes (LABS_SESSION),
    else a session of its own. Runs of one session were measured together and share one host."""
    named = os.environ.get("LABS_SESSION")
    if named is None:
        return f"{runs.utc_stamp()}-{os.getpid()}"
    if not _SESSION.fullmatch(named):
        raise UsageError(
            f"LABS_SESSION={named[:40]!r} is not a session id; "
            "valid: 1 to 64 letters, digits, '.', '_', ':' or '-'"
        )
    return named


def _new_record(selection: Selection, the_plan: Plan, machine: str, session: str) -> dict[str, Any]:
    return {
        "machine": machine,
        "session": session,
        "started": runs.utc_stamp(),
        "mode": selection.mode,
        "precision": dataclasses.asdict(bench.PRECISION[selection.mode]),
        "runtime": runtime.facts(),
        "source": source.describe(),  # the lab's commit, and whether the code that ran differs from it
        "selection": dataclasses.asdict(selection),
        "planned": sum(len(spec.keys) for spec in the_plan.specs),  # benches: a group counts its arms
        "notes": list(the_plan.notes),
        # Where the I/O workloads' HTTP server runs (io.local_server): a host, not the runtime under test.
        "http_server_python": os.environ.get("LABS_SERVER_PYTHON", sys.executable),
        "failed": [],
        "interrupted": False,
        # The matrix runtimes this machine lacks, and why: the report says so where a comparison needs one
        # (3.14t beside 3.13t, say), instead of leaving a silent gap.
        "runtimes_missing": _missing_runtimes(),
    }


def _missing_runtimes() -> dict[str, str]:
    from labs.plan import discovery

    try:
        return discovery.discover()[1]
    except Exception as exc:  # a broken interpreter somewhere must not stop a bench
        return {"?": f"discovery failed: {type(exc).__name__}"}


def _resume(path: str) -> tuple[Selection, journal.Recovered]:
    recovered = journal.recover(Path(path))
    here, there = runtime.tag(), recovered.record["runtime"].get("tag")
    if there != here:
        raise UsageError(f"cannot resume a {there} run on {here}: run it with the interpreter it started on")
    return Selection.stored(recovered.record.get("selection")), recovered


def run(args: argparse.Namespace) -> int:
    """``labs bench``: exit 0 when every bench was measured, 1 if any failed, 130 when interrupted."""
    resume = getattr(args, "resume", None)
    results = runs.results_root(args.results)
    _sweep_stale_workdirs()  # first, so that a refused or resumed run sweeps too
    selection, recovered = _resume(resume) if resume else (Selection.from_args(args), None)
    the_plan = plan(selection, RuntimeAvailability())
    done = {_planned_key(b) for b in recovered.benchmarks} if recovered else set()
    specs = [spec for spec in the_plan.specs if spec.key not in done]  # a group is stored whole
    for note in the_plan.notes:
        print(f"note: {note}")
    if not specs and not recovered:
        raise UsageError("the selection matches no bench")
    machine = runs.machine_id()
    session = recovered.record.get("session") if recovered else None
    session = session if isinstance(session, str) else session_id()
    print(
        f"bench: {len(specs)} benches on Python {runtime.facts()['version']} ({runtime.tag()}), "
        f"mode {selection.mode}, machine {machine}" + (f", resuming {len(done)} measured" if done else "")
    )
    if args.dry_run:  # writes nothing, not even the results directory
        for spec in specs:
            print(f"  {spec.name}")
            for key in spec.arms:
                print(f"    {key.name}")
        return 0
    root = runs.check_writable(results)
    gate = together.Gate(getattr(args, "turns", None))  # runtimes side by side: wait for each turn
    record = _new_record(selection, the_plan, machine, session)
    if gate.alternating is not None:
        record["alternating"] = gate.alternating  # its "turns" list fills in as the run goes
    record["host"] = {"static": machine_facts.static_facts()}
    record["host"]["static_id"] = machine_facts.static_id(record["host"]["static"])
    fingerprinted = not getattr(args, "no_fingerprint", False)
    record["fingerprint"] = {"start": None}
    if fingerprinted:
        with gate.turn():
            record["fingerprint"]["start"] = fingerprint.take()
    if recovered:
        record["resumed_from"] = Path(resume).name
    log = journal.Journal.start(root / machine / runtime.tag(), record)
    if recovered:
        log.add(recovered.benchmarks, recovered.version)
    where = f"{log.path} (if this run is killed: labs bench --resume <journal>)" if log.path else "none"
    print(f"journal: {where}" + (f"; note: {log.problem}" if log.problem else ""))
    # the end fingerprint is taken under the run's stop handlers: a signal then skips it and saves
    at_end = (lambda record: _in_turn(gate, _close_fingerprint, record)) if fingerprinted else None
    _measure(specs, selection, machine, log, at_end=at_end, gate=gate)
    return _finish(log, root, resume if recovered else None)


def _in_turn(gate: together.Gate, action: Callable[[dict[str, Any]], None], record: dict[str, Any]) -> None:
    with gate.turn():
        action(record)


def _close_fingerprint(record: dict[str, Any]) -> None:
    """The end fingerprint, and whether the host's speed moved while the run was measured."""
    start, end = record["fingerprint"]["start"], fingerprint.take()
    record["fingerprint"]["end"] = end
    found = machine_facts.ratios(start, end) if start and end else None
    if found:
        drift = max(abs(ratio - 1.0) for ratio in found.values())
        record["fingerprint"].update(drift=round(drift, 4), disturbed=drift > machine_facts.THRESHOLD)
        if drift > machine_facts.THRESHOLD:
            print(f"note: the machine's speed moved {drift:.0%} during the run: it is marked disturbed")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _planned_key(benchmark: dict[str, Any]) -> BenchKey | None:
    """The key the planner gave the bench that stored *benchmark* (a memory bench stores one benchmark
    per metric under one planned key)."""
    try:
        key = BenchKey.from_metadata(benchmark.get("metadata", {}))
    except ValueError:
        return None
    return BenchKey("memory", model=key.model, workers=key.workers) if key.suite == "memory" else key


def _measure(
    specs: Sequence[BenchSpec],
    selection: Selection,
    machine: str,
    log: journal.Journal,
    at_end: Callable[[dict[str, Any]], None] | None = None,
    gate: together.Gate | None = None,
) -> None:
    """Run every bench, journaling each as it ends, neighbouring benches taking turns process by process
    (labs.measure.turns); a stop signal ends the run with what was measured."""
    previous = {signum: signal.signal(signum, _interrupt) for signum in STOP_SIGNALS}
    start = time.monotonic()
    budget_end = start + selection.budget_minutes * 60 if selection.budget_minutes else math.inf
    # One process a bench (--quick) has nothing to interleave: its benches run one after the other.
    size = turns.INTERLEAVE if bench.PRECISION[selection.mode].max_processes > 1 else 1
    seed = int.from_bytes(os.urandom(4), "big")
    log.record["interleave"] = {"benches": size, "seed": seed}
    last_tier = max((spec.tier for spec in specs), default=0)
    taking_turns = turns.Turns(selection, machine, log, budget_end, seed, len(specs), gate, last_tier)
    try:
        with tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-") as workdir:
            for batch in turns.batches(specs, size):
                taking_turns.measure(batch, Path(workdir))
        if at_end is not None:
            at_end(log.record)
    except Interrupted as stop:
        taking_turns.end_all("interrupted")
        log.record.update(interrupted=True, interrupted_by=str(stop))
        print(f"interrupted by {stop}: keeping the {len(log.benchmarks)} benches measured so far", flush=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        log.record["finished"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        log.record["seconds"] = round(time.monotonic() - start, 1)


def summary_lines(benchmarks: list[dict[str, Any]], record: dict[str, Any]) -> list[str]:
    """What the run measured and how precisely, in three lines: counts, precision reached, why benches
    stopped (paired baselines are counted with their benches)."""
    measured = [
        b.get("metadata", {}) for b in benchmarks if "@" not in str(b.get("metadata", {}).get("name"))
    ]
    metas = [(schema.Meta.of(m), str(m.get("name"))) for m in measured]
    reached = sorted(
        (meta.precision_reached, name) for meta, name in metas if isinstance(meta.precision_reached, float)
    )
    stops = collections.Counter(meta.stop or "not adaptive" for meta, _ in metas)
    lines = [
        f"summary: {len(measured)} benches measured, {len(record['failed'])} failed, "
        f"{len(record.get('skipped', []))} skipped (the budget ran out before them)"
    ]
    if reached:
        worst, name = reached[-1]
        lines.append(
            f"  precision (95% half-width): median ±{statistics.median(r for r, _ in reached):.1%}, "
            f"worst ±{worst:.1%} ({name})"
        )
    if stops:
        lines.append("  stopped by: " + ", ".join(f"{why} {count}" for why, count in sorted(stops.items())))
    return lines


def _finish(log: journal.Journal, root: Path, resumed_journal: str | None) -> int:
    """Save the run (a second Ctrl-C must not tear the save: stop signals wait until it is done)."""
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in STOP_SIGNALS}
    try:
        path, note = log.finish(root)
    except (OSError, UsageError) as exc:
        kept = f"the journal {log.path} keeps them" if log.path else "they are lost"
        raise RunError(
            f"could not save the run anywhere ({exc}); {len(log.benchmarks)} benches: {kept}"
        ) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if note:
        print(f"note: {note}")
    if log.problem:
        print(f"note: {log.problem}")
    record = log.record
    for line in summary_lines(log.benchmarks, record):
        print(line)
    print(f"saved {len(log.benchmarks)} benches ({len(record['failed'])} failed) to {path}")
    if resumed_journal and resumed_journal.endswith(journal.SUFFIX):
        Path(resumed_journal).unlink(missing_ok=True)  # everything it held is in the new file
    for failure in record["failed"]:
        print(f"  failed {failure['name']}: {failure['reason']}")
    if record["interrupted"]:
        return 128 + signal.Signals[record["interrupted_by"]].value
    # a run filed away from where it was asked for is not a clean success: scripts must notice, and
    # a person reading stderr alone must too
    failures = [f"{len(record['failed'])} benches failed"] if record["failed"] else []
    failures += [f"the run was saved to {path}, not to the results directory"] if note else []
    if failures:
        print(f"ERROR: {'; '.join(failures)} (see above)", file=sys.stderr)
        return 1
    return 0
