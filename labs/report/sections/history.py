"""History across Python versions: serial job time per runtime, and every stored run of one bench."""

from __future__ import annotations

from labs.analyse import estimates as analysed
from labs.analyse import families
from labs.plan.key import BenchKey
from labs.report import estimates, markdown
from labs.report.plots import LinePlot, Panel, interval_series
from labs.report.section import Section, section
from labs.report.view import MachineView, key_of, run_mode, serial_key

TITLE = "History across Python versions"
STEM = "history"
TRACKED = BenchKey("matrix", "nbody", "serial", "n-workers", 1)


def _every_run(view: MachineView) -> list[str]:
    rows = []
    for run in sorted(view.all_runs, key=lambda r: (r.tag, r.started)):
        bench = next((b for b in run.benches.values() if key_of(b) == TRACKED), None)
        if bench is not None:
            rows.append(
                [
                    run.tag,
                    run.started,
                    run_mode(run),
                    run.version,
                    markdown.duration(estimates.mean_interval(bench)),
                ]
            )
    if not rows:
        return []
    return [
        "",
        f"Every stored run of `{TRACKED.name}` over time, all modes (quick runs use smaller sizes):",
        "",
        *markdown.table(["runtime", "started (UTC)", "mode", "Python", "mean [95% CI]"], rows),
    ]


def history(view: MachineView) -> Section:
    tags = view.tags
    if len(tags) < 2:
        return section(TITLE, ["One runtime only: nothing to compare across versions.", *_every_run(view)])
    base_tag, rest = tags[0], tags[1:]
    rows, series = [], []
    for workload in view.workloads():
        base = view.runtimes[base_tag].serial(workload)
        if base is None:
            continue
        row, points = [workload, markdown.duration(estimates.mean_interval(base))], {}
        for tag in rest:
            other = view.runtimes[tag].serial(workload)
            if other is None or not estimates.comparable(base, other):
                row.append("–")
                continue
            serial = serial_key(workload)
            points[str(tag)] = view.across(
                analysed.time_ratio(base, other),
                (view.runtimes[base_tag], serial),
                (view.runtimes[tag], serial),
            )
            row.append(markdown.times(points[str(tag)]))
        rows.append(row)
        if points:
            series.append(interval_series(workload, list(points), list(points.values())))
    lines = [
        f"Serial job time per runtime, relative to {base_tag} (below 1: faster).",
        "",
        *markdown.table(["workload", f"{base_tag} serial", *[f"{t} / {base_tag}" for t in rest]], rows),
        "",
        "Build recipes: a version compared across recipes measures the compiler and its options too.",
        "",
        *[
            f"- {tag} vs {base_tag}: "
            + families.comparison_label(view.runtimes[base_tag].record, view.runtimes[tag].record)
            for tag in rest
        ],
    ]
    plots = []
    if series:
        lines += ["", markdown.image(STEM)]
        plots.append(
            LinePlot(
                STEM,
                "serial time across runtimes",
                (Panel("", tuple(series)),),
                "runtime",
                f"serial time / {base_tag}",
                baseline=1,
            )
        )
    return section(TITLE, [*lines, *_every_run(view)], plots=plots)
