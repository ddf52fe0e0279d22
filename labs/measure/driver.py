"""The benchmark matrix on this runtime: plan, run each bench in its own pyperf subprocess, store the run.

Each bench runs as ``python -m labs.measure.job`` (pyperf's manager and workers), so one bench that
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

from labs import models, workloads
from labs.analyse.runs import format_time
from labs.core import lab, patterns, runtime
from labs.core.errors import UsageError
from labs.measure.job import bench_name, startup_name
from labs.store import runs as results

# pyperf settings per mode. The verification job before timing warms each measuring process, so
# quick and default need no extra warm-up; loops stay at 1 because every job already lasts >= 10 ms.
PYPERF_OPTIONS = {
    "quick": ["--worker", "--values", "2", "--warmups", "0", "--loops", "1"],  # one in-process run
    "default": ["--processes", "3", "--values", "3", "--warmups", "0", "--loops", "1"],
    "rigorous": ["--rigorous", "--warmups", "1"],
}
SIZE_OF_MODE = {"quick": "smoke", "default": "quick", "rigorous": "default"}


SUITES = ("matrix", "costs")
# Environment pyperf's workers need from the lab (pyperf passes on only a few variables by itself).
INHERITED = (
    "LD_LIBRARY_PATH",
    "LABS_SERVER_PYTHON",
    "LABS_HTTP_LATENCY_MS",
    "LABS_HTTP_PAYLOAD",
    "LABS_HTTP_TIMEOUT",
)


@dataclass(frozen=True)
class BenchSpec:
    """One bench: its name, the worker module that measures it, and that module's lab options."""

    name: str
    options: tuple[str, ...]
    module: str = "labs.measure.job"
    timed: bool = True  # False: the worker writes its own pyperf JSON (memory), without pyperf's timer


def job_spec(workload: str, model: str, pattern: str, workers: int, size: int, timeout: float) -> BenchSpec:
    options = (
        "--lab-workload",
        workload,
        "--lab-model",
        model,
        "--lab-pattern",
        pattern,
        "--lab-workers",
        str(workers),
        "--lab-size",
        str(size),
        "--lab-timeout",
        str(timeout),
    )
    return BenchSpec(bench_name(workload, model, pattern, workers), options)


def startup_spec(model: str, workers: int) -> BenchSpec:
    return BenchSpec(
        startup_name(model, workers), ("--lab-model", model, "--lab-workers", str(workers), "--lab-startup")
    )


def cost_spec(name: str, timed: bool = True, **options: object) -> BenchSpec:
    flat = tuple(item for key, value in options.items() for item in (f"--lab-{key}", str(value)))
    return BenchSpec(name, flat, "labs.measure.costs.job", timed)


def _names(values: Sequence[str] | None, valid: Sequence[str], what: str) -> list[str]:
    if not values:
        return list(valid)
    chosen = [name for value in values for name in value.split(",") if name]
    bad = [name for name in chosen if name not in valid]
    if bad:
        raise UsageError(f"unknown {what} {bad[0]!r}; valid: {', '.join(valid)}")
    return list(dict.fromkeys(chosen))


# I/O concurrency sweeps (light: threads and asyncio; heavy: processes and interpreters). download carries
# the full 1 .. 256 sweep; the other I/O workloads a short one; the mixed variants compare every model
# at one concurrency, where the crossover is read.
IO_SWEEP = {
    "download": {
        "quick": ([64], [4]),
        "default": ([1, 16, 256], [1, 16]),
        "rigorous": ([1, 4, 16, 64, 256], [1, 4, 16]),
    },
    "mixed": {"quick": ([8], [8]), "default": ([16], [16]), "rigorous": ([16, 64], [16])},
    "other": {"quick": ([16], [4]), "default": ([1, 16], [1, 4]), "rigorous": ([1, 4, 16, 64], [1, 4, 16])},
}


def io_counts(workload: str, model: str, mode: str, chosen: Sequence[str] | None) -> list[int]:
    if chosen:
        return sorted(
            {lab.check_workers(lab.parse_int("workers", v)) for w in chosen for v in w.split(",") if v}
        )
    family = "mixed" if workload.startswith("mixed-") else workload if workload in IO_SWEEP else "other"
    light, heavy = IO_SWEEP[family][mode]
    return light if model in ("threads", "asyncio") else heavy


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
    if "serial" not in chosen_models:
        chosen_models.insert(0, "serial")  # every speedup is against the serial bench of the same run
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
    suites = _names(args.suite, SUITES, "suite")
    timeout = float(args.bench_timeout)
    specs: list[BenchSpec] = []
    if "matrix" in suites:
        for workload in chosen_workloads:
            size = workload.sizes[SIZE_OF_MODE[mode]]
            for model in runnable:
                if model == "serial":  # the reference has one worker and one way to run
                    specs.append(job_spec(workload.name, model, "n-workers", 1, size, timeout))
                    continue
                sweep_counts = (
                    counts if workload.kind == "cpu" else io_counts(workload.name, model, mode, args.workers)
                )
                for pattern in chosen_patterns:
                    # The full worker sweep is for n-workers (and --rigorous); other patterns: top count.
                    # I/O workloads keep to n-workers outside --rigorous: their sweep is long already.
                    full = pattern == "n-workers" or mode == "rigorous"
                    if workload.kind == "io" and not full:
                        continue
                    # --quick keeps the top count of a default sweep; worker counts asked for are all run.
                    sweep = sweep_counts if full and (mode != "quick" or args.workers) else sweep_counts[-1:]
                    # Enough I/O tasks to keep every worker busy (at least one task each).
                    specs += [
                        job_spec(
                            workload.name,
                            model,
                            pattern,
                            n,
                            max(size, n) if workload.kind == "io" else size,
                            timeout,
                        )
                        for n in sweep
                    ]
        if any(w.name == "download" for w in chosen_workloads) and "asyncio" in runnable:
            # The server's own capacity: the fastest client at the top concurrency, no added latency.
            top = io_counts("download", "asyncio", mode, args.workers)[-1]
            spec = job_spec("download", "asyncio", "n-workers", top, max(4 * top, 256), timeout)
            specs.append(
                BenchSpec(
                    f"capacity/asyncio/n-workers/w{top}",
                    (
                        *spec.options,
                        "--lab-name",
                        f"capacity/asyncio/n-workers/w{top}",
                        "--lab-latency-ms",
                        "0",
                    ),
                )
            )
        if not args.no_startup:
            for model in runnable:
                if model != "serial":
                    specs += [startup_spec(model, n) for n in dict.fromkeys((1, counts[-1]))]
    if "costs" in suites:
        specs += _cost_specs(args, mode, counts[-1], notes)
    return specs, notes


