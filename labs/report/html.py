"""REPORT.html: the report as one self-contained page that opens from disk with no network.

The page is made from the same computed sections as REPORT.md, never from the Markdown text: tables
come from the cells the sections built (``markdown.TableLine``), whose numbers (``markdown.Cell``) give
the sort order and the flags; plots come from the sections' LinePlot / BarPlot declarations, drawn by
plotly.js (``figures.py``). Every script and style is inline: plotly.js is the copy the ``plotly``
package ships, so the page needs nothing but a browser.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import replace
from importlib import resources
from typing import Any

from labs.report import figures, markdown
from labs.report.markdown import Cell, TableLine
from labs.report.section import Section, findings_beyond_the_lead
from labs.report.view import MODEL_ORDER, MachineView, model_rank

NO_PLOTLY = "interactive plots: plotly is not installed (`nox -s report` installs it)"
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((#[^)\s]+)\)")


def plotly_js() -> str | None:
    """The plotly.js bundle shipped inside the plotly package, or None when plotly is not installed."""
    try:
        from plotly.offline import get_plotlyjs
    except ImportError:
        return None
    return str(get_plotlyjs())


def _asset(name: str) -> str:
    return resources.files("labs.report").joinpath("assets", name).read_text(encoding="utf-8")


def _script(code: str) -> str:
    return "<script>" + code.replace("</script", "<\\/script") + "</script>"


def inline(text: str) -> str:
    """One line of the report's Markdown as HTML: code, bold and in-page links; everything else escaped."""
    escaped = html.escape(text, quote=False)
    escaped = _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", escaped)
    escaped = _BOLD.sub(lambda m: f"<strong>{m.group(1)}</strong>", escaped)
    return _LINK.sub(lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', escaped)


def _cell(text: str) -> str:
    """A table cell; a number keeps its value for sorting, and a flagged one says why on hover."""
    if not isinstance(text, Cell):
        return f"<td>{inline(text)}</td>"
    classes = ["num"] if text.sort is not None else []
    attributes = f' data-sort="{text.sort!r}"' if text.sort is not None and math.isfinite(text.sort) else ""
    hover = [text.estimate.bench] if text.estimate is not None and text.estimate.bench else []
    if text.flag:
        classes.append("flagged")
        hover.append(f"⚠ {text.flag}")
    if text.tone is not None and math.isfinite(text.tone):
        attributes += f' style="background: {_tone(text.tone)}"'
    if text.tone is not None and text.estimate is not None:
        hover.append(f"speedup {text.estimate}")  # the compact cell's interval and n
    if classes:
        attributes += f' class="{" ".join(classes)}"'
    if hover:
        attributes += f' title="{html.escape(" · ".join(hover))}"'
    return f"<td{attributes}>{inline(text)}</td>"


def _tone(tone: float) -> str:
    """A cell's background: green for good (towards 1), red for bad (towards -1), white at 0."""
    strength = round(min(abs(tone), 1.0) * 0.55, 3)
    return f"rgba(46, 160, 67, {strength})" if tone >= 0 else f"rgba(207, 34, 46, {strength})"


def table(structured: markdown.Table) -> str:
    head = "".join(f'<th scope="col">{inline(h)}</th>' for h in structured.header)
    rows = "".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in structured.rows)
    return (
        f'<div class="table-wrap"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _plot(stem: str, title: str, panels: int, drawn: bool) -> str:
    if not drawn:
        return (
            f'<figure class="plot" id="plot-{stem}"><p class="missing">{html.escape(NO_PLOTLY)}</p></figure>'
        )
    divs = "".join(f'<div class="panel" data-plot="{stem}" data-panel="{i}"></div>' for i in range(panels))
    note = '<span class="legend-note"> · hatched bars and ✕ points are flagged: hover for why</span>'
    caption = f"<figcaption><strong>{html.escape(title)}</strong>{note}</figcaption>"
    return f'<figure class="plot" id="plot-{stem}">{caption}<div class="panels">{divs}</div></figure>'


def _heading(level: int, text: str, anchor: str) -> str:
    link = f'<a class="anchor" href="#{anchor}" aria-label="link to this part">¶</a>'
    return f'<h{level} id="{anchor}">{inline(text)}{link}</h{level}>'


def _body(section: Section, panels: dict[str, int], drawn: bool) -> list[str]:
    """The section's lines as HTML blocks: headings, paragraphs, lists, tables and plots."""
    images = {markdown.image(p.stem): p for p in section.plots}
    out: list[str] = []
    items: list[str] = []
    for line in [*section.lines, ""]:
        if items and not line.startswith("- "):
            out.append("<ul>" + "".join(f"<li>{inline(item)}</li>" for item in items) + "</ul>")
            items = []
        if isinstance(line, TableLine):
            if line.index == 0:
                out.append(table(line.table))
        elif line.startswith("### "):
            out.append(_heading(3, line[4:], f"{section.anchor}-{markdown.anchor(line[4:])}"))
        elif line.startswith("- "):
            items.append(line[2:])
        elif line in images:
            plot = images[line]
            out.append(_plot(plot.stem, plot.title, panels.get(plot.stem, 0), drawn))
        elif line.startswith(("<details>", "</details>")):
            out.append(line.strip())  # the report's own markup, passed through
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    return out


def section_html(section: Section, panels: dict[str, int], drawn: bool) -> str:
    body = "\n".join(_body(section, panels, drawn))
    if section.aside:
        beside = "\n".join(_body(replace(section, lines=section.aside), panels, drawn))
        body = f'<div class="beside"><div>{body}</div><aside>{beside}</aside></div>'
    heading = _heading(2, section.title, section.anchor)
    return f'<section id="section-{section.anchor}">\n{heading}\n{body}\n</section>'


def _toggles(runtimes: list[str], models: list[str]) -> str:
    def boxes(kind: str, names: list[str]) -> str:
        return "".join(
            f'<label><input type="checkbox" data-kind="{kind}" value="{html.escape(n)}" checked> '
            f"{html.escape(n)}</label>"
            for n in names
        )

    return (
        '<div class="toggles" aria-label="show or hide in every plot">'
        f"<fieldset><legend>Runtimes</legend>{boxes('runtime', runtimes)}</fieldset>"
        f"<fieldset><legend>Models</legend>{boxes('model', models)}</fieldset></div>"
    )


def _figures(view: MachineView, sections: list[Section]) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """Every plot's figures by stem, and the models that appear in any of them (in model order)."""
    runtimes = {str(t) for t in view.tags}
    models = set(MODEL_ORDER) | {k.model for rt in view.runtimes.values() for k in rt.benches}
    found = {p.stem: figures.figures(p, runtimes, models) for s in sections for p in s.plots}
    shown = {t["meta"].get("model") for figs in found.values() for f in figs for t in f["data"]}
    return found, sorted((m for m in shown if m), key=lambda m: (model_rank(m), m))


def finite(value: Any) -> Any:
    """*value* with every NaN or infinity replaced by None: JSON has no such numbers."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _list(title: str, anchor: str, lines: list[str], empty: str) -> str:
    items = "".join(f"<li>{inline(line)}</li>" for line in lines) or f"<li>{html.escape(empty)}</li>"
    return f'<section id="section-{anchor}">{_heading(2, title, anchor)}<ul>{items}</ul></section>'


def render(view: MachineView, sections: list[Section], plotly: str | None) -> str:
    """The whole page. Without *plotly* (the plotly.js source) plots are left out and the page says so."""
    found, models = _figures(view, sections)
    panels = {stem: len(figs) for stem, figs in found.items()}
    drawn = plotly is not None
    findings, none = findings_beyond_the_lead(sections)
    left_out = [*view.left_out, *(line for s in sections for line in s.left_out)]
    if not drawn:
        left_out.append(NO_PLOTLY)
    toc = [(s.title, s.anchor) for s in sections] + [("Findings", "findings"), ("Left out", "left-out")]
    nav = "".join(f'<li><a href="#{a}">{html.escape(t)}</a></li>' for t, a in toc)
    title = f"gil-lab report: machine {view.machine}"
    intro = (
        f"Generated by <code>python -m labs report</code> from the {html.escape(view.mode)}-mode runs of "
        f"{len(view.runtimes)} runtime(s) under <code>results/{html.escape(view.machine)}/</code>"
        + (
            f", all of session <code>{html.escape(view.session)}</code>"
            if view.session
            else ", every session merged"
        )
        + ". Hover a "
        "point or a flagged (⚠) number for its bench, interval and n; click a column heading to sort; the "
        "boxes above show or hide runtimes and models in every plot."
    )
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_asset('page.css')}</style></head><body>",
        _toggles([str(t) for t in view.tags], models) if drawn else "",
        f"<main><h1>{html.escape(title)}</h1><p>{intro}</p>",
        *(section_html(s, panels, drawn) for s in sections if s.lead),
        f'<nav class="toc" id="contents" aria-label="contents"><strong>Contents</strong><ol>{nav}</ol></nav>',
        _list("Findings", "findings", findings, none),
        *(section_html(s, panels, drawn) for s in sections if not s.lead),
        _list("Left out", "left-out", left_out, "Nothing."),
        "</main>",
        '<script type="application/json" id="figures">'
        + json.dumps(finite(found), allow_nan=False).replace("</", "<\\/")
        + "</script>",
        _script(plotly) if drawn else "",
        _script(_asset("page.js")),
        "</body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"
