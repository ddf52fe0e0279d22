"""I/O-bound work on the lab's local HTTP server: requests/s, latency and CPU per request by model."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from labs.analyse.runs import Bench
from labs.plan.key import BenchKey
from labs.report import markdown
from labs.report.section import Section, per_runtime
from labs.report.view import MachineView, RuntimeView, model_rank

TITLE = "I/O-bound work on a local HTTP server"


@dataclass(frozen=True)
class IoNumbers:
    """One I/O bench as numbers: requests (tasks) per second, latencies and CPU per request."""

    rate: float
    p50_ms: float  # median of the measuring processes' p50s
    p99_ms: float  # the worst process's p99
    cpu_ms: float  # CPU time of the lab's process tree per request


def io_numbers(bench: Bench) -> IoNumbers:
    tasks = bench.meta.tasks or 0
    p50 = bench.each_run(lambda m: m.p50_ms)
    p99 = bench.each_run(lambda m: m.p99_ms)
    cpu = bench.each_run(lambda m: m.cpu_seconds)
    return IoNumbers(
        tasks / bench.mean if tasks else math.nan,
        statistics.median(p50) if p50 else math.nan,
        max(p99) if p99 else math.nan,
        statistics.fmean(cpu) / tasks * 1e3 if cpu and tasks else math.nan,
    )


def _ms(value: float, digits: int = 1) -> str:
    return "–" if math.isnan(value) else f"{value:.{digits}f} ms"


def _download(runtime: RuntimeView) -> list[tuple[BenchKey, Bench, IoNumbers]]:
    found = [
        (key, bench, io_numbers(bench))
        for key, bench in runtime.matrix("io")
        if key.workload == "download" and key.pattern == "n-workers"
    ]
    return sorted(found, key=lambda item: (model_rank(item[0].model), item[0].workers))


def _runtime_lines(runtime: RuntimeView) -> tuple[list[str], list[str]]:
    measured = _download(runtime)
    if not measured:
        return [], []
    rows = []
    for key, bench, numbers in measured:
        added = bench.meta.latency_ms
        latency = (50 if added is None else added) / 1e3  # runs that did not record it had the default, 50
        ideal = key.workers / latency if latency else math.nan
        n = bench.shape
        cells = [
            markdown.rate(numbers.rate),
            f"{numbers.rate / ideal:.0%}",
            _ms(numbers.p50_ms),
            _ms(numbers.p99_ms),
        ]
        rows.append([key.model, str(key.workers), *cells, _ms(numbers.cpu_ms, 2), n])
    header = ["model", "concurrency", "requests/s", "of ideal", "p50", "p99", "CPU / request", "n"]
    lines = [f"### download on {runtime.tag}", "", *markdown.table(header, rows), ""]
    capacity = next(iter(runtime.in_suite("capacity").items()), None)
    if capacity is None:
        return lines, []
    capacity_key, capacity_bench = capacity
    capacity_rate = io_numbers(capacity_bench).rate
    best_key, best_bench, best = max(measured, key=lambda item: item[2].rate)
    latency_ms = "?" if best_bench.meta.latency_ms is None else best_bench.meta.latency_ms
    lines += [
        f"Server capacity (asyncio client, {capacity_key.workers} concurrent, no added latency): "
        f"{markdown.rate(capacity_rate)} requests/s ({markdown.n(capacity_bench)}); the best model "
        f"above reaches {markdown.rate(best.rate)} requests/s ({best_key.model} at {best_key.workers}).",
        "",
    ]
    finding = (
        f"On {runtime.tag}, the local server answers {markdown.rate(capacity_rate)} requests/s to the "
        f"fastest client ({markdown.n(capacity_bench)}), {capacity_rate / best.rate:.1f}× the best "
        f"model under test ({best_key.model} at {best_key.workers} concurrent: {markdown.rate(best.rate)} "
        f"requests/s with {latency_ms} ms latency, {markdown.n(best_bench)})."
    )
    return lines, [finding]


def io_download(view: MachineView) -> Section:
    lines = [
        "`download`: GET pages from the lab's server on 127.0.0.1 (its own process, on a host interpreter). "
        "Requests/s = tasks / mean job time; p50 and p99 are per-request latencies seen by the client in the "
        "verification job of each measuring process (median of p50s, worst p99); CPU is the lab's process "
        "tree per request. Ideal = concurrency / server latency.",
        "",
    ]
    parts = (_runtime_lines(runtime) for runtime in view.runtimes.values())
    return per_runtime(TITLE, lines, parts, "No download benches in these results.")
