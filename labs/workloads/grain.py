"""Tasks of a chosen size, for the break-even sweep: what a task must weigh before dispatch stops mattering.

Declared variants, one per size: each task is naive fib(N), from fib(10) (microseconds: dispatch is
everything) to fib(26) (tens of milliseconds). Run with the ``map`` pattern, one call per task, so
that every task pays its model's dispatch; the report compares each model's throughput with
processes' at the same worker count and size, and names the smallest size where it reaches 90%.
"""

from __future__ import annotations

from labs.workloads.fib import check, run  # fib's kernel and known-answer check, at the variant's N

KIND = "cpu"
DESCRIPTION = "naive fib(N) per task, N = 10 .. 26 by variant: the task size sweep of the break-even"
ORIGIN = "written for the lab (fib's kernel at five sizes)"
SIZES = {"quick": 8, "default": 32, "rigorous": 64}
VARIANTS = {"grain-fib10": 10, "grain-fib14": 14, "grain-fib18": 18, "grain-fib22": 22, "grain-fib26": 26}


def make_tasks(size: int, depth: int) -> list[int]:
    return [depth] * size


__all__ = ["check", "make_tasks", "run"]
