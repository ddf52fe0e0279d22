"""compare: which benches got faster or slower between runs, with false alarms controlled.

The rule, one quantity from test to verdict to printed interval:

1. The sample is the process. Each side of a bench is its pyperf worker processes' mean times; n is
   printed as "processes x values". A side with one process has no between-process spread: the bench
   is "not tested", never tested on its pooled values (which are not independent).
2. The quantity is R = mean(other's process means) / mean(base's process means); above 1 is slower.
3. The test, for runs measured side by side in one session, is a permutation test of |log R| over
   the process means (labs.analyse.permutation: exact when the relabellings are few, else seeded
   Monte Carlo), giving p. A design whose smallest possible
   p is above alpha (3 + 3 processes: 2/20 = 0.1) can never be significant: it is "not testable"
   and left out of the correction below, where it could only dilute the others.
4. False discovery rate: Benjamini-Hochberg over the m tested benches of the whole compare (every run
   against the base) gives q; a bench is significant when q <= alpha (0.05). Let k be how many are.
5. The interval is the same permutation test inverted at level 1 - max(k, 1) * alpha / m: the false-
   coverage-rate-adjusted interval of Benjamini & Yekutieli (2005). BH rejects exactly the benches
   with p <= k * alpha / m, so this interval excludes 1 exactly when the bench is significant, and the
   search for its edges is anchored on that verdict (see PermutationTest.interval) so rounding cannot
   split them.
6. Verdict: "REGRESSION" (R > 1 + threshold) or "improvement" (R < 1 - threshold) only when q <= alpha
   AND |R - 1| > threshold AND the interval excludes 1; "small change" when significant within the
   threshold; "not significant" when not significant but |R - 1| > threshold; else "same".

Between runs of two runtimes the words are "slower" and "faster": a difference to choose by, not a
regression of the code; only a regression (one runtime, two commits) makes compare fail.

Runs measured apart in time (two sessions, or one after the other) differ by the host's drift too, which
no relabelling of their processes shows: for them the test and its interval are Welch's t on log R with
the machine's between-run variance added (labs.analyse.noise.DriftTest), inverted the same way, and the
rest of the rule is unchanged.

So a flagged bench always prints an interval that excludes 1, and an unflagged one beyond the threshold
always prints one that contains 1: verdict and interval cannot contradict each other.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from labs.analyse import estimates, families, noise, stats
from labs.analyse.permutation import PermutationTest
from labs.analyse.runs import Bench, Run
from labs.analyse.text import format_ci, format_level, format_p, format_time

THRESHOLD = 0.05  # a change smaller than 5% is not flagged, however significant
ALPHA = 0.05  # the false discovery rate controlled across one compare
FLAGS = ("REGRESSION", "improvement", "slower", "faster")
# Between two runtimes (or models) a difference is a fact to choose by, not a regression of the code.
ACROSS_RUNTIMES = {"REGRESSION": "slower", "improvement": "faster"}
RELATIVE_UNIT = "relative time"  # a bench's time / its paired serial baseline's (compare --speedups)


@dataclass
class Comparison:
    """One bench in two runs: the ratio R, its test, its interval and the verdict drawn from them."""

    name: str
    base: Bench
    other: Bench
    ratio: float  # mean of other's process means / base's: above 1 means slower
    ci: tuple[float, float] | None  # at ``level``; None when not tested
    p_value: float | None  # the permutation test on process means
    verdict: str
    q_value: float | None = None  # Benjamini-Hochberg adjusted over the whole compare
    level: float | None = None  # the interval's confidence level (FCR-adjusted, see the module doc)
    exact: bool | None = None  # every relabelling enumerated (else seeded Monte Carlo)
    reason: str = ""  # why a bench is not tested

    @property
    def flagged(self) -> bool:
        return self.verdict in FLAGS


@dataclass
class _Pending:
    """A testable pair, between its test and its verdict (the verdict needs every p of the compare)."""

    comparison: Comparison
    test: PermutationTest


def _untested(base: Bench, other: Bench) -> str:
    """Why the pair cannot be tested, or "" when it can."""
    if base.meta.tasks != other.meta.tasks:
        return "not comparable (different task counts)"
    if min(base.process_means + other.process_means) <= 0:
        return "not comparable (a zero mean has no ratio)"  # only non-time units may hold zeros
    if min(len(base.processes), len(other.processes)) < 2:
        return f"not tested ({len(base.processes)}+{len(other.processes)} processes: needs 2+ a side)"
    return ""


def _start(base: Bench, other: Bench, drift: float) -> Comparison | _Pending:
    reason = _untested(base, other)
    ratio = other.mean / base.mean if base.mean > 0 else math.nan
    if reason:
        return Comparison(base.name, base, other, ratio, None, None, reason.split(" (")[0], reason=reason)
    test: PermutationTest | noise.DriftTest = (
        noise.DriftTest.of(base.process_means, other.process_means, drift)
        if drift > 0  # apart in time: the host's drift between the runs is a variance of its own
        else PermutationTest.of(base.process_means, other.process_means)
    )
    comparison = Comparison(base.name, base, other, test.ratio, None, test.p_value(), "", exact=test.exact)
    if test.smallest_p > ALPHA:
        comparison.verdict = "not testable"
        comparison.reason = (
            f"not testable ({len(base.processes)}+{len(other.processes)} processes: "
            f"smallest possible p is {test.smallest_p:.2g})"
        )
        return comparison
    return _Pending(comparison, test)


def _verdict(ratio: float, significant: bool, ci: tuple[float, float] | None, threshold: float) -> str:
    beyond = abs(ratio - 1.0) > threshold
    excludes_one = ci is not None and not ci[0] <= 1.0 <= ci[1]
    if significant and beyond and excludes_one:
        return "REGRESSION" if ratio > 1.0 else "improvement"
    if significant:
        return "small change"
    return "not significant" if beyond else "same"


def compare_pairs(
    pairs: list[tuple[Bench, Bench]],
    threshold: float = THRESHOLD,
    alpha: float = ALPHA,
    drifts: list[float] | None = None,
) -> list[Comparison]:
    """Compare each (base, other) pair, controlling the false discovery rate across all of them.
    *drifts*: each pair's between-run SD on the log scale (0: measured side by side or in one session,
    tested by permutation)."""
    started = [
        _start(base, other, drift)
        for (base, other), drift in zip(pairs, drifts or [0.0] * len(pairs), strict=True)
    ]
    pending = [s for s in started if isinstance(s, _Pending)]
    q_values = stats.benjamini_hochberg([p.comparison.p_value for p in pending])
    significant = sum(q <= alpha for q in q_values)
    interval_alpha = max(significant, 1) * alpha / len(pending) if pending else alpha
    for item, q in zip(pending, q_values, strict=True):
        comparison = item.comparison
        comparison.q_value = q
        comparison.level = 1.0 - interval_alpha
        comparison.ci = item.test.interval(interval_alpha, rejects_one=q <= alpha)
        comparison.verdict = _verdict(comparison.ratio, q <= alpha, comparison.ci, threshold)
        if comparison.ci is None:
            comparison.reason = f"no interval at {format_level(comparison.level)}: too few processes"
    return [s.comparison if isinstance(s, _Pending) else s for s in started]


def relative_times(run: Run) -> Run:
    """A copy of *run* holding, for each bench timed beside its own serial baseline, its time relative
    to that baseline in each process (1 / the speedup): the quantity a noisy host cannot move, since
    drift hits both sides of each process alike. Other benches are left out (their notes say so)."""
    relative = copy.deepcopy(run)
    relative.tag = f"{run.tag}(relative)"
    relative.benches = {}
    for name, bench in run.benches.items():
        serial = estimates.baseline_of(bench, run)
        if serial is None or serial is bench or not estimates.is_paired(serial, bench):
            continue
        ratios = [b / s for s, b in zip(serial.process_means, bench.process_means, strict=True)]
        metadata = {**bench.metadata, "unit": RELATIVE_UNIT}
        relative.benches[name] = Bench(name, ratios, metadata, processes=[[r] for r in ratios])
    return relative


def matched(base: Run, other: Run) -> tuple[list[tuple[Bench, Bench]], list[str]]:
    """The benches both runs have, matched by their key (by name for benches that have none), and a
    line for each bench only one side has."""

    def identity(bench: Bench) -> object:
        return bench.key or bench.name

    def own(run: Run) -> dict[object, Bench]:
        # a paired serial baseline is part of the bench it was timed in (its speedup's denominator),
        # not a bench of its own: the workload's serial bench stands for serial
        return {identity(b): b for b in run.benches.values() if b.meta.baseline_of is None}

    others, bases = own(other), own(base)
    pairs = [(b, others[k]) for k, b in bases.items() if k in others]
    notes = [f"only in {base.label}: {b.name}" for k, b in bases.items() if k not in others]
    notes += [f"only in {other.label}: {b.name}" for k, b in others.items() if k not in bases]
    return pairs, notes


@dataclass
class RunComparison:
    """One run against the base: its comparisons and the benches only one side has."""

    base: Run
    other: Run
    comparisons: list[Comparison]
    notes: list[str]


def compare_many(
    base: Run,
    others: list[Run],
    threshold: float = THRESHOLD,
    alpha: float = ALPHA,
    profile: noise.Profile = noise.DEFAULT,
) -> list[RunComparison]:
    """Every run in *others* against *base*, with one false-discovery correction across all of them.
    A pair of runs from two sessions counts the machine's between-run drift (*profile*)."""
    matches = [matched(base, other) for other in others]
    drifts = [
        drift(a, profile) if apart(base, other) else 0.0
        for other, (pairs, _) in zip(others, matches, strict=True)
        for a, _b in pairs
    ]
    everything = compare_pairs([pair for pairs, _ in matches for pair in pairs], threshold, alpha, drifts)
    results, start = [], 0
    for other, (pairs, notes) in zip(others, matches, strict=True):
        found = everything[start : start + len(pairs)]
        if runtime_of(other) != runtime_of(base):
            for comparison in found:
                comparison.verdict = ACROSS_RUNTIMES.get(comparison.verdict, comparison.verdict)
        results.append(RunComparison(base, other, found, notes))
        start += len(pairs)
    return results


