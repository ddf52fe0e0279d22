"""Files, SQLite, subprocesses: tasks per second by model and worker count."""

from __future__ import annotations

from labs.report import markdown
from labs.report.section import Section, section
from labs.report.sections.io import io_numbers
from labs.report.view import MachineView

WORKLOADS = ("files", "sqlite", "subprocesses")


def io_others(view: MachineView) -> Section:
    rows = []
    for tag, runtime in view.runtimes.items():
        for key, bench in runtime.matrix("io"):
            if key.workload in WORKLOADS and key.pattern == "n-workers":
                rate = markdown.rate(io_numbers(bench).rate)
                rows.append(
                    [
                        str(tag),
                        key.workload,
                        key.model,
                        str(key.workers),
                        rate,
                        bench.shape,
                    ]
                )
    title = "Files, SQLite, subprocesses: tasks per second"
    if not rows:
        return section(title, ["No files, SQLite or subprocess benches in these results."])
    return section(title, markdown.table(["runtime", "workload", "model", "workers", "tasks/s", "n"], rows))
