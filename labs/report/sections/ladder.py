"""The latency ladder: one operation timed from Python beside the classic latency numbers."""

from __future__ import annotations

from labs.report import estimates, markdown
from labs.report.section import Section, section
from labs.report.view import MachineView

TITLE = "The latency ladder"


def ladder(view: MachineView) -> Section:
    data = {
        tag: {k.subject: b for k, b in benches.items()} for tag, benches in view.with_suite("ladder").items()
    }
    if not data:
        return section(TITLE, ["No ladder benches in these results."])
    tags = list(data)
    rungs = list(dict.fromkeys(rung for benches in data.values() for rung in benches))
    rows = []
    for rung in rungs:
        first = next(data[t][rung] for t in tags if rung in data[t])
        classic_what, classic = first.meta.classic, first.meta.classic_seconds
        cells = [
            markdown.duration(estimates.mean_interval(data[t][rung])) if rung in data[t] else "–"
            for t in tags
        ]
        rows.append(
            [
                rung,
                *cells,
                f"{classic_what}: {markdown.time(classic)}" if classic else "–",
                f"{first.mean / classic:.3g}×" if classic else "–",
            ]
        )
    lines = [
        'One operation, timed from Python on this machine, beside the classic "latency numbers every '
        'programmer should know" (measured / classic, from the first runtime that has the rung).',
        "",
        *markdown.table(["rung", *[str(t) for t in tags], "classic", "measured / classic"], rows),
    ]
    fsync = next((b["fsync-write"] for b in data.values() if "fsync-write" in b), None)
    if fsync is not None:
        lines += ["", f"fsync ran on a `{fsync.meta.temp_filesystem or 'unknown'}` filesystem."]
    return section(TITLE, lines)