def same_session(base: Run, other: Run) -> bool:
    sessions = {run.record.get("session") for run in (base, other)}
    return len(sessions) == 1 and None not in sessions


def apart(base: Run, other: Run) -> bool:
    """Whether two runs were measured apart in time: not one session whose processes alternated."""
    return not (same_session(base, other) and alternated(base) and alternated(other))


def drift(bench: Bench, profile: noise.Profile) -> float:
    """The between-run SD for this bench's quantity: a relative time (1 / speedup) or a time."""
    return profile.speedup if bench.metadata.get("unit") == RELATIVE_UNIT else profile.time


def alternated(run: Run) -> bool:
    """Whether the run's measuring processes alternated with other runtimes' (labs bench --interpreters)."""
    return isinstance(run.record.get("alternating"), dict)


def measured_how(base: Run, other: Run) -> str:
    """Which kind of comparison this is: runs of one session (the same minutes, one after the other) or
    of two (apart in time: the host's drift between them is in every ratio, beyond their intervals)."""
    if not apart(base, other):
        return "paired in time: one session, their measuring processes alternating (side by side)"
    if same_session(base, other):
        return (
            "measured in one session, one after the other (minutes apart, not interleaved): each test and "
            "interval below adds this machine's between-run variance (its noise profile)"
        )
    return (
        "measured across runs of two sessions: the host's drift between them is in every ratio, so each "
        "test and interval below adds this machine's between-run variance (its noise profile)"
    )


