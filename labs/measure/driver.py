"""The bench driver: plan the matrix on this runtime, run each bench in its own pyperf subprocess, store.

Each bench runs as ``python -m <spec.module>`` (pyperf's manager and workers) in its own process group,
so one bench that fails, hangs or crashes is recorded with its reason while the run goes on. Every
bench is journaled the moment it ends (``labs.store.journal``); SIGINT, SIGTERM and SIGHUP end the run
with what was measured saved, and the bench's process group is killed on every way out.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyperf

from labs import models
from labs.core import runtime
from labs.core.errors import RunError, UsageError
from labs.measure.costs import ladder, memory, races, transfer
from labs.measure.harness import read_outcome
from labs.plan.matrix import BenchSpec, Plan, plan
from labs.plan.selection import Selection
from labs.store import journal, runs

# pyperf settings per mode. The verification job before timing warms each measuring process, so
# quick and default need no extra warm-up; loops stay at 1 because every job already lasts >= 10 ms.
PYPERF_OPTIONS = {
    "quick": ["--worker", "--values", "2", "--warmups", "0", "--loops", "1"],  # one in-process run
    "default": ["--processes", "3", "--values", "3", "--warmups", "0", "--loops", "1"],
    "rigorous": ["--rigorous", "--warmups", "1"],
}
# Environment pyperf's workers need from the lab (pyperf passes on only a few variables by itself).
INHERITED = (
    "LD_LIBRARY_PATH",
    "LABS_SERVER_PYTHON",
    "LABS_HTTP_LATENCY_MS",
    "LABS_HTTP_PAYLOAD",
    "LABS_HTTP_TIMEOUT",
)
WORKDIR_PREFIX = "labs-bench-"


class Interrupted(KeyboardInterrupt):
    """The run was asked to stop (SIGINT, SIGTERM or SIGHUP): keep what was measured."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


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
            transfer.check_memory(size)
        except UsageError as exc:
            return str(exc)
        return transfer.CARRIERS.get(name).unavailable_reason(size)

    def memory(self) -> str | None:
        return memory.unavailable_reason()

    def rung(self, name: str) -> str | None:
        return ladder.RUNGS.get(name).unavailable_reason()

    def carriers(self) -> Sequence[str]:
        return transfer.CARRIERS.names()

    def rungs(self) -> Sequence[str]:
        return ladder.RUNGS.names()

    def race_strategies(self) -> tuple[Sequence[str], Sequence[str]]:
        return tuple(races.STRATEGIES), tuple(races.ASYNC_STRATEGIES)

    def transfer_sizes(self, quick: bool) -> Sequence[int]:
        return transfer.QUICK_SIZES if quick else transfer.DEFAULT_SIZES


def _last_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def _command(spec: BenchSpec, mode: str, machine: str, output: Path, outcome: Path) -> list[str]:
    pyperf_options = PYPERF_OPTIONS[mode] if spec.timed else ["--values", "3"]
    command = [sys.executable, "-m", spec.module, "--lab-key", spec.key.to_json(), *spec.options]
    command += ["--lab-machine", machine, "--lab-outcome", str(outcome), *pyperf_options]
    command += ["--quiet", "-o", str(output)]
    inherit = [name for name in INHERITED if name in os.environ]
    if inherit and spec.timed:
        command.append(f"--inherit-environ={','.join(inherit)}")
    return command


