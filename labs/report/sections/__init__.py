"""The report's sections, in the order REPORT.md prints them: each is ``(MachineView) -> Section``.

The answer first, then the key questions and the decision behind each cell, then the sections that
prove them; how the numbers were taken (setup, method, reliability) closes the report."""

from __future__ import annotations

from collections.abc import Callable

from labs.report.section import Section
from labs.report.sections.answer import answer
from labs.report.sections.best import best_models
from labs.report.sections.compat import compatibility
from labs.report.sections.decision import decision
from labs.report.sections.gil import gil_effect
from labs.report.sections.history import history
from labs.report.sections.interpreters import interpreters_vs_processes
from labs.report.sections.io import io_download
from labs.report.sections.io_others import io_others
from labs.report.sections.ladder import ladder
from labs.report.sections.memory import memory
from labs.report.sections.method import method
from labs.report.sections.mixed import mixed
from labs.report.sections.overhead import single_thread_overhead
from labs.report.sections.races import races
from labs.report.sections.reliability import reliability
from labs.report.sections.scale_out import scale_out
from labs.report.sections.scaling import scaling
from labs.report.sections.setup import setup
from labs.report.sections.startup import startup
from labs.report.sections.transfer import transfer
from labs.report.sections.workers import workers
from labs.report.view import MachineView

SECTIONS: tuple[Callable[[MachineView], Section], ...] = (
    answer,
    decision,
    scaling,
    workers,
    gil_effect,
    single_thread_overhead,
    interpreters_vs_processes,
    startup,
    io_download,
    io_others,
    mixed,
    transfer,
    memory,
    scale_out,
    ladder,
    races,
    best_models,
    history,
    compatibility,
    setup,
    method,
    reliability,
)

__all__ = ["SECTIONS"]
