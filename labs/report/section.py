"""Section: what one part of the report says, computed from a MachineView and nothing else."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from labs.report import markdown
from labs.report.plots import Plot


@dataclass(frozen=True)
class Section:
    """One ``## title`` of REPORT.md: its text, the findings it supports, the plots it draws, and
    what it had to leave out (each a line of the report's "Left out")."""

    title: str
    lines: tuple[str, ...]
    findings: tuple[str, ...] = ()
    plots: tuple[Plot, ...] = ()
    left_out: tuple[str, ...] = ()
    lead: bool = False  # printed before the contents and the findings: the answer comes first
    aside: tuple[
        str, ...
    ] = ()  # beside the lines on the page (a plot next to its table); after them in Markdown

    @property
    def anchor(self) -> str:
        return markdown.anchor(self.title)

    def markdown(self, drawn: set[str] | None = None) -> str:
        """The section as Markdown; images of plots not in *drawn* (when given) are left out."""
        missing = {markdown.image(p.stem) for p in self.plots if drawn is not None and p.stem not in drawn}
        aside = ("", *self.aside) if self.aside else ()
        body = [line for line in (*self.lines, *aside) if line not in missing]
        return "\n".join([f"## {self.title}", "", *body]).rstrip() + "\n"


def findings_beyond_the_lead(sections: Iterable[Section]) -> tuple[list[str], str]:
    """Every section's findings, less those a lead section (the key questions) already states word for
    word: the Findings list adds to the first screen, it does not repeat it. With what to say when the
    list is empty."""
    sections = list(sections)
    stated = "\n".join(line for s in sections if s.lead for line in s.lines)
    found = [f for s in sections for f in s.findings]
    empty = "Every finding is stated in the key questions above." if found else "No finding: too few results."
    return [f for f in found if f not in stated], empty


def per_runtime(
    title: str, intro: list[str], parts: Iterable[tuple[list[str], list[str]]], empty: str
) -> Section:
    """A section made of one (lines, findings) part per runtime after *intro*; *empty* when none has any."""
    lines, findings = list(intro), []
    for more, found in parts:
        lines += more
        findings += found
    if len(lines) == len(intro):
        return section(title, [empty])
    return section(title, lines, findings)


def section(
    title: str,
    lines: list[str],
    findings: list[str] | None = None,
    plots: list[Plot] | None = None,
    left_out: list[str] | None = None,
) -> Section:
    return Section(title, tuple(lines), tuple(findings or ()), tuple(plots or ()), tuple(left_out or ()))
