"""Speedup vs workers: every CPU-bound model's n-workers curve on every runtime, with intervals."""

from __future__ import annotations

from labs.report import markdown
from labs.report.plots import LinePlot, Panel, interval_series
from labs.report.section import Section, section
from labs.report.view import MachineView


def scaling(view: MachineView) -> Section:
    counts = view.worker_counts()
    lines: list[str] = []
    plots, split = [], []
    for workload in view.workloads():
        rows, panels = [], []
        for tag, runtime in view.runtimes.items():
            series = []
            for model in runtime.models(workload):
                curve = runtime.curve(workload, model)
                if not curve:
                    continue
                split += runtime.split_curves(workload, model)
                top = max(curve)
                cells = [markdown.times(curve[n]) if n in curve else "–" for n in counts]
                size = str(runtime.job_size(workload, model) or "?")
                rows.append([str(tag), model, size, *cells, f"{curve[top].value / top:.0%}"])
                series.append(interval_series(model, list(curve), list(curve.values())))
            if series:
                panels.append(Panel(str(tag), tuple(series)))
        if not rows:
            continue
        stem = f"scaling-{workload}"
        header = ["runtime", "model", "tasks a job", *[f"w{n}" for n in counts], "efficiency at top"]
        lines += [f"### {workload}", "", *markdown.table(header, rows), "", markdown.image(stem), ""]
        plots.append(
            LinePlot(
                stem,
                f"{workload}: speedup vs workers",
                tuple(panels),
                "workers",
                "speedup vs serial",
                ideal=True,
            )
        )
    left_out = split if lines else ["speedup vs workers: no CPU-bound matrix benches with a serial baseline"]
    return section("Speedup vs workers (n-workers pattern)", lines, plots=plots, left_out=left_out)
