"""List permutation and slicing: fannkuch from pyperformance's bm_fannkuch."""

from __future__ import annotations

from collections.abc import Sequence

from labs.workloads._pyperformance import load_benchmark

KIND = "cpu"
DESCRIPTION = "list permutations and slice reversal: fannkuch(7..8)"
ORIGIN = "pyperformance bm_fannkuch (Computer Language Benchmarks Game), imported from the package"
SIZES = {"quick": 4, "default": 8, "rigorous": 32}
# Known answers: maximum flips of pancake-flipping all permutations of 1..n.
MAX_FLIPS = {5: 7, 6: 10, 7: 16, 8: 22, 9: 30}


def make_tasks(size: int) -> list[int]:
    return [7 + (i % 4 == 3) for i in range(size)]


def run(task: int) -> int:
    return load_benchmark("fannkuch").fannkuch(task)


def check(tasks: Sequence[int], results: Sequence[int]) -> str | None:
    for n, flips in zip(tasks, results, strict=True):
        if flips != MAX_FLIPS[n]:
            return f"fannkuch({n}) gave {flips}, expected {MAX_FLIPS[n]}"
    return None
