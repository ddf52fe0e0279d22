"""Nested float loops through tiny function calls: spectral norm from pyperformance's bm_spectral_norm."""

from __future__ import annotations

import math
from collections.abc import Sequence

from labs.workloads._pyperformance import load_benchmark

KIND = "cpu"
DESCRIPTION = "spectral norm of a 40..45 square matrix, 4 power iterations a task"
ORIGIN = "pyperformance bm_spectral_norm (Computer Language Benchmarks Game), imported from the package"
SIZES = {"quick": 4, "default": 8, "rigorous": 32}
ITERATIONS = 4


def make_tasks(size: int) -> list[tuple[int, int]]:
    return [(40 + i % 6, ITERATIONS) for i in range(size)]


def run(task: tuple[int, int]) -> float:
    n, iterations = task
    bm = load_benchmark("spectral_norm")
    u = [1.0] * n
    for _ in range(iterations):
        v = bm.eval_AtA_times_u(u)
        u = bm.eval_AtA_times_u(v)
    vbv = sum(ue * ve for ue, ve in zip(u, v, strict=True))
    vv = sum(ve * ve for ve in v)
    return math.sqrt(vbv / vv)


def check(tasks: Sequence[tuple[int, int]], results: Sequence[float]) -> str | None:
    for task, norm in zip(tasks, results, strict=True):
        # The infinite matrix's spectral norm is 1.274224...; finite sections approach it from below.
        if not 1.27 < norm < 1.2743:
            return f"task {task}: spectral norm {norm!r} is not close to 1.2742"
    return None
