"""Synthetic stored runs with speed fingerprints, for the host tests of analysis and report."""

from __future__ import annotations

import random
from pathlib import Path

from labs import models
from labs.analyse.runs import Run, parse_run
from labs.plan.selection import DEFAULT_WORKLOADS

FAST = {
    "python": "3.13.5 default GCC 12.2.0",
    "seconds": {"integer": 0.2, "float": 0.2, "memory": 0.1, "syscall": 0.2},
}


def slower(fingerprint: dict, factor: float) -> dict:
    return {**fingerprint, "seconds": {k: v * factor for k, v in fingerprint["seconds"].items()}}


def run(
    started: str,
    speed: float = 1.0,
    fingerprint: dict | None = FAST,
    kernel: str = "Linux 6.18.44-fc-v669",
    seed: int = 0,
    tag: str = "3.13",
    session: str | None = None,
    finished: str | None = None,
    end_speed: float | None = None,
    whole: bool = False,
) -> Run:
    """A stored run of 3 benches x 5 processes x 3 values, every time scaled by *speed* (its end
    fingerprint by *end_speed* when given: a host whose speed moved during the run); *whole*: it asked
    the whole default question, as a bare `nox -s bench` does."""
    rng = random.Random(seed)
    benches = []
    for name, workload in (
        ("fib/serial/n-workers/w1", "fib"),
        ("nbody/serial/n-workers/w1", "nbody"),
        ("x", "x"),
    ):
        runs = [{"values": [speed * 0.05 * rng.lognormvariate(0, 0.01) for _ in range(3)]} for _ in range(5)]
        metadata = {"name": name, "lab_kind": "cpu", "lab_workload": workload, "lab_model": "serial"}
        benches.append({"metadata": {**metadata, "lab_pattern": "n-workers", "lab_workers": 1}, "runs": runs})
    record = {
        "machine": "2cpu-test",
        "started": started,
        "mode": "default",
        "runtime": {
            "tag": tag,
            "version": "3.13.5",
            "os": kernel,
            "cpu_model": "AMD EPYC",
            "cpu_count": 2,
        },
    }
    record.update({k: v for k, v in (("session", session), ("finished", finished)) if v is not None})
    if whole:
        record["selection"] = {
            "workloads": list(DEFAULT_WORKLOADS),
            "models": models.names(),
            "suites": ["matrix", "costs"],
            "patterns": ["n-workers"],
            "workers": None,
        }
    if fingerprint is not None:
        end = slower(fingerprint, speed if end_speed is None else end_speed)
        record["fingerprint"] = {"start": slower(fingerprint, speed), "end": end}
    return parse_run(
        Path(f"/r/2cpu-test/{tag}/{started}.json"), {"version": "1.0", "benchmarks": benches, "labs": record}
    )
