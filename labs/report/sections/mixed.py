"""Mixed I/O and CPU: each request followed by CPU work, and where another model overtakes asyncio."""

from __future__ import annotations

from labs.analyse.runs import Bench
from labs.report import estimates, markdown
from labs.report.estimates import Estimate
from labs.report.section import Section, per_runtime
from labs.report.sections.io import io_numbers
from labs.report.view import MODEL_ORDER, MachineView, RuntimeView
from labs.workloads import NAMES

TITLE = "Mixed: each request followed by CPU work (the crossover)"
# The mixed workload's declared variants, in the registry's order (its knob's order): mixed-cpu0 ... 64.
MIXED = tuple(name for name in NAMES if name.startswith("mixed-"))


def _beats_asyncio(benches: dict[str, Bench], rates: dict[str, float]) -> tuple[str, Estimate] | None:
    """The fastest model of one variant when its job time is below asyncio's with the whole interval."""
    winner = max(rates, key=lambda m: rates[m])
    if winner == "asyncio" or "asyncio" not in benches:
        return None
    estimate = estimates.time_ratio(benches["asyncio"], benches[winner])
    return (winner, estimate) if estimate.high is not None and estimate.high < 1 else None


def _runtime(runtime: RuntimeView) -> tuple[list[str], list[str]]:
    benches: dict[str, dict[str, Bench]] = {}
    for key, bench in runtime.matrix("io"):
        if key.workload in MIXED and key.model != "serial":
            benches.setdefault(key.workload, {})[key.model] = bench
    if not benches:
        return [], []
    variants = [v for v in MIXED if v in benches]
    rates = {v: {m: io_numbers(b).rate for m, b in benches[v].items()} for v in variants}
    models = [m for m in MODEL_ORDER if any(m in rates[v] for v in variants)]
    rows = []
    for v in variants:
        cells = [markdown.rate(rates[v][m]) if m in rates[v] else "–" for m in models]
        fewest = min(benches[v].values(), key=lambda b: len(b.processes))
        rows.append([v, *cells, max(rates[v], key=lambda m: rates[v][m]), fewest.shape])
    lines = [
        f"### {runtime.tag}",
        "",
        *markdown.table(["variant", *models, "fastest", "n (least)"], rows),
        "",
    ]
    for variant in variants:
        found = _beats_asyncio(benches[variant], rates[variant])
        if found:
            winner, estimate = found
            return lines, [
                f"On {runtime.tag}, from {variant} on, {winner} overtakes asyncio: "
                f"{markdown.rate(rates[variant][winner])} against {markdown.rate(rates[variant]['asyncio'])} "
                f"requests/s (job time ratio {markdown.times(estimate)})."
            ]
    last = variants[-1]
    if "asyncio" not in rates[last]:
        return lines, []
    return lines, [
        f"On {runtime.tag}, no model beats asyncio beyond its 95% interval up to {last} "
        f"({markdown.rate(rates[last]['asyncio'])} requests/s, {markdown.n(benches[last]['asyncio'])})."
    ]


def mixed(view: MachineView) -> Section:
    lines = [
        "Requests/s per model at one concurrency as the CPU work per request grows. The crossover is the "
        "first variant at which another model's job time is below asyncio's with its whole 95% interval.",
        "",
    ]
    parts = (_runtime(runtime) for runtime in view.runtimes.values())
    return per_runtime(TITLE, lines, parts, "No mixed I/O + CPU benches in these results.")