def _cost_specs(args: Any, mode: str, top: int, notes: list[str]) -> list[BenchSpec]:
    from labs.measure.costs import ladder, memory, races, transfer

    specs = [
        cost_spec(f"startup/asyncio-task/w{n}", cost="asyncio-task", workers=n)
        for n in dict.fromkeys((1, top))
    ]
    sizes = transfer.QUICK_SIZES if mode == "quick" else transfer.DEFAULT_SIZES
    if args.payload_sizes:
        sizes = tuple(transfer.parse_size(v) for item in args.payload_sizes for v in item.split(",") if v)
    for size in sizes:
        transfer.check_memory(size)
    for name, channel in transfer.CHANNELS.items():
        for size in sizes:
            why = channel.unavailable_reason(size)
            if why:
                notes.append(f"transfer/{name}/{size} skipped: {why}")
                continue
            specs.append(cost_spec(f"transfer/{name}/{size}", cost="transfer", channel=name, size=size))
    why = memory.unavailable_reason()
    for model in (
        "threads",
        "interpreters-pool",
        "interpreters-raw",
        "processes-fork",
        "processes-spawn",
        "processes-forkserver",
    ):
        reason = why or models.get(model).unavailable_reason()
        if reason:
            notes.append(f"memory/{model} skipped: {reason}")
        else:
            specs.append(
                cost_spec(f"memory/{model}/w{top}", timed=False, cost="memory", model=model, workers=top)
            )
    for name, rung in ladder.RUNGS.items():
        reason = rung.unavailable_reason()
        if reason:
            notes.append(f"ladder/{name} skipped: {reason}")
        else:
            specs.append(cost_spec(f"ladder/{name}", cost="ladder", rung=name))
    increments = 100_000 if mode == "quick" else 1_000_000
    threads = max(2, top)
    for strategy in races.STRATEGIES:
        specs.append(
            cost_spec(
                f"race/{strategy}/t{threads}",
                cost="race",
                strategy=strategy,
                threads=threads,
                increments=increments,
            )
        )
    for strategy in races.ASYNC_STRATEGIES:
        specs.append(
            cost_spec(f"race/{strategy}/c100", cost="race", strategy=strategy, threads=100, increments=1)
        )
    return specs


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
    """(pyperf suite JSON of the bench, "") on success, else (None, reason)."""
    output = workdir / f"{len(list(workdir.iterdir()))}.json"
    pyperf_options = PYPERF_OPTIONS[mode] if spec.timed else ["--values", "3"]
    command = [
        sys.executable,
        "-m",
        spec.module,
        *spec.options,
        "--lab-machine",
        machine,
        *pyperf_options,
        "--quiet",
        "-o",
        str(output),
    ]
    inherit = [name for name in INHERITED if name in os.environ]
    if inherit and spec.timed:
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
    return json.loads(output.read_text()), ""


def _summary(benchmark: dict) -> str:
    values = [v for run in benchmark.get("runs", []) for v in run.get("values", [])]
    if not values:
        return "no values"
    mean = sum(values) / len(values)
    if benchmark.get("metadata", {}).get("unit") == "byte":
        return f"{mean / (1 << 20):.2f} MiB mean of {len(values)}"
    return f"{format_time(mean)} mean of {len(values)}"


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
        # Where the I/O workloads' HTTP server runs (io.local_server): a host, not the runtime under test.
        "http_server_python": os.environ.get("LABS_SERVER_PYTHON", sys.executable),
        "failed": [],
        "interrupted": False,
    }
    benchmarks: list[dict] = []
    start = time.monotonic()
    # SIGTERM (a CI timeout, `kill`) ends the run like Ctrl-C: what was measured is saved.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="labs-bench-") as workdir:
        try:
            for index, spec in enumerate(specs, 1):
                data, reason = run_one(spec, mode, machine, timeout, Path(workdir))
                if data is None:
                    record["failed"].append({"name": spec.name, "reason": reason})
                    outcome = f"FAILED: {reason}"
                else:
                    merged = _merge_file_metadata(data)
                    benchmarks.extend(merged)
                    outcome = "; ".join(_summary(bench) for bench in merged)
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
    signal.signal(signal.SIGTERM, previous)
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


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _merge_file_metadata(data: dict) -> list[dict]:
    """A bench worker's file keeps the metadata common to all its runs at the top level; move it into
    each benchmark so that benches merged from many files keep all of theirs."""
    common = data.get("metadata", {})
    return [{**bench, "metadata": {**common, **bench.get("metadata", {})}} for bench in data["benchmarks"]]
