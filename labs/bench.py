"""The benchmark matrix on this runtime: plan, run each bench in its own pyperf subprocess, store the run.

Each bench runs as ``python -m labs.bench_worker`` (pyperf's manager and workers), so one bench that
fails, hangs or crashes is recorded with its reason while the run goes on, and Ctrl-C keeps every
bench already measured.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labs import lab, models, patterns, results, runtime, workloads
from labs.bench_worker import bench_name, startup_name
from labs.errors import UsageError

# pyperf settings per mode. The verification job before timing warms each measuring process, so
# quick and default need no extra warm-up; loops stay at 1 because every job already lasts >= 10 ms.
PYPERF_OPTIONS = {
    "quick": ["--worker", "--values", "2", "--warmups", "0", "--loops", "1"],  # one in-process run
    "default": ["--processes", "3", "--values", "3", "--warmups", "0", "--loops", "1"],
    "rigorous": ["--rigorous", "--warmups", "1"],
}
SIZE_OF_MODE = {"quick": "smoke", "default": "quick", "rigorous": "default"}
DEFAULT_BENCH_TIMEOUT = 900.0


@dataclass(frozen=True)
class BenchSpec:
    name: str
    model: str
    workers: int
    workload: str = "-"
    pattern: str = "n-workers"
    size: int = 0
    startup: bool = False

    def worker_args(self, machine: str, timeout: float) -> list[str]:
        args = ["--lab-model", self.model, "--lab-workers", str(self.workers), "--lab-machine", machine]
        if self.startup:
            return [*args, "--lab-startup"]
        return [
            *args,
            "--lab-workload",
            self.workload,
            "--lab-pattern",
            self.pattern,
            "--lab-size",
            str(self.size),
            "--lab-timeout",
            str(timeout),
        ]


def _names(values: Sequence[str] | None, valid: Sequence[str], what: str) -> list[str]:
    if not values:
        return list(valid)
    chosen = [name for value in values for name in value.split(",") if name]
    bad = [name for name in chosen if name not in valid]
    if bad:
        raise UsageError(f"unknown {what} {bad[0]!r}; valid: {', '.join(valid)}")
    return list(dict.fromkeys(chosen))


def default_worker_counts(usable: int) -> list[int]:
    """1, 2, 4, ... up to the usable CPUs, and the usable count itself."""
    counts, n = [], 1
    while n < usable:
        counts.append(n)
        n *= 2
    return [*counts, usable]


def plan(args: Any, mode: str) -> tuple[list[BenchSpec], list[str]]:
    """The benches to run, and lines saying what was left out and why."""
    chosen_workloads = [workloads.get(n) for n in _names(args.workload, workloads.NAMES, "workload")]
    if args.kind:
        chosen_workloads = [w for w in chosen_workloads if w.kind == args.kind]
    chosen_models = _names(args.model, models.names(), "model")
    chosen_patterns = _names(args.pattern, patterns.NAMES, "pattern")
    usable = runtime.usable_cpus()
    notes = []
    if args.workers:
        counts = [
            lab.check_workers(lab.parse_int("workers", v)) for w in args.workers for v in w.split(",") if v
        ]
        pinned = [n for n in counts if n > usable]
        if pinned:
            notes.append(
                f"workers {pinned} exceed the {usable} usable CPU(s) here: clamped (no scaling "
                "curve is measured on fewer CPUs than workers)"
            )
            counts = [n for n in counts if n <= usable] or [usable]
    else:
        counts = default_worker_counts(usable)
    counts = sorted(set(counts))
    runnable = []
    for name in chosen_models:
        why = models.get(name).unavailable_reason()
        if why:
            notes.append(f"model {name} skipped: {why}")
        else:
            runnable.append(name)
    specs: list[BenchSpec] = []
    for workload in chosen_workloads:
        size = workload.sizes[SIZE_OF_MODE[mode]]
        for model in runnable:
            if model == "serial":
                # The serial reference has one worker and one way to run.
                specs.append(
                    BenchSpec(
                        bench_name(workload.name, model, "n-workers", 1),
                        model,
                        1,
                        workload.name,
                        "n-workers",
                        size,
                    )
                )
                continue
            for pattern in chosen_patterns:
                # Outside --rigorous, the full worker sweep is for n-workers; other patterns at the top count.
                sweep = counts if (pattern == "n-workers" or mode == "rigorous") else counts[-1:]
                if mode == "quick":
                    sweep = counts[-1:]
                for workers in sweep:
                    specs.append(
                        BenchSpec(
                            bench_name(workload.name, model, pattern, workers),
                            model,
                            workers,
                            workload.name,
                            pattern,
                            size,
                        )
                    )
    if not args.no_startup:
        for model in runnable:
            if model != "serial":
                for workers in dict.fromkeys((1, counts[-1])):
                    specs.append(BenchSpec(startup_name(model, workers), model, workers, startup=True))
    return specs, notes


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _last_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR:")]
    if errors:
        return errors[-1].removeprefix("ERROR:").strip()
    return lines[-1] if lines else "no output"


def run_one(
    spec: BenchSpec, mode: str, machine: str, timeout: float, workdir: Path
) -> tuple[dict | None, str]:
    """(pyperf benchmark JSON, "") on success, else (None, reason)."""
    output = workdir / f"{len(list(workdir.iterdir()))}.json"
    command = [
        sys.executable,
        "-m",
        "labs.bench_worker",
        *spec.worker_args(machine, timeout),
        *PYPERF_OPTIONS[mode],
        "--quiet",
        "-o",
        str(output),
    ]
    inherit = [name for name in ("LD_LIBRARY_PATH",) if name in os.environ]
    if inherit:
        command.append(f"--inherit-environ={','.join(inherit)}")
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return None, f"timed out after {timeout:g} s"
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    if process.returncode != 0 or not output.exists():
        return None, f"exit code {process.returncode}: {_last_error(stderr)}"
    data = json.loads(output.read_text())
    return data, ""


def _summary(benchmark: dict) -> str:
    values = [v for run in benchmark.get("runs", []) for v in run.get("values", [])]
    if not values:
        return "no values"
    mean = sum(values) / len(values)
    return f"{mean * 1e3:.2f} ms mean of {len(values)}"


def run(args: Any) -> int:
    if args.quick and args.rigorous:
        raise UsageError("--quick and --rigorous exclude each other; choose one")
    mode = "quick" if args.quick else "rigorous" if args.rigorous else "default"
    timeout = float(lab.parse_positive_int("bench timeout", args.bench_timeout))
    root = results.check_writable(Path(args.results))
    specs, notes = plan(args, mode)
    for note in notes:
        print(f"note: {note}")
    if not specs:
        raise UsageError("the selection matches no bench")
    facts = runtime.facts()
    machine = results.machine_id()
    print(
        f"bench: {len(specs)} benches on Python {facts['version']} ({facts['tag']}), mode {mode}, "
        f"machine {machine}"
    )
    if args.dry_run:
        for spec in specs:
            print(f"  {spec.name}")
        return 0
    record: dict[str, Any] = {
        "machine": machine,
        "started": results.utc_stamp(),
        "mode": mode,
        "pyperf_options": PYPERF_OPTIONS[mode],
        "runtime": facts,
        "planned": len(specs),
        "notes": notes,
        "failed": [],
        "interrupted": False,
    }
    benchmarks: list[dict] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="labs-bench-") as workdir:
        try:
            for index, spec in enumerate(specs, 1):
                data, reason = run_one(spec, mode, machine, timeout, Path(workdir))
                if data is None:
                    record["failed"].append({"name": spec.name, "reason": reason})
                    outcome = f"FAILED: {reason}"
                else:
                    benchmarks.extend(_merge_file_metadata(data))
                    outcome = _summary(data["benchmarks"][0])
                elapsed = time.monotonic() - start
                eta = elapsed / index * (len(specs) - index)
                print(
                    f"[{index}/{len(specs)}] {spec.name}: {outcome}  ({_duration(elapsed)} elapsed, "
                    f"ETA {_duration(eta)})",
                    flush=True,
                )
        except KeyboardInterrupt:
            record["interrupted"] = True
            print(f"interrupted: keeping the {len(benchmarks)} benches measured so far", flush=True)
    record["finished"] = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    record["seconds"] = round(time.monotonic() - start, 1)
    suite = {"version": "1.0", "benchmarks": benchmarks}
    path = results.save_run(root, facts["tag"], suite, record)
    print(f"saved {len(benchmarks)} benches ({len(record['failed'])} failed) to {path}")
    for failure in record["failed"]:
        print(f"  failed {failure['name']}: {failure['reason']}")
    if record["interrupted"]:
        return 130
    return 1 if record["failed"] else 0


def _merge_file_metadata(data: dict) -> list[dict]:
    """A bench worker's file keeps the metadata common to all its runs at the top level; move it into
    each benchmark so that benches merged from many files keep all of theirs."""
    common = data.get("metadata", {})
    return [{**bench, "metadata": {**common, **bench.get("metadata", {})}} for bench in data["benchmarks"]]
