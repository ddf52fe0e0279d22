"""Subinterpreters vs processes: warm job time of every pool at the top worker count."""

from __future__ import annotations

from labs.analyse.runs import Bench
from labs.plan.key import BenchKey
from labs.report import estimates, markdown
from labs.report.section import Section, section
from labs.report.view import MachineView

CONTENDERS = (
    "interpreters-pool",
    "interpreters-raw",
    "processes-fork",
    "processes-spawn",
    "processes-forkserver",
)


def interpreters_vs_processes(view: MachineView) -> Section:
    title = "Subinterpreters vs processes"
    top = view.top_workers()
    if top is None:
        return section(title, ["No CPU-bound benches in these results."])
    rows, findings, means = [], [], []
    for tag, runtime in view.runtimes.items():
        pairs: list[tuple[Bench, Bench]] = []
        for workload in view.workloads():
            found = {
                m: runtime.benches.get(BenchKey("matrix", workload, m, "n-workers", top)) for m in CONTENDERS
            }
            if not any(found.values()):
                continue
            cells = [markdown.duration(estimates.mean_interval(b)) if b else "–" for b in found.values()]
            rows.append([str(tag), workload, *cells])
            fork, pool = found["processes-fork"], found["interpreters-pool"]
            if fork and pool and estimates.comparable(fork, pool):
                pairs.append((fork, pool))
        if pairs:
            geo = estimates.geometric_mean(pairs)
            means.append(f"- {tag}: {markdown.times(geo)} over {len(pairs)} workloads")
            findings.append(
                f"On {tag}, a warm interpreters-pool job takes {markdown.times(geo)} the time of a warm "
                f"processes-fork job at {top} workers (geometric mean over {len(pairs)} workloads)."
            )
    lines = [
        f"Mean job time [95% CI] at {top} workers (n-workers), pools started before timing.",
        "",
        *markdown.table(["runtime", "workload", *CONTENDERS], rows),
    ]
    if means:
        heading = "Warm interpreters-pool job time / warm processes-fork job time, geometric mean:"
        lines += ["", heading, "", *means]
    return section(title, lines, findings)
