"""Start-up: create the workers, run one trivial task, shut down."""

from __future__ import annotations

from labs.analyse.estimates import Estimate
from labs.core.tag import RuntimeTag
from labs.report import estimates, markdown
from labs.report.plots import BarPlot, interval_series
from labs.report.section import Section, section
from labs.report.view import MachineView

TITLE = "Start-up cost"
STEM = "startup"


def startup(view: MachineView) -> Section:
    data: dict[tuple[RuntimeTag, str, int], Estimate] = {}
    for tag, benches in view.with_suite("startup").items():
        for key, bench in benches.items():
            data[(tag, key.model, key.workers)] = estimates.mean_interval(bench)
    if not data:
        return section(TITLE, ["No start-up benches in these results."])
    rows = [[str(t), m, str(w), markdown.duration(e)] for (t, m, w), e in sorted(data.items())]
    lines = [
        "Create the workers, run one trivial task, shut down: mean [95% CI].",
        "",
        *markdown.table(["runtime", "model", "workers", "mean [95% CI]"], rows),
        "",
        markdown.image(STEM),
    ]
    groups = sorted({(m, w) for (_, m, w) in data})
    tags = sorted({t for (t, _, _) in data})
    series = tuple(
        interval_series(
            str(t), [f"{m} w{w}" for m, w in groups], [data.get((t, m, w)) for m, w in groups], 1e3
        )
        for t in tags
    )
    plot = BarPlot(
        STEM, "start-up", tuple(f"{m} w{w}" for m, w in groups), series, "start-up (ms, log)", log_y=True
    )
    return section(TITLE, lines, _findings(data), [plot])


def _findings(data: dict[tuple[RuntimeTag, str, int], Estimate]) -> list[str]:
    wanted = ("threads", "interpreters-pool", "processes-spawn")
    for tag in sorted({t for (t, _, _) in data}):
        one = {m: data[(tag, m, 1)] for m in wanted if (tag, m, 1) in data}
        if len(one) == len(wanted):
            return [
                f"On {tag}, starting one worker and running one trivial task costs "
                f"{markdown.duration(one['threads'])} with threads, "
                f"{markdown.duration(one['interpreters-pool'])} with an interpreter pool and "
                f"{markdown.duration(one['processes-spawn'])} with spawned processes."
            ]
    return []
