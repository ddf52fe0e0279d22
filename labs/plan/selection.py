"""Selection: what the user asked ``bench`` for, validated once, before anything runs.

Every name, count and number on the command line is checked here and refused with one UsageError
line that says what is valid; the planner then only combines valid values.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from labs import models, workloads
from labs.core import limits
from labs.core.errors import UsageError
from labs.execute import patterns
from labs.store import schema

MODES = tuple(mode.value for mode in schema.Mode)
# What a bare `bench` measures: workloads that answer the first questions (pure-Python float and call
# kernels, C code that releases the GIL and C code that holds it; the I/O crossover at both ends).
# --full, or -w by name, measures every workload.
DEFAULT_WORKLOADS = ("nbody", "fib", "hashing", "parsing", "download", "mixed-cpu0", "mixed-cpu16")


def model_names() -> list[str]:
    """Every model the lab has: what a run asks for when -m is not given."""
    return models.names()


SUITES = tuple(suite.value for suite in schema.RunSuite)
MAX_BENCH_TIMEOUT = 24 * 3600.0  # one bench may take a day; beyond that a number is a typo
MAX_BUDGET_MINUTES = 7 * 24 * 60.0


def names(values: Sequence[str] | None, valid: Sequence[str], what: str) -> tuple[str, ...]:
    """Comma-separated names from repeated options, each checked against *valid*; all of them if none."""
    if not values:
        return tuple(valid)
    chosen = [name.strip() for value in values for name in value.split(",") if name.strip()]
    if not chosen:
        raise UsageError(f"no {what} given; valid: {', '.join(valid)}")
    bad = [name for name in chosen if name not in valid]
    if bad:
        raise UsageError(f"unknown {what} {bad[0]!r}; valid: {', '.join(valid)}")
    return tuple(dict.fromkeys(chosen))


def worker_counts(values: Sequence[str] | None) -> tuple[int, ...] | None:
    """Requested worker counts (sorted, unique), None when none were asked for."""
    if values is None:
        return None
    texts = [v.strip() for w in values for v in w.split(",") if v.strip()]
    counts = [limits.check_workers(limits.parse_int("workers", text)) for text in texts]
    if not counts:
        raise UsageError(f"no worker count given to -n; valid: integers from 1 to {limits.MAX_WORKERS}")
    return tuple(sorted(set(counts)))


def bench_timeout(text: str) -> float:
    """Seconds one bench may take: a finite number in (0, one day]."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_BENCH_TIMEOUT:  # NaN fails this too
        raise UsageError(
            f"bench timeout must be a number of seconds in (0, {MAX_BENCH_TIMEOUT:g}], got {text!r}"
        )
    return value


def budget(text: str | None) -> float | None:
    """Minutes the whole run may take: a finite number in (0, one week], or None for no limit."""
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= MAX_BUDGET_MINUTES:
        raise UsageError(f"--budget must be minutes in (0, {MAX_BUDGET_MINUTES:g}], got {text!r}")
    return value


