"""Race conditions: lost updates of a shared counter, and what each fix costs."""

from __future__ import annotations

import math

from labs.analyse.runs import Bench
from labs.plan.key import BenchKey
from labs.report import estimates, markdown
from labs.report.section import Section, section
from labs.report.view import MachineView

TITLE = "Race conditions: a shared counter"
HEADER = ["runtime", "strategy / workers", "lost per million", "lost per count (min–max)", "counts", "time"]


def _row(key: BenchKey, bench: Bench) -> tuple[list[str], float, list[int]]:
    """A table row, lost updates per million (NaN when not a counter race) and the lost counts."""
    time = markdown.duration(estimates.mean_interval(bench))
    label = f"{key.subject} / {key.workers}"
    overdraft = bench.each_run(lambda m: m.overdraft)
    if bench.meta.overdraft is not None or overdraft:
        return [label, "–", f"overdraft {max(overdraft, default=0)}", str(len(overdraft)), time], math.nan, []
    lost = bench.each_run(lambda m: m.lost)
    expected = bench.meta.expected or (bench.each_run(lambda m: m.expected) or [0])[0]
    per_million = sum(lost) / (len(lost) * expected) * 1e6 if lost and expected else math.nan
    spread = f"{min(lost, default=0)}–{max(lost, default=0)}"
    return [label, f"{per_million:.1f}", spread, str(len(lost)), time], per_million, lost


def races(view: MachineView) -> Section:
    data = view.with_suite("race")
    if not data:
        return section(TITLE, ["No race benches in these results."])
    rows, findings = [], []
    for tag, benches in data.items():
        for key in sorted(benches):
            row, per_million, lost = _row(key, benches[key])
            rows.append([str(tag), *row])
            if key.subject == "unsafe" and lost:
                expected = benches[key].meta.expected or 0
                findings.append(
                    f"On {tag}, the unsafe counter lost {per_million:.1f} updates per million "
                    f"({len(lost)} counts of {expected:,} increments; {min(lost)} to {max(lost)} lost each)."
                )
    lines = [
        "Lost updates per million increments of `counter.value += 1` from several threads, and what each fix "
        "costs (time of the whole count, mean [95% CI]). Each measured process counts once.",
        "",
        *markdown.table(HEADER, rows),
        "",
        "`asyncio-unlocked` / `asyncio-locked`: 100 concurrent withdrawals of 1 from a balance of 50 that "
        "check, `await`, then subtract; the overdraft is what the check-then-act race let through.",
    ]
    return section(TITLE, lines, findings)