def runtime_of(run: Run) -> str:
    """The runtime tag a run recorded measuring; else its folder's, without the labels compare adds
    ("3.13(normalized)"). Two files of one runtime in folders of other names stay one runtime."""
    recorded = run.record.get("runtime", {}).get("tag")
    return recorded if isinstance(recorded, str) and recorded else run.tag.split("(", 1)[0]


def _value(bench: Bench) -> str:
    if bench.metadata.get("unit") == RELATIVE_UNIT:
        return f"{bench.mean:.3f} (1/{1 / bench.mean:.2f}x)"
    return format_time(bench.mean)


def table(base: Run, other: Run, comparisons: list[Comparison], markdown: bool) -> list[str]:
    """The comparison table: one row a bench, n as processes x values on each side."""
    level = next((c.level for c in comparisons if c.level is not None), None)
    header = [
        "bench", base.label, other.label, "ratio",
        f"{format_level(level)} CI" if level else "CI", "p", "q (BH)", "n base", "n other", "verdict",
    ]  # fmt: skip
    rows = [
        [
            c.name,
            _value(c.base),
            _value(c.other),
            f"{c.ratio:.3f}",
            format_ci(c.ci),
            format_p(c.p_value),
            format_p(c.q_value),
            c.base.shape,
            c.other.shape,
            c.reason if c.verdict in ("not tested", "not testable", "not comparable") else c.verdict,
        ]
        for c in comparisons
    ]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return ["  ".join(str(cell).ljust(w) for cell, w in zip(r, widths, strict=True)) for r in [header, *rows]]


