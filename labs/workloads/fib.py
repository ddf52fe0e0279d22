"""Call-heavy recursion: naive Fibonacci, the interpreter's function-call path and small ints."""

from __future__ import annotations

from collections.abc import Sequence

KIND = "cpu"
DESCRIPTION = "call-heavy recursion: naive fib(24..25), ~100k-240k calls a task"
ORIGIN = "classic naive recursive Fibonacci, written for the lab"
SIZES = {"quick": 4, "default": 8, "rigorous": 32}


def make_tasks(size: int) -> list[int]:
    return [24 + i % 2 for i in range(size)]


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def run(task: int) -> int:
    return fib(task)


def check(tasks: Sequence[int], results: Sequence[int]) -> str | None:
    for n, value in zip(tasks, results, strict=True):
        a, b = 0, 1
        for _ in range(n):
            a, b = b, a + b
        if value != a:
            return f"fib({n}) gave {value}, expected {a}"
    return None
