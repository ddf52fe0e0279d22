"""How reliable these numbers are: the benches whose spread or sample makes their numbers shaky."""

from __future__ import annotations

from collections import Counter

from labs.analyse import estimates as analysed
from labs.analyse.estimates import MAX_CV, MAX_PROCESS_SPREAD, MIN_PROCESSES
from labs.analyse.runs import Bench
from labs.report import markdown
from labs.report.section import Section, section
from labs.report.view import MachineView

TITLE = "How reliable these numbers are"
REASONS = ("CV", "few processes", "processes disagree")


def problems(bench: Bench) -> dict[str, str]:
    """Why a bench's numbers are shaky (reason -> detail); empty when they are not."""
    return analysed.shaky(bench)


def reliability(view: MachineView) -> Section:
    summary, rows = [], []
    for tag, runtime in view.runtimes.items():
        counts: Counter[str] = Counter()
        for key in sorted(runtime.benches):
            bench = runtime.benches[key]
            found = problems(bench)
            counts.update(found.keys())
            counts["listed"] += bool(found)
            if found:
                cv = analysed.coefficient_of_variation(bench)
                rows.append([str(tag), f"`{key.name}`", bench.shape, f"{cv:.1%}", "; ".join(found.values())])
        listed = f"{counts['listed']} of {len(runtime.benches)}"
        summary.append([str(tag), listed, *[str(counts[reason]) for reason in REASONS]])
    lines = [
        f"A bench is listed when its values spread more than {MAX_CV:.0%} around their mean (CV, the "
        f"coefficient of variation), when fewer than {MIN_PROCESSES} pyperf processes measured it, or when "
        f"its process means lie more than {MAX_PROCESS_SPREAD:.0%} apart (a bimodal bench: the process, not "
        "the value, varies). Its numbers carry wide intervals, or none; read their findings with care.",
        "",
        *markdown.table(["runtime", "benches listed", *[f"{reason}" for reason in REASONS]], summary),
    ]
    if rows:
        lines += [
            "",
            "<details><summary>Every listed bench</summary>",
            "",
            *markdown.table(["runtime", "bench", "n", "CV", "why"], rows),
            "",
            "</details>",
        ]
    return section(TITLE, lines)
