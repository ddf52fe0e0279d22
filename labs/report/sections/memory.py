"""Memory per worker: growth of the process tree's RSS, PSS and USS per worker started."""

from __future__ import annotations

from labs.analyse.estimates import Estimate
from labs.core.tag import RuntimeTag
from labs.report import estimates, markdown
from labs.report.plots import BarPlot, interval_series
from labs.report.section import Section, section
from labs.report.view import MachineView, model_rank

TITLE = "Memory per worker"
STEM = "memory"
METRICS = ("rss", "pss", "uss")


def memory(view: MachineView) -> Section:
    data: dict[tuple[RuntimeTag, str, int], dict[str, Estimate]] = {}
    for tag, benches in view.with_suite("memory").items():
        for key, bench in benches.items():
            data.setdefault((tag, key.model, key.workers), {})[key.param("metric")] = estimates.mean_interval(
                bench
            )
    if not data:
        return section(TITLE, ["No memory benches in these results."])
    ordered = sorted(data, key=lambda k: (k[0], model_rank(k[1]), k[2]))
    rows = [
        [
            str(t),
            f"{m} / w{w}",
            *[markdown.mebibytes(data[(t, m, w)][x]) if x in data[(t, m, w)] else "–" for x in METRICS],
        ]
        for t, m, w in ordered
    ]
    lines = [
        "Growth of RSS, PSS and USS of the lab's process tree per worker started, from "
        "`/proc/<pid>/smaps_rollup` (mean [95% CI] over repeated starts). USS is what a worker adds of its "
        "own; RSS counts shared pages again in every process.",
        "",
        *markdown.table(
            ["runtime", "model / workers", "RSS per worker", "PSS per worker", "USS per worker"], rows
        ),
        "",
        markdown.image(STEM),
    ]
    groups = sorted({(m, w) for _, m, w in data}, key=lambda g: (model_rank(g[0]), g[1]))
    labels = [f"{m} w{w}" for m, w in groups]
    series = tuple(
        interval_series(
            str(t), labels, [data.get((t, m, w), {}).get("uss") for m, w in groups], 1 / (1 << 20)
        )
        for t in sorted({t for t, _, _ in data})
    )
    return section(
        TITLE, lines, plots=[BarPlot(STEM, "USS per worker", tuple(labels), series, "USS per worker (MiB)")]
    )
