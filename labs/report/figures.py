"""The report's plots as interactive figures: plotly.js figure specs (plain JSON) made from the same
declarative LinePlot / BarPlot that plots.py draws with matplotlib, so both show the same numbers.

Every point carries its interval as an error bar and, for hover, its value, interval, n and bench
name; a flagged point (suspect or unstable) is drawn with another marker and says why. Each trace
names the runtime and model it shows (``meta``), which is what the page's toggles act on.
"""

from __future__ import annotations

import math
from typing import Any

from labs.report.plots import BarPlot, LinePlot, Plot, Series

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf")  # fmt: skip
HOVER = (
    "<b>%{fullData.name}</b><br>%{customdata[0]}<br>value %{customdata[1]}<br>"
    "95% interval %{customdata[2]}<br>n=%{customdata[3]}%{customdata[4]}<extra></extra>"
)


def _number(value: float) -> str:
    return "–" if value is None or math.isnan(value) else f"{value:.3g}"


def _points(series: Series) -> tuple[list[Any], list[list[str]]]:
    """y values (None where a bar has no bench) and the hover data of each point."""
    ys, hover = [], []
    for i, y in enumerate(series.ys):
        bench = series.benches[i] if series.benches else ""
        has_interval = series.intervals[i] if series.intervals else bool(series.lows)
        interval = f"[{_number(series.lows[i])}, {_number(series.highs[i])}]" if has_interval else "none"
        flag = series.flags[i] if series.flags else ""
        ns = series.ns[i] if series.ns else "?"
        ys.append(None if not ns else y)  # no estimate here: no bar, rather than a bar of zero
        hover.append([bench or series.label, _number(y), interval, ns, f"<br>⚠ {flag}" if flag else ""])
    return ys, hover


def _error(series: Series) -> dict[str, Any]:
    if not series.lows:
        return {"visible": False}
    above = [max(0.0, h - y) for y, h in zip(series.ys, series.highs, strict=True)]
    below = [max(0.0, y - low) for y, low in zip(series.ys, series.lows, strict=True)]
    return {"type": "data", "symmetric": False, "array": above, "arrayminus": below, "visible": True}


def _meta(series: Series, panel: str, runtimes: set[str], models: set[str]) -> dict[str, str]:
    runtime = panel if panel in runtimes else series.label if series.label in runtimes else ""
    return {"runtime": runtime, "model": series.label if series.label in models else ""}


def _trace(series: Series, colour: str, meta: dict[str, str], bars: bool) -> dict[str, Any]:
    ys, hover = _points(series)
    flagged = [bool(flag) for flag in series.flags] if series.flags else [False] * len(ys)
    trace: dict[str, Any] = {
        "name": series.label,
        "x": list(series.xs),
        "y": ys,
        "error_y": _error(series),
        "customdata": hover,
        "hovertemplate": HOVER,
        "meta": meta,
        "legendgroup": series.label,
    }
    if bars:
        pattern = ["/" if f else "" for f in flagged]
        trace |= {"type": "bar", "marker": {"color": colour, "pattern": {"shape": pattern}}}
    else:
        symbols = ["x" if f else "circle" for f in flagged]
        sizes = [11 if f else 7 for f in flagged]
        trace |= {"type": "scatter", "mode": "lines+markers", "line": {"color": colour}}
        trace["marker"] = {"color": colour, "symbol": symbols, "size": sizes}
    return trace


