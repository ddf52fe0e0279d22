"""How tests/data/results/ was cut: real committed runs of results/2cpu-3354490b/, trimmed to a few benches.

The 2026-11-26 runs were measured before the sampler, the paired baselines and the hosts' fingerprints;
results/ now holds their re-measurement, and they are read from git (commit ``ARCHIVED``), where they
stay. The scale-out run (dask, celery, the grain sweep) is read from the working tree.

The report's golden tests need every section to meet real data (values, per-process metadata, run
records exactly as the lab stores them) without the 7 MB of the full results. This script keeps the
listed run files of four runtimes and, inside each, only the benches ``keep`` accepts; everything
else in a kept bench (values, metadata, the run's ``labs`` record) is copied unchanged.

Run from the repository root to rebuild the fixtures (then regenerate the golden files with
``LABS_REGOLD=1 pytest tests/report``)::

    python tests/data/cut_fixtures.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from labs.plan.key import BenchKey
from labs.store import upgrade

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "results" / "2cpu-3354490b"
TARGET = Path(__file__).resolve().parent / "results" / "2cpu-3354490b"

ARCHIVED = "59ca5d5"  # the last commit whose results/ holds the 2026-11-26 runs
SCALE_OUT = {  # new runs: the engines beside processes (nbody), the break-even sweep, the task round trips
    "3.13": ("2026-11-29T21-41-54Z", "2026-11-29T21-47-03Z", "2026-11-29T22-03-41Z", "2026-11-29T21-58-03Z")
}
# Per runtime: the default-mode matrix (CPU), I/O and costs runs; 3.13 also keeps its first quick run,
# so that the tests can show a quick run never merges into a default view; 3.12 keeps its empty run.
RUNS = {
    "3.12": ("2026-11-26T14-11-39Z", "2026-11-26T15-28-31Z", "2026-11-26T15-35-11Z"),
    "3.13": ("2026-11-26T14-06-16Z", "2026-11-26T14-17-30Z", "2026-11-26T15-04-13Z", "2026-11-26T15-29-28Z"),
    "3.13t": ("2026-11-26T14-25-41Z", "2026-11-26T15-15-22Z", "2026-11-26T15-31-07Z"),
    "3.13t-gil": ("2026-11-26T14-52-54Z", "2026-11-26T15-33-07Z"),
}
CPU_WORKLOADS = ("nbody", "contention", "fib")  # fib: speedups the physics check flags
CPU_MODELS = ("serial", "threads", "processes-fork", "processes-spawn", "interpreters-pool")
IO_KEEP = {
    "download": ("serial", "threads", "asyncio", "processes-fork"),
    "files": ("serial", "threads", "processes-fork"),
    "mixed-cpu0": ("serial", "threads", "asyncio", "processes-forkserver"),
    "mixed-cpu4": ("serial", "threads", "asyncio", "processes-forkserver"),
}
STARTUP_MODELS = ("threads", "interpreters-pool", "processes-spawn", "asyncio-task")
TRANSFER_CHANNELS = ("thread-queue", "interp-bytes", "interp-memoryview", "mp-queue", "shared-memory")
TASK_CARRIERS = ("task-processes-forkserver", "task-interpreters-pool", "task-dask", "task-celery")
TRANSFER_BYTES = ("1024", "16777216")
MEMORY_MODELS = ("threads", "interpreters-pool", "processes-fork")


def keep(key: BenchKey) -> bool:
    """The handful of benches per suite that gives every report section real data."""
    match key.suite:
        case "matrix" if key.workload in CPU_WORKLOADS:
            # every n-workers point; one other pattern (nbody's pipeline), for the best-model section
            wanted = key.pattern == "n-workers" or (key.workload, key.pattern) == ("nbody", "pipeline")
            return wanted and key.model in CPU_MODELS and key.workers <= 2
        case "matrix":
            return key.model in IO_KEEP.get(key.workload, ())
        case "capacity" | "ladder" | "race":
            return True
        case "startup":
            return key.model in STARTUP_MODELS and key.workers == 1
        case "transfer":
            return key.subject in TRANSFER_CHANNELS and key.param("bytes") in TRANSFER_BYTES
        case "memory":
            return key.model in MEMORY_MODELS
    return False


def keep_scale_out(key: BenchKey) -> bool:
    """From the new runs, only what the scale-out section reads: nothing that would replace an older
    fixture's bench (the latest run's bench wins in a view)."""
    engines = ("dask", "celery")
    match key.suite:
        case "matrix" if key.workload.startswith("grain-"):
            return True
        case "matrix" if key.workload == "nbody":
            paired_with = key.param("paired_with") or ""
            return key.model in engines or any(f"/{engine}/" in paired_with for engine in engines)
        case "startup":
            return key.model in engines
        case "transfer":
            return key.subject in TASK_CARRIERS and key.param("bytes") in ("1", "1048576")
    return False


def cut(data: dict, scale_out: bool = False) -> dict:
    common = data.get("metadata", {})
    wanted = keep_scale_out if scale_out else keep
    # the key as the lab reads it (older benches get theirs on load); the bench is copied unchanged
    kept = [
        b
        for b in data["benchmarks"]
        if wanted(BenchKey.from_metadata(upgrade.bench({**common, **b["metadata"]})))
    ]
    return {**data, "benchmarks": kept}


def _source(tag: str, stamp: str) -> dict:
    """A run as committed: from the working tree, else from the archive commit."""
    path = SOURCE / tag / f"{stamp}.json"
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    shown = subprocess.run(
        ["git", "show", f"{ARCHIVED}:{path.relative_to(ROOT)}"], cwd=ROOT, capture_output=True, check=True
    )
    return json.loads(shown.stdout)


def main() -> int:
    for folder in TARGET.iterdir() if TARGET.exists() else ():
        if folder.name != "compat":  # the probe's file is kept as it is
            shutil.rmtree(folder)
    runs = [(tag, stamp, False) for tag, stamps in RUNS.items() for stamp in stamps]
    runs += [(tag, stamp, True) for tag, stamps in SCALE_OUT.items() for stamp in stamps]
    for tag, stamp, scale_out in runs:
        (TARGET / tag).mkdir(parents=True, exist_ok=True)
        data = _source(tag, stamp)
        trimmed = cut(data, scale_out)
        text = json.dumps(trimmed, indent=1, sort_keys=True) + "\n"
        (TARGET / tag / f"{stamp}.json").write_text(text, encoding="utf-8")
        print(f"{tag}/{stamp}.json: {len(trimmed['benchmarks'])} of {len(data['benchmarks'])} benches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
