"""Shared-object contention: every worker reads one shared table and shared constants.

This is the free-threaded build's known weak spot: each read bumps the reference count of the same
objects from every thread, so their cache lines bounce between cores. Processes and subinterpreters
have their own copies and do not contend.
"""

from __future__ import annotations

from collections.abc import Sequence

KIND = "cpu"
DESCRIPTION = "every worker sums over one shared table of floats and shared constants (refcount contention)"
ORIGIN = "written for the lab (after the 3.13t shared-constants collapse in the design notes)"
SIZES = {"quick": 4, "default": 8, "rigorous": 32}
READS_PER_TASK = 100_000
SHARED_TABLE = [i * 0.5 + 1000.25 for i in range(4096)]
SHARED_WEIGHTS = (1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5)
SCALE = 1e-6


def make_tasks(size: int) -> list[tuple[int, int]]:
    return [(seed * 97, READS_PER_TASK) for seed in range(size)]


def run(task: tuple[int, int]) -> float:
    start, reads = task
    table = SHARED_TABLE
    mask = len(table) - 1
    total = 0.0
    for k in range(reads):
        total += table[(start + k) & mask] * SHARED_WEIGHTS[k & 7] * SCALE
    return total


def check(tasks: Sequence[tuple[int, int]], results: Sequence[float]) -> str | None:
    low = min(SHARED_TABLE) * min(SHARED_WEIGHTS) * SCALE
    high = max(SHARED_TABLE) * max(SHARED_WEIGHTS) * SCALE
    for (start, reads), total in zip(tasks, results, strict=True):
        if not reads * low <= total <= reads * high:
            return f"task starting at {start}: sum {total!r} outside [{reads * low}, {reads * high}]"
    return None
