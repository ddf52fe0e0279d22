"""Mixed I/O and CPU: each request followed by CPU work, and where another model overtakes asyncio."""

from __future__ import annotations

from dataclasses import replace

from labs.analyse import estimates as analysed
from labs.analyse.estimates import Estimate
from labs.analyse.runs import Bench
from labs.report import estimates, markdown
from labs.report.plots import LinePlot, Panel, interval_series
from labs.report.section import Section, per_runtime
from labs.report.sections.io import io_numbers
from labs.report.view import MODEL_ORDER, MachineView, RuntimeView

TITLE = "Mixed: each request followed by CPU work (the crossover)"
STEM = "io-crossover"


def cpu_units(bench: Bench) -> float | None:
    """The CPU units of a mixed-workload bench, None for any other bench (runs stored before benches
    recorded their variant get it on load: labs.store.upgrade)."""
    meta = bench.meta
    return float(meta.variant) if meta.variant_of == "mixed" and meta.variant is not None else None


def _beats_asyncio(benches: dict[str, Bench], rates: dict[str, float]) -> tuple[str, Estimate] | None:
    """The fastest model of one variant when its job time is below asyncio's with the whole interval."""
    winner = max(rates, key=lambda m: rates[m])
    if winner == "asyncio" or "asyncio" not in benches:
        return None
    estimate = analysed.time_ratio(benches["asyncio"], benches[winner])
    return (winner, estimate) if estimate.high is not None and estimate.high < 1 else None


def _runtime(runtime: RuntimeView) -> tuple[list[str], list[str]]:
    benches: dict[str, dict[str, Bench]] = {}
    units: dict[str, float] = {}
    for key, bench in runtime.matrix("io"):
        found = cpu_units(bench)
        if found is not None and key.model != "serial":
            benches.setdefault(key.workload, {})[key.model] = bench
            units[key.workload] = found
    if not benches:
        return [], []
    variants = sorted(benches, key=units.__getitem__)
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
            finding = (
                f"On {runtime.tag}, from {variant} on, {winner} overtakes asyncio: "
                f"{markdown.rate(rates[variant][winner])} against {markdown.rate(rates[variant]['asyncio'])} "
                f"requests/s (job time ratio {markdown.times(estimate)})."
            )
            return [*lines, finding, ""], [finding]
    last = variants[-1]
    if "asyncio" not in rates[last]:
        return lines, []
    finding = (
        f"On {runtime.tag}, no model beats asyncio beyond its 95% interval up to {last} "
        f"({markdown.rate(rates[last]['asyncio'])} requests/s, {markdown.n(benches[last]['asyncio'])})."
    )
    return [*lines, finding, ""], [finding]


def mixed(view: MachineView) -> Section:
    lines = [
        "Requests/s per model at one concurrency as the CPU work per request grows. The crossover is the "
        "first variant at which another model's job time is below asyncio's with its whole 95% interval.",
        "",
    ]
    parts = (_runtime(runtime) for runtime in view.runtimes.values())
    found = per_runtime(TITLE, lines, parts, "No mixed I/O + CPU benches in these results.")
    panels = tuple(panel for panel in (_panel(rt) for rt in view.runtimes.values()) if panel.series)
    if not panels:
        return found
    plot = LinePlot(STEM, "requests/s as CPU work per request grows", panels, "variant", "requests/s")
    return replace(found, lines=(*found.lines, markdown.image(STEM)), plots=(plot,))


def _panel(runtime: RuntimeView) -> Panel:
    """Requests/s of each model across the mixed variants, with the interval of each job time."""
    by_model: dict[str, dict[str, Estimate]] = {}
    units: dict[str, float] = {}
    for key, bench in runtime.matrix("io"):
        found = cpu_units(bench)
        if found is not None and key.model != "serial":
            units[key.workload] = found
            tasks = bench.meta.tasks or 0
            if tasks:
                by_model.setdefault(key.model, {})[key.workload] = estimates.rate(bench, tasks)
    series = []
    for model in (m for m in MODEL_ORDER if m in by_model):
        variants = sorted(by_model[model], key=units.__getitem__)
        series.append(interval_series(model, variants, [by_model[model][v] for v in variants]))
    return Panel(str(runtime.tag), tuple(series))
