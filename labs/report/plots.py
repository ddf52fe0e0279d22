"""Plots: sections declare what to draw (LinePlot, BarPlot); this module alone draws it with matplotlib.

Keeping the figures declarative keeps sections pure (a golden test renders them without a display or
a file system) and keeps every drawing rule in one place: every bar has its interval as an error bar,
every curve with intervals is drawn with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

SUFFIXES = ("png", "svg")


@dataclass(frozen=True)
class Series:
    label: str
    xs: tuple[Any, ...]
    ys: tuple[float, ...]
    lows: tuple[float, ...] = ()  # interval bounds, as absolute values; empty: none known
    highs: tuple[float, ...] = ()
    # per point, for a reader hovering over it: the bench, its sample size and why it is flagged
    benches: tuple[str, ...] = ()
    ns: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    intervals: tuple[bool, ...] = ()  # whether each point has an interval (one process: none)


class Interval(Protocol):
    value: float
    low: float | None
    high: float | None


def _flag(e: Interval | None) -> str:
    reasons = (("suspect", getattr(e, "suspect", "")), ("unstable", getattr(e, "unstable", "")))
    return "; ".join(f"{word}: {why}" for word, why in reasons if why)


def interval_series(label: str, xs: list[Any], found: list[Interval | None], scale: float = 1.0) -> Series:
    """A series of estimates with their intervals; a missing point is a zero-height bar and a point
    without an interval (one process) gets an error bar of zero length."""

    def bound(e: Interval | None, side: float | None) -> float:
        if e is None:
            return 0.0
        return (e.value if side is None else side) * scale

    return Series(
        label,
        tuple(xs),
        tuple(bound(e, e.value if e else None) for e in found),
        tuple(bound(e, e.low if e else None) for e in found),
        tuple(bound(e, e.high if e else None) for e in found),
        tuple(getattr(e, "bench", "") for e in found),
        tuple(getattr(e, "n", "") if e else "" for e in found),
        tuple(_flag(e) for e in found),
        tuple(e is not None and e.low is not None and e.high is not None for e in found),
    )


@dataclass(frozen=True)
class Panel:
    title: str
    series: tuple[Series, ...]


@dataclass(frozen=True)
class LinePlot:
    stem: str
    title: str
    panels: tuple[Panel, ...]
    xlabel: str
    ylabel: str
    log_x: bool = False
    log_y: bool = False
    ideal: bool = False  # draw y = x (the ideal speedup)
    baseline: float | None = None  # a horizontal reference line


@dataclass(frozen=True)
class BarPlot:
    """Grouped bars: one group per label, one bar per series in each group; error bars are required."""

    stem: str
    title: str
    groups: tuple[str, ...]
    series: tuple[Series, ...]
    ylabel: str
    log_y: bool = False
    baseline: float | None = None


Plot = LinePlot | BarPlot


def pyplot() -> Any | None:
    """matplotlib's pyplot on the Agg backend, or None when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        matplotlib.rcParams["svg.hashsalt"] = "gil-lab"  # the same plot, the same file: diffs show changes
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _error(series: Series) -> list[list[float]] | None:
    if not series.lows:
        return None
    below = [max(0.0, y - low) for y, low in zip(series.ys, series.lows, strict=True)]
    above = [max(0.0, high - y) for y, high in zip(series.ys, series.highs, strict=True)]
    return [below, above]


def _draw_lines(plt: Any, plot: LinePlot) -> Any:
    count = len(plot.panels)
    figure, axes = plt.subplots(1, count, figsize=(3.4 * count + 1, 3.3), sharey=True, squeeze=False)
    # one colour per label across panels: a runtime without some model must not shift the others' colours
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    labels = list(dict.fromkeys(s.label for panel in plot.panels for s in panel.series))
    colour = {label: palette[i % len(palette)] for i, label in enumerate(labels)}
    legend: dict[str, Any] = {}
    for axis, panel in zip(axes[0], plot.panels, strict=True):
        xs_seen: set[Any] = set()
        for series in panel.series:
            drawn = axis.errorbar(
                list(series.xs), list(series.ys), yerr=_error(series), marker="o", capsize=3,
                color=colour[series.label], label=series.label,
            )  # fmt: skip
            legend.setdefault(series.label, drawn)
            xs_seen.update(series.xs)
        if plot.ideal and xs_seen:
            ideal = sorted(xs_seen)
            legend.setdefault("ideal N×", axis.plot(ideal, ideal, "k--", linewidth=1)[0])
        if plot.baseline is not None:
            axis.axhline(plot.baseline, color="k", linewidth=0.8)
        if plot.log_x:
            axis.set_xscale("log", base=2)
        elif xs_seen and all(isinstance(x, int) for x in xs_seen):
            axis.set_xticks(sorted(xs_seen))  # worker counts: whole numbers only
        if plot.log_y:
            axis.set_yscale("log")
        axis.set_title(panel.title)
        axis.set_xlabel(plot.xlabel)
    axes[0][0].set_ylabel(plot.ylabel)
    axes[0][-1].legend(
        list(legend.values()), list(legend), fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1)
    )
    figure.suptitle(plot.title, y=1.04)
    return figure


def _draw_bars(plt: Any, plot: BarPlot) -> Any:
    figure, axis = plt.subplots(figsize=(8, 3.6))
    width = 0.8 / max(1, len(plot.series))
    for i, series in enumerate(plot.series):
        positions = [x + i * width for x in range(len(plot.groups))]
        axis.bar(positions, list(series.ys), width, yerr=_error(series), capsize=2, label=series.label)
    if plot.baseline is not None:
        axis.axhline(plot.baseline, color="k", linewidth=0.8)
    if plot.log_y:
        axis.set_yscale("log")
    centres = [x + width * (len(plot.series) - 1) / 2 for x in range(len(plot.groups))]
    axis.set_xticks(centres, list(plot.groups), rotation=30, ha="right", fontsize=8)
    axis.set_ylabel(plot.ylabel)
    axis.set_title(plot.title)
    axis.legend(fontsize=7)
    return figure


def write(plot: Plot, out_dir: Path, plt: Any) -> list[Path]:
    """Draw *plot* into <stem>.png and <stem>.svg under *out_dir*; the paths written."""
    if isinstance(plot, BarPlot):
        missing = [s.label for s in plot.series if not s.lows]
        if missing:
            raise ValueError(f"bar plot {plot.stem}: series without intervals: {', '.join(missing)}")
        figure = _draw_bars(plt, plot)
    else:
        figure = _draw_lines(plt, plot)
    paths = [out_dir / f"{plot.stem}.{suffix}" for suffix in SUFFIXES]
    for path in paths:  # no creation date: a rebuilt report is byte for byte the same
        stamp = {"Date": None} if path.suffix == ".svg" else {}
        figure.savefig(path, dpi=100, bbox_inches="tight", metadata=stamp)
    plt.close(figure)
    return paths
