"""Float arithmetic: the n-body simulation from pyperformance's bm_nbody (Benchmarks Game)."""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

from labs.workloads._pyperformance import load_benchmark

KIND = "cpu"
DESCRIPTION = "float arithmetic: n-body simulation of the outer planets, 1,000..1,200 steps a task"
ORIGIN = (
    "pyperformance bm_nbody (Kevin Carson, Tupteq, Fredrik Johansson, Daniel Nanz), imported from the package"
)
SIZES = {"quick": 4, "default": 8, "rigorous": 32}
STEPS = 1000
BODY_NAMES = ("sun", "jupiter", "saturn", "uranus", "neptune")


def make_tasks(size: int) -> list[tuple[int, int]]:
    # (steps, index of the body whose momentum is offset): distinct steps give distinct results.
    return [(STEPS + 50 * (i % 5), 0) for i in range(size)]


def run(task: tuple[int, int]) -> float:
    steps, reference = task
    bm = load_benchmark("nbody")
    # The benchmark mutates module-level bodies; every task simulates its own copy so concurrent
    # tasks (threads, free-threading) never share mutable state.
    bodies = copy.deepcopy([bm.BODIES[name] for name in BODY_NAMES])
    pairs = bm.combinations(bodies)
    bm.offset_momentum(bodies[reference], bodies)
    bm.advance(0.01, steps, bodies, pairs)
    return bm.report_energy(bodies, pairs, 0.0)


def check(tasks: Sequence[tuple[int, int]], results: Sequence[float]) -> str | None:
    for task, energy in zip(tasks, results, strict=True):
        # Offset to the sun, the system is bound and nearly conserves its energy of about -0.169.
        if not (math.isfinite(energy) and -0.2 < energy < -0.1):
            return f"task {task}: energy {energy!r} outside the bound system's range"
    return None
