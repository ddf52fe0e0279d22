"""Decision summary: the answer first. Which model, pattern and worker count to use for each workload on
each runtime, and one line per key question, each taken from the appendix section that proves it.

Nothing here computes a number of its own: the rows are ``best.choices`` (the appendix table's rows)
and the key-question lines are the findings of the sections they link to, so the summary cannot
disagree with the tables below it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from labs.analyse import stats
from labs.report import markdown
from labs.report.section import Section, section
from labs.report.sections import best
from labs.report.sections.gil import gil_effect
from labs.report.sections.interpreters import interpreters_vs_processes
from labs.report.sections.mixed import mixed
from labs.report.sections.overhead import single_thread_overhead
from labs.report.sections.scale_out import scale_out
from labs.report.view import MachineView

TITLE = "Decision summary"
HEADER = ["workload", "runtime", "use", "speedup [95% CI]", "workers", "runner-up", "runner-up time / best"]
QUESTIONS: tuple[tuple[str, Callable[[MachineView], Section], str], ...] = (
    ("The GIL's effect", gil_effect, "needs thread benches on a default and a free-threaded build"),
    (
        "Free-threading's single-thread overhead",
        single_thread_overhead,
        "needs a default and a free-threaded run of one version",
    ),
    (
        "Subinterpreters vs processes",
        interpreters_vs_processes,
        "needs interpreters-pool and processes-fork benches",
    ),
    ("The I/O crossover", mixed, "needs the mixed I/O + CPU benches (`nox -s bench -- --kind io`)"),
    (
        "Leaving the machine",
        scale_out,
        "needs the dask or celery benches (`labs bench -m dask,celery`; the break-even: "
        "`-w grain-fib10,grain-fib14,grain-fib18,grain-fib22,grain-fib26 -p map`)",
    ),
)


def _rows(view: MachineView, kind: str) -> list[list[str]]:
    return [
        [workload, tag, c.use, markdown.times(c.speedup), recommended, c.runner_up_text, c.behind_text]
        for tag, workload, c, recommended, _ in sorted(best.choices(view, kind), key=lambda r: (r[1], r[0]))
    ]


def key_questions(view: MachineView) -> list[str]:
    """One line per key question: the findings of the section that answers it, or why there are none."""
    lines = []
    for question, compute, needs in QUESTIONS:
        found = compute(view)
        answer = " ".join(found.findings) or f"not measured: {needs}."
        lines.append(f"- **{question}:** {answer} ([details](#{found.anchor}))")
    return lines


def decision(view: MachineView) -> Section:
    lines = [
        "### Key questions",
        "",
        *key_questions(view),
        "",
        "Which model to use, for each workload on each runtime: the fastest plausible (model, pattern, "
        "workers) with its speedup over serial, or the tie of every model that cannot be told apart "
        f"from it (±{stats.TIE_MARGIN:.0%}, 95% intervals), the worker count to start with (the smallest "
        "that reaches the best speedup's interval, when at least three counts were measured), and the "
        "runner-up from another model with how much longer it takes. The numbers are those of the "
        f"appendix tables: [{best.TITLE}](#{markdown.anchor(best.TITLE)}) and the sections each line "
        "links to.",
        "",
    ]
    for kind, title in best.KINDS.items():
        rows = _rows(view, kind)
        if rows:
            lines += [f"### {title}", "", *markdown.table(HEADER, rows), ""]
    return replace(section(TITLE, lines), lead=True)