def rule_lines(
    comparisons: list[Comparison], threshold: float = THRESHOLD, alpha: float = ALPHA
) -> list[str]:
    """How the verdicts were reached, for the output: the reader needs the rule to read the table."""
    tested = [c for c in comparisons if c.q_value is not None]
    level = next((c.level for c in tested if c.level is not None), None)
    flag = f"Flagged when q <= {alpha:g}, |ratio - 1| > {threshold:.0%} and the interval excludes 1"
    if level is not None:
        flag += (
            f"; intervals at {format_level(level)} (widened for the number compared: false coverage "
            f"rate) exclude 1 exactly when q <= {alpha:g}"
        )
    lines = [
        f"ratio = mean of process means, other / base; p: permutation test on process means; "
        f"q: Benjamini-Hochberg over the {len(tested)} tested benches of this compare "
        f"(false discovery rate {alpha:.0%}).",
        flag + ".",
    ]
    why = {
        "not tested": "a side measured in one process (quick mode): no between-process test",
        "not testable": f"too few processes for any permutation test to reach p <= {alpha:g} "
        "(3+3 gives at best 0.1; 4+4 gives 0.029, 5+5 gives 0.008)",
        "not comparable": "different task counts",
    }
    for verdict, reason in why.items():
        count = sum(c.verdict == verdict for c in comparisons)
        if count:
            lines.append(f"{count} bench(es) {verdict}: {reason}.")
    return lines


def render(
    chosen: list[Run],
    threshold: float = THRESHOLD,
    markdown: bool = False,
    profile: noise.Profile = noise.DEFAULT,
) -> tuple[list[str], int, int]:
    """What `labs compare` prints for runs already chosen (``runs.resolve_all``): each run against the
    first, one false-discovery correction over all of them, then the rule. Returns (lines, benches
    compared, regressions)."""
    results = compare_many(chosen[0], chosen[1:], threshold, profile=profile)
    lines: list[str] = []
    for result in results:
        base, other = result.base, result.other
        lines.append(
            f"\n{base.label} ({base.version}) -> {other.label} ({other.version}): "
            f"ratio = {other.tag} / {base.tag} time (means of process means); "
            f"build recipes: {families.comparison_label(base.record, other.record)}"
        )
        lines.append(f"  {measured_how(base, other)}")
        lines += table(base, other, result.comparisons, markdown)
        lines += [f"  {note}" for note in result.notes]
    everything = [c for result in results for c in result.comparisons]
    lines += ["", *rule_lines(everything, threshold)]
    if any(apart(result.base, result.other) for result in results):
        lines.append(
            "Across sessions: p and the interval come from Welch's t on the log ratio with the machine's "
            f"between-run variance added ({profile.describe()})."
        )
    return lines, len(everything), sum(c.verdict == "REGRESSION" for c in everything)
