"""Markdown formatting: every cell the report prints is made here, from numbers that stay numbers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from labs.analyse import text
from labs.analyse.estimates import Estimate
from labs.analyse.runs import Bench

SUSPECT_MARK = "⚠ suspect"
IMPRECISE_MARK = "≈"  # before a number whose 95% interval reaches beyond ±5% (estimates.PRECISION_LIMIT)


class Cell(str):
    """Text that keeps the number it shows. The Markdown prints the text; the HTML page sorts by
    *sort*, marks a *flag*ged number and shows its estimate on hover, without parsing the text back."""

    sort: float | None
    flag: str
    estimate: Estimate | None
    tone: float | None  # -1 (bad) .. 1 (good): the page colours the cell; None: no colour

    def __new__(
        cls,
        text: str,
        sort: float | None = None,
        flag: str = "",
        estimate: Estimate | None = None,
        tone: float | None = None,
    ) -> Cell:
        cell = super().__new__(cls, text)
        cell.sort, cell.flag, cell.estimate, cell.tone = sort, flag, estimate, tone
        return cell


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


class TableLine(str):
    """One Markdown line of a table, carrying the table it belongs to and its place in it (0: the
    header), so that the HTML page renders the table from its cells, never from the joined text."""

    table: Table
    index: int

    def __new__(cls, text: str, table: Table, index: int) -> TableLine:
        line = super().__new__(cls, text)
        line.table, line.index = table, index
        return line


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    structured = Table(tuple(header), tuple(tuple(row) for row in rows))
    return [TableLine(line, structured, i) for i, line in enumerate(lines)]


def flag(estimate: Estimate, ratio: bool = False) -> str:
    """Why a number is flagged, for a reader who hovers over it; empty when it is not. A *ratio* (a
    speedup, a time ratio: what findings state) is also flagged when its interval is too wide."""
    reasons = (
        ("suspect", estimate.suspect),
        ("unstable", estimate.unstable),
        ("imprecise", estimate.imprecise if ratio else ""),
    )
    return "; ".join(f"{word}: {why}" for word, why in reasons if why)


def time(seconds: float) -> str:
    return text.format_time(seconds)


def _interval(estimate: Estimate, unit: Callable[[float], str]) -> str:
    if estimate.low is None or estimate.high is None:
        return "(no interval)"  # one measuring process: n=1x... beside it says so
    return f"[{unit(estimate.low)}, {unit(estimate.high)}]"


def times(estimate: Estimate) -> Cell:
    """A ratio estimate with its interval and sample size, marked when it cannot be physical."""
    text = f"{estimate.value:.2f}× {_interval(estimate, lambda x: f'{x:.2f}')} n={estimate.n}"
    if estimate.imprecise:
        text = f"{IMPRECISE_MARK}{text}"
    if estimate.suspect:
        text += f" {SUSPECT_MARK} ({estimate.suspect})"
    return Cell(text, estimate.value, flag(estimate, ratio=True), estimate)


def duration(estimate: Estimate) -> Cell:
    """A time estimate with its interval and sample size: ``644 us [610 us, 690 us] n=3x3``."""
    text = f"{time(estimate.value)} {_interval(estimate, time)} n={estimate.n}"
    return Cell(text, estimate.value, flag(estimate), estimate)


def mebibytes(estimate: Estimate) -> Cell:
    text = f"{mib(estimate.value)} {_interval(estimate, mib)} n={estimate.n}"
    return Cell(text, estimate.value, flag(estimate), estimate)


def mib(nbytes: float) -> str:
    return f"{nbytes / (1 << 20):.2f} MiB"


def rate(per_second: float) -> str:
    return "–" if math.isnan(per_second) else Cell(f"{per_second:,.0f}", per_second)


def n(bench: Bench) -> str:
    """The sample behind a bench's numbers: ``n=3x3``, pyperf processes x values per process."""
    return f"n={bench.shape}"


def size(nbytes: int) -> Cell:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if nbytes >= scale and nbytes % scale == 0:
            return Cell(f"{nbytes // scale} {unit}", nbytes)
    return Cell(f"{nbytes} B", nbytes)


def image(stem: str) -> str:
    return f"![{stem}]({stem}.png)"


def anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens."""
    kept = "".join(c for c in title.lower() if c.isalnum() or c in " -_")
    return kept.replace(" ", "-")
