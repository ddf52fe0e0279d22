"""Data transfer: one round trip of a payload to a worker and back, per channel and size."""

from __future__ import annotations

from labs.analyse.runs import Bench
from labs.core.tag import RuntimeTag
from labs.report import estimates, markdown
from labs.report.plots import LinePlot, Panel, interval_series
from labs.report.section import Section, section
from labs.report.view import MachineView

TITLE = "Data transfer: round trip to a worker and back"
STEM = "transfer"
# Channels that hand over a reference, not a copy (labs/measure/costs/transfer.py): their time does not
# grow with the payload, so bytes / time would be a meaningless "throughput"; they are reported as latency.
ZERO_COPY = ("thread-queue", "interp-memoryview", "task-threads")
SIZES_IN_FINDINGS = (1 << 10, 16 << 20)


def _cell(channel: str, size: int, bench: Bench | None) -> str:
    if bench is None:
        return "–"
    latency = markdown.duration(estimates.mean_interval(bench))
    if channel in ZERO_COPY:
        return latency
    return markdown.Cell(f"{latency} ({2 * size / bench.mean / 1e9:.3g} GB/s)", bench.mean, latency.flag)


def _tables(data: dict[RuntimeTag, dict[tuple[str, int], Bench]]) -> tuple[list[str], list[str]]:
    lines, findings = [], []
    sizes = sorted({s for benches in data.values() for _, s in benches})
    channels = list(dict.fromkeys(c for benches in data.values() for c, _ in benches))
    for tag, benches in data.items():
        rows = [[c, *[_cell(c, s, benches.get((c, s))) for s in sizes]] for c in channels]
        lines += [
            f"### {tag}",
            "",
            *markdown.table(["channel", *[markdown.size(s) for s in sizes]], rows),
            "",
        ]
        for size in SIZES_IN_FINDINGS:
            at = {c: b for (c, s), b in benches.items() if s == size}
            if len(at) >= 2:
                fastest = min(at, key=lambda c: at[c].mean)
                slowest = max(at, key=lambda c: at[c].mean)
                findings.append(
                    f"On {tag}, a {markdown.size(size)} round trip takes "
                    f"{markdown.duration(estimates.mean_interval(at[fastest]))} through {fastest} and "
                    f"{markdown.duration(estimates.mean_interval(at[slowest]))} through {slowest}."
                )
    return lines, findings


def transfer(view: MachineView) -> Section:
    data = {
        tag: {(k.subject, int(k.param("bytes"))): b for k, b in benches.items()}
        for tag, benches in view.with_suite("transfer").items()
    }
    if not data:
        return section(TITLE, ["No transfer benches in these results."])
    lines = [
        "Latency of one round trip, mean [95% CI]; for channels that copy, throughput as 2 × payload / "
        f"latency. Zero-copy channels ({', '.join(ZERO_COPY)}) hand over a reference: latency only.",
        "",
    ]
    tables, findings = _tables(data)
    panels = []
    for tag, benches in data.items():
        series = []
        for channel in dict.fromkeys(c for c, _ in benches):
            sizes = sorted(s for c, s in benches if c == channel)
            found = [estimates.mean_interval(benches[(channel, s)]) for s in sizes]
            series.append(interval_series(channel, sizes, list(found)))
        panels.append(Panel(str(tag), tuple(series)))
    plot = LinePlot(
        STEM, "round trip by payload", tuple(panels), "payload (bytes)", "round trip (s)", True, True
    )
    return section(TITLE, [*lines, *tables, markdown.image(STEM)], findings, [plot])
