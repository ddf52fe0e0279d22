"""Markdown formatting: every cell the report prints is made here, from numbers that stay numbers."""

from __future__ import annotations

import math
from collections.abc import Callable

from labs.analyse import text
from labs.analyse.runs import Bench
from labs.report.estimates import Estimate

SUSPECT_MARK = "⚠ suspect"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def time(seconds: float) -> str:
    return text.format_time(seconds)


def _interval(estimate: Estimate, unit: Callable[[float], str]) -> str:
    if estimate.low is None or estimate.high is None:
        return "(no interval)"  # one measuring process: n=1x... beside it says so
    return f"[{unit(estimate.low)}, {unit(estimate.high)}]"


def times(estimate: Estimate) -> str:
    """A ratio estimate with its interval and sample size, marked when it cannot be physical."""
    text = f"{estimate.value:.2f}× {_interval(estimate, lambda x: f'{x:.2f}')} n={estimate.n}"
    if estimate.suspect:
        text += f" {SUSPECT_MARK} ({estimate.suspect})"
    return text


def duration(estimate: Estimate) -> str:
    """A time estimate with its interval and sample size: ``644 us [610 us, 690 us] n=3x3``."""
    return f"{time(estimate.value)} {_interval(estimate, time)} n={estimate.n}"


def mebibytes(estimate: Estimate) -> str:
    return f"{mib(estimate.value)} {_interval(estimate, mib)} n={estimate.n}"


def mib(nbytes: float) -> str:
    return f"{nbytes / (1 << 20):.2f} MiB"


def rate(per_second: float) -> str:
    return "–" if math.isnan(per_second) else f"{per_second:,.0f}"


def n(bench: Bench) -> str:
    """The sample behind a bench's numbers: ``n=3x3``, pyperf processes x values per process."""
    return f"n={bench.shape}"


def size(nbytes: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale and nbytes % scale == 0:
            return f"{nbytes // scale} {unit}"
    return f"{nbytes} B"


def image(stem: str) -> str:
    return f"![{stem}]({stem}.png)"


def anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")