@dataclass(frozen=True)
class Selection:
    """A validated ``bench`` request. ``workers`` is None when the default sweep is wanted."""

    mode: str = "default"
    workloads: tuple[str, ...] = tuple(workloads.NAMES)
    kind: str | None = None
    models: tuple[str, ...] = ()
    patterns: tuple[str, ...] = tuple(patterns.NAMES)
    workers: tuple[int, ...] | None = None
    suites: tuple[str, ...] = SUITES
    startup: bool = True
    payload_sizes: tuple[int, ...] | None = None
    bench_timeout: float = 900.0
    budget_minutes: float | None = None  # the whole run's time; benches past it are skipped and named
    full: bool = False  # every pattern, not only n-workers (the default answers the first questions)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Selection:
        if args.quick and args.rigorous:
            raise UsageError("--quick and --rigorous exclude each other; choose one")
        payload_sizes = None
        if getattr(args, "payload_sizes", None):
            payload_sizes = tuple(
                limits.parse_size(v) for item in args.payload_sizes for v in item.split(",") if v
            )
            for size in payload_sizes:
                limits.check_memory(size)  # asked for explicitly: refuse, rather than skip, what cannot fit
        chosen_models = names(args.model, models.names(), "model")
        if "serial" not in chosen_models:
            chosen_models = ("serial", *chosen_models)  # every speedup is against the serial bench
        full = bool(getattr(args, "full", False)) or bool(args.rigorous)
        # n-workers answers the first questions (scaling, GIL, free-threading, subinterpreters vs
        # processes); the other patterns are for --full, or when asked for by name
        chosen_patterns = (
            names(args.pattern, patterns.NAMES, "pattern") if args.pattern or full else ("n-workers",)
        )
        chosen_workloads = (
            names(args.workload, workloads.NAMES, "workload")
            if args.workload or full
            else tuple(name for name in workloads.NAMES if name in DEFAULT_WORKLOADS)
        )
        if args.kind and args.workload and all(workloads.get(w).kind != args.kind for w in chosen_workloads):
            raise UsageError(
                f"--kind {args.kind} leaves none of the workloads given ({', '.join(chosen_workloads)}); "
                f"valid: {', '.join(w.name for w in workloads.all_workloads(args.kind))}"
            )
        return cls(
            mode="quick" if args.quick else "rigorous" if args.rigorous else "default",
            workloads=chosen_workloads,
            kind=args.kind,
            models=chosen_models,
            patterns=chosen_patterns,
            workers=worker_counts(args.workers),
            suites=names(args.suite, SUITES, "suite"),
            startup=not args.no_startup,
            payload_sizes=payload_sizes,
            bench_timeout=bench_timeout(args.bench_timeout),
            budget_minutes=budget(getattr(args, "budget", None)),
            full=full,
        )

    @classmethod
    def stored(cls, stored: object) -> Selection:
        """The selection an earlier run stored (``--resume``), held to the rules of ``from_args``: a
        journal is untrusted input, edited by hand or torn, and its numbers and names are checked."""
        if not isinstance(stored, dict):
            raise UsageError("cannot resume: the run does not say what it selected (made before --resume)")

        def listed(name: str, valid: Sequence[str]) -> tuple[str, ...]:
            value = stored.get(name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise UsageError(f"cannot resume: the stored {name} is not a list of names")
            return names([",".join(value)], valid, name.rstrip("s")) if value else ()

        def number(name: str, check: Callable[[str], float | None]) -> float | None:
            value = stored.get(name)
            return None if value is None else check(str(value))  # "True", "[1]": refused like typos

        workers = stored.get("workers")
        if workers is not None and not (isinstance(workers, list) and all(type(w) is int for w in workers)):
            raise UsageError("cannot resume: the stored workers are not a list of counts")
        mode = stored.get("mode")
        if mode not in MODES:
            valid = ", ".join(MODES)
            raise UsageError(f"cannot resume: the stored mode {str(mode)[:20]!r} is not one of {valid}")
        sizes = stored.get("payload_sizes")
        sizes_ok = isinstance(sizes, list) and all(type(v) is int and v > 0 for v in sizes)
        if sizes is not None and not sizes_ok:
            raise UsageError("cannot resume: the stored payload sizes are not a list of byte counts")
        kind = stored.get("kind")
        if kind not in (None, "cpu", "io"):
            raise UsageError(f"cannot resume: the stored kind {str(kind)[:20]!r} is not cpu or io")
        return cls(
            mode=mode,
            workloads=listed("workloads", workloads.NAMES),
            kind=kind,
            models=listed("models", models.names()),
            patterns=listed("patterns", patterns.NAMES),
            workers=worker_counts([",".join(map(str, workers))]) if workers else None,
            suites=listed("suites", SUITES),
            startup=stored.get("startup") is not False,
            payload_sizes=tuple(sizes) if sizes else None,
            bench_timeout=number("bench_timeout", bench_timeout) or 900.0,
            budget_minutes=number("budget_minutes", budget),
            full=stored.get("full") is True,
        )
