"""The answer, on the first screen: which model and how many workers, on which Python, for CPU-bound and
I/O-bound work, and the threads speedup on every runtime beside it.

One compact matrix per kind, workloads down and runtimes across: each cell is the decision of the
appendix's best-model table (``best.choose``, so the two cannot disagree), coloured by its speedup over
serial, with the options tied with it named. Nothing is computed here that the sections below do not
show with its interval and n.
"""

from __future__ import annotations

import math
from dataclasses import replace

from labs.analyse import stats
from labs.plan.key import BenchKey
from labs.report import markdown
from labs.report.markdown import Cell
from labs.report.section import Section, section
from labs.report.sections import best
from labs.report.sections.gil import gil_effect
from labs.report.view import MachineView

TITLE = "The answer: which model, how many workers, on which Python"
STEM = "answer-threads"
NOT_MEASURED = "not measured"


# Short names keep a tie of five models inside one cell; the legend under the matrix spells them out.
SHORT = {
    "processes-fork": "fork",
    "processes-spawn": "spawn",
    "processes-forkserver": "forkserver",
    "interpreters-pool": "interp-pool",
    "interpreters-raw": "interp-raw",
}


def _options(keys: list[BenchKey]) -> str:
    """ "fork w2", or a tie: "fork = spawn w2" when they share a worker count, else each with its own."""
    names = [SHORT.get(key.model, key.model) for key in keys]
    if len({key.workers for key in keys}) == 1:
        return f"{' = '.join(names)} w{keys[0].workers}"
    return " = ".join(f"{name} w{key.workers}" for name, key in zip(names, keys, strict=True))


def cell(choice: best.Choice | None, cpus: int) -> Cell:
    """One runtime's decision for one workload: the pick (or the tie), its worker count and speedup,
    toned by the speedup (above 1 towards the CPUs: green; below 1, slower than serial: red)."""
    if choice is None:
        return Cell(NOT_MEASURED)
    speedup = choice.speedup
    if not math.isfinite(speedup.value):
        return Cell(NOT_MEASURED)
    if choice.quick:
        return Cell(f"– (--quick: fastest seen {_options([choice.key])})", speedup.value, "", speedup)
    if choice.key.model == "serial" and choice.runner_up is None:
        return Cell("– (serial only)")
    picked = _options([choice.key, *choice.ties])
    mark = markdown.IMPRECISE_MARK if speedup.imprecise else ""
    text = f"{'tie: ' if choice.ties else ''}{picked} · {mark}{speedup.value:.2f}×"
    tone = (speedup.value - 1) / max(cpus - 1, 1) if speedup.value >= 1 else speedup.value - 1
    return Cell(text, speedup.value, "", speedup, tone=max(-1.0, min(1.0, tone)))


def matrix(view: MachineView, kind: str) -> list[str]:
    """Workloads down, runtimes across, each cell that runtime's decision; no lines when nothing of
    *kind* was measured."""
    workloads = view.workloads(kind)
    if not workloads:
        return []
    rows = []
    for workload in workloads:
        row: list[str] = [workload]
        for runtime in view.runtimes.values():
            row.append(cell(best.choose(runtime, workload, kind), runtime.usable_cpus))
        rows.append(row)
    if all(c == NOT_MEASURED for row in rows for c in row[1:]):
        return []
    return [f"**{best.KINDS[kind]}**", "", *markdown.table(["workload", *map(str, view.tags)], rows), ""]


def answer(view: MachineView) -> Section:
    lines = [
        "Each cell: the model and worker count (w) to use on that runtime and its speedup over serial; "
        f"a tie names every option that cannot be told apart from the fastest (±{stats.TIE_MARGIN:.0%}, "
        "95%). Green: towards as many times faster as there are CPUs; red: slower than serial.",
        "",
        *matrix(view, "cpu"),
        *matrix(view, "io"),
        "fork, spawn, forkserver: processes with that start method; interp-pool: a pool of "
        f"subinterpreters; {markdown.IMPRECISE_MARK}: an interval wider than ±5%. Intervals, n and the "
        "runner-up of each cell: [Decision summary](#decision-summary).",
    ]
    threads = gil_effect(view).plots
    aside = [markdown.image(STEM)] if threads else []
    plots = [replace(threads[0], stem=STEM, title="threads speedup on every runtime")] if threads else []
    return replace(section(TITLE, lines, plots=plots), lead=True, aside=tuple(aside))