def run_one(
    spec: BenchSpec, mode: str, machine: str, timeout: float, workdir: Path
) -> tuple[list[dict[str, Any]], str]:
    """(the bench's pyperf benchmarks, their format version); RunError with the reason if it failed."""
    index = len(list(workdir.iterdir()))
    output, outcome = workdir / f"{index}.json", workdir / f"{index}.outcome"
    process = subprocess.Popen(
        _command(spec, mode, machine, output, outcome),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: killed whole on every way out
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RunError(f"timed out after {timeout:g} s") from None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever the bench left: pool workers, a server
        process.wait()
    reason = read_outcome(outcome)
    if process.returncode != 0 or not output.exists():
        raise RunError(f"exit code {process.returncode}: {reason or _last_line(stderr)}")
    try:
        pyperf.BenchmarkSuite.load(str(output))  # pyperf's own loader validates what its worker wrote
        data = json.loads(output.read_text())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunError(f"unreadable pyperf output: {exc}") from None
    common = data.get("metadata", {})
    # Metadata common to all of the file's benches moves into each, so that merged benches keep theirs.
    benches = [{**bench, "metadata": {**common, **bench.get("metadata", {})}} for bench in data["benchmarks"]]
    return benches, str(data.get("version", "1.0"))


def _summary(benchmark: dict[str, Any]) -> str:
    values = [v for run in benchmark.get("runs", []) for v in run.get("values", [])]
    if not values:
        return "no values"
    mean = sum(values) / len(values)
    if benchmark.get("metadata", {}).get("unit") == "byte":
        return f"{mean / (1 << 20):.2f} MiB mean of {len(values)}"
    return f"{_seconds(mean)} mean of {len(values)}"


def _seconds(value: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _sweep_stale_workdirs() -> None:
    """Remove work folders of earlier drivers that were killed (SIGKILL runs no clean-up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        match = re.match(rf"{WORKDIR_PREFIX}(\d+)-", folder.name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def _new_record(selection: Selection, the_plan: Plan, machine: str) -> dict[str, Any]:
    return {
        "machine": machine,
        "started": runs.utc_stamp(),
        "mode": selection.mode,
        "pyperf_options": PYPERF_OPTIONS[selection.mode],
        "runtime": runtime.facts(),
        "selection": dataclasses.asdict(selection),
        "planned": len(the_plan.specs),
        "notes": list(the_plan.notes),
        # Where the I/O workloads' HTTP server runs (io.local_server): a host, not the runtime under test.
        "http_server_python": os.environ.get("LABS_SERVER_PYTHON", sys.executable),
        "failed": [],
        "interrupted": False,
    }


def _selection_of(record: dict[str, Any]) -> Selection:
    """The selection an earlier run stored (lists back to tuples), for ``--resume``."""
    stored = record.get("selection")
    if not isinstance(stored, dict):
        raise UsageError(
            "cannot resume: the run does not say what it selected (made before --resume existed)"
        )
    fields = {f.name for f in dataclasses.fields(Selection)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in stored.items() if k in fields}
    return Selection(**values)


def _resume(path: str) -> tuple[Selection, journal.Recovered]:
    recovered = journal.recover(Path(path))
    here, there = runtime.tag(), recovered.record["runtime"].get("tag")
    if there != here:
        raise UsageError(f"cannot resume a {there} run on {here}: run it with the interpreter it started on")
    return _selection_of(recovered.record), recovered


def run(args: argparse.Namespace) -> int:
    """``labs bench``: exit 0 when every bench was measured, 1 if any failed, 130 when interrupted."""
    resume = getattr(args, "resume", None)
    selection, recovered = _resume(resume) if resume else (Selection.from_args(args), None)
    the_plan = plan(selection, RuntimeAvailability())
    done = {b.get("metadata", {}).get("name") for b in recovered.benchmarks} if recovered else set()
    specs = [spec for spec in the_plan.specs if spec.name not in done]
    for note in the_plan.notes:
        print(f"note: {note}")
    if not specs and not recovered:
        raise UsageError("the selection matches no bench")
    machine = runs.machine_id()
    print(
        f"bench: {len(specs)} benches on Python {runtime.facts()['version']} ({runtime.tag()}), "
        f"mode {selection.mode}, machine {machine}" + (f", resuming {len(done)} measured" if done else "")
    )
    if args.dry_run:  # writes nothing, not even the results directory
        for spec in specs:
            print(f"  {spec.name}")
        return 0
    root = runs.check_writable(Path(args.results))
    record = _new_record(selection, the_plan, machine)
    if recovered:
        record["resumed_from"] = Path(resume).name
    log = journal.Journal.start(root / machine / runtime.tag(), record)
    if recovered:
        log.add(recovered.benchmarks, recovered.version)
    print(f"journal: {log.path or log.problem} (if this run is killed: labs bench --resume <journal>)")
    _measure(specs, selection, machine, log)
    return _finish(log, root, resume if recovered else None)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _measure(specs: Sequence[BenchSpec], selection: Selection, machine: str, log: journal.Journal) -> None:
    """Run every bench in turn, journaling each; a stop signal ends the loop with what was measured."""
    previous = {signum: signal.signal(signum, _interrupt) for signum in STOP_SIGNALS}
    _sweep_stale_workdirs()
    start = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix=f"{WORKDIR_PREFIX}{os.getpid()}-") as workdir:
            for index, spec in enumerate(specs, 1):
                try:
                    benches, version = run_one(
                        spec, selection.mode, machine, selection.bench_timeout, Path(workdir)
                    )
                except RunError as exc:
                    log.fail(spec.name, str(exc))
                    outcome = f"FAILED: {exc}"
                else:
                    log.add(benches, version)
                    outcome = "; ".join(_summary(bench) for bench in benches)
                elapsed = time.monotonic() - start
                eta = elapsed / index * (len(specs) - index)
                print(
                    f"[{index}/{len(specs)}] {spec.name}: {outcome}  ({_duration(elapsed)} elapsed, "
                    f"ETA {_duration(eta)})",
                    flush=True,
                )
    except Interrupted as stop:
        log.record.update(interrupted=True, interrupted_by=str(stop))
        print(f"interrupted by {stop}: keeping the {len(log.benchmarks)} benches measured so far", flush=True)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        log.record["finished"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        log.record["seconds"] = round(time.monotonic() - start, 1)


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
    print(f"saved {len(log.benchmarks)} benches ({len(record['failed'])} failed) to {path}")
    if resumed_journal and resumed_journal.endswith(journal.SUFFIX):
        Path(resumed_journal).unlink(missing_ok=True)  # everything it held is in the new file
    for failure in record["failed"]:
        print(f"  failed {failure['name']}: {failure['reason']}")
    if record["interrupted"]:
        return 128 + signal.Signals[record["interrupted_by"]].value
    # a run filed away from where it was asked for is not a clean success: scripts must notice
    return 1 if record["failed"] or note else 0