def _layout(title: str, xlabel: str, ylabel: str, plot: Plot) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 14}},
        "xaxis": {"title": {"text": xlabel}, "automargin": True},
        "yaxis": {"title": {"text": ylabel}, "automargin": True},
        "margin": {"l": 50, "r": 10, "t": 40, "b": 40},
        "legend": {"orientation": "h", "y": -0.25},
        "height": 380,
        "hovermode": "closest",
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif"},
    }
    if getattr(plot, "log_x", False):
        layout["xaxis"]["type"] = "log"
    if plot.log_y:
        layout["yaxis"]["type"] = "log"
    if isinstance(plot, BarPlot):
        layout["barmode"] = "group"
        layout["xaxis"]["type"] = "category"
    if plot.baseline is not None:
        line = {"color": "#000", "width": 1}
        layout["shapes"] = [
            {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": plot.baseline, "y1": plot.baseline}
            | {"line": line}
        ]
    return layout


CLIP = 1.3  # the y axis reaches 30% above the highest value (or reference line) shown, no further


def _clipped(figure: dict[str, Any], reference: float | None) -> dict[str, Any]:
    """*figure* with its y axis held to the values it shows: an interval reaching far above every value
    (one process's [0.11, 9.33] beside speedups of 2) would squash them all. Such an interval is cut at
    the top and marked there with a ▲ that says where it ends."""
    if figure["layout"]["yaxis"].get("type") == "log":
        return figure
    tops = [y for t in figure["data"] for y in t.get("y", []) if isinstance(y, int | float)]
    if reference is not None:
        tops.append(reference)
    if not tops or max(tops) <= 0:
        return figure
    top = max(tops) * CLIP
    marks_x, marks_text = [], []
    for trace in figure["data"]:
        error = trace.get("error_y", {})
        for i, y in enumerate(trace.get("y", [])):
            if error.get("visible") and isinstance(y, int | float) and y + error["array"][i] > top:
                marks_x.append(trace["x"][i])
                marks_text.append(f"{trace['name']}: interval reaches {y + error['array'][i]:.3g} (cut)")
    if not marks_x:
        return figure
    figure["layout"]["yaxis"]["range"] = [0, top]
    marker = {"symbol": "triangle-up", "size": 10, "color": "#57606a"}
    figure["data"].append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "interval cut",
            "x": marks_x,
            "y": [top * 0.97] * len(marks_x),
        }
        | {"marker": marker, "text": marks_text, "hovertemplate": "%{text}<extra></extra>", "meta": {}}
    )
    return figure


def figures(plot: Plot, runtimes: set[str], models: set[str]) -> list[dict[str, Any]]:
    """One figure ({data, layout}) per panel of *plot*; a bar plot is one panel."""
    if isinstance(plot, BarPlot):
        colours = {s.label: PALETTE[i % len(PALETTE)] for i, s in enumerate(plot.series)}
        data = [_trace(s, colours[s.label], _meta(s, "", runtimes, models), True) for s in plot.series]
        figure = {"data": data, "layout": _layout("", "", plot.ylabel, plot)}  # the caption titles it
        return [_clipped(figure, plot.baseline)]
    return _line_figures(plot, runtimes, models)


def _dot_plot(figure: dict[str, Any], x: Any, xlabel: str) -> None:
    """A panel measured at one x: one dot per series, each at its own place, with its interval (a line
    through one point says nothing, and every series would sit on the same spot)."""
    for trace in figure["data"]:
        if trace.get("type") == "scatter" and trace.get("name") != "ideal N×":
            trace["x"], trace["mode"] = [trace["name"]] * len(trace["x"]), "markers"
    figure["data"] = [t for t in figure["data"] if t.get("name") != "ideal N×"]
    figure["layout"]["xaxis"] = {"type": "category", "automargin": True, "title": {"text": f"{xlabel} = {x}"}}
    figure["layout"]["showlegend"] = False  # each dot's model is its x label


def _line_figures(plot: LinePlot, runtimes: set[str], models: set[str]) -> list[dict[str, Any]]:
    labels = list(dict.fromkeys(s.label for panel in plot.panels for s in panel.series))
    colours = {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(labels)}
    found = []
    for panel in plot.panels:
        data = [
            _trace(s, colours[s.label], _meta(s, panel.title, runtimes, models), False) for s in panel.series
        ]
        xs = sorted({x for s in panel.series for x in s.xs})
        if plot.ideal and xs:
            data.append(
                {"type": "scatter", "mode": "lines", "name": "ideal N×", "x": xs, "y": xs, "meta": {}}
                | {"line": {"color": "#000", "dash": "dash", "width": 1}, "hoverinfo": "skip"}
            )
        layout = _layout(
            panel.title or plot.title, plot.xlabel, plot.ylabel, plot
        )  # the caption says the rest
        if xs and not plot.log_x and all(isinstance(x, int) for x in xs):
            layout["xaxis"] |= {"tickmode": "array", "tickvals": xs}  # worker counts: whole numbers only
        if any(isinstance(x, str) for x in xs):  # runtime tags: "3.13" is a name, not the number 3.13
            order = list(dict.fromkeys(x for s in panel.series for x in s.xs))
            layout["xaxis"] |= {"type": "category", "categoryorder": "array", "categoryarray": order}
        figure = {"data": data, "layout": layout}
        if len(xs) == 1:
            _dot_plot(figure, xs[0], plot.xlabel)
        reference = (
            plot.baseline if plot.baseline is not None else (max(xs) if plot.ideal and len(xs) > 1 else None)
        )
        found.append(_clipped(figure, reference))
    return found
