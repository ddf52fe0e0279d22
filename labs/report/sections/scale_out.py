"""Leaving the machine: what Dask and Celery cost next to processes and subinterpreters, and when it
stops mattering.

Three parts, per runtime: the overhead table (start-up, a trivial task's round trip, a 1 MiB payload
through one task), the break-even task size (the ``grain-fibN`` variants under the ``map`` pattern:
the smallest task for which an engine reaches 90% of processes' throughput at the same worker count),
and the CPU-bound speedups of the engines next to processes' at every worker count measured.
"""

from __future__ import annotations

from labs.analyse import estimates as analysed
from labs.plan.key import BenchKey
from labs.plan.matrix import ENGINES
from labs.report import estimates, markdown
from labs.report.section import Section, section
from labs.report.view import MachineView, RuntimeView

TITLE = "Leaving the machine: Dask and Celery"
REFERENCE = "processes-forkserver"  # the single-machine pool the engines are held against
OVERHEAD_MODELS = ("threads", REFERENCE, "interpreters-pool", *ENGINES)
BREAK_EVEN_SHARE = 0.9
GRAIN = "grain-fib"


def _overhead_rows(runtime: RuntimeView, top: int) -> list[list[str]]:
    rows = []
    for model in OVERHEAD_MODELS:
        startup = runtime.benches.get(BenchKey("startup", model=model, workers=top))
        cells = [startup] + [
            runtime.benches.get(BenchKey("transfer", subject=f"task-{model}", params=(("bytes", str(size)),)))
            for size in (1, 1 << 20)
        ]
        if any(cells):
            rows.append(
                [model, *[markdown.duration(estimates.mean_interval(b)) if b else "–" for b in cells]]
            )
    return rows


def _task_seconds(runtime: RuntimeView, workload: str) -> float | None:
    """One task's serial time: the serial bench's job time over its task count."""
    serial = runtime.serial(workload)
    tasks = serial.meta.tasks if serial else None
    return serial.mean / tasks if serial and tasks else None


def _break_even(runtime: RuntimeView, top: int) -> tuple[list[list[str]], list[str]]:
    grains = sorted(
        {k.workload for k in runtime.benches if k.suite == "matrix" and k.workload.startswith(GRAIN)},
        key=lambda name: int(name.removeprefix(GRAIN)),
    )
    rows, findings = [], []
    for engine in ("interpreters-pool", *ENGINES):
        cells, shares = [], {}
        for workload in grains:
            base = runtime.benches.get(BenchKey("matrix", workload, REFERENCE, "map", top))
            bench = runtime.benches.get(BenchKey("matrix", workload, engine, "map", top))
            if not (base and bench and estimates.comparable(base, bench)):
                cells.append("–")
                continue
            shares[workload] = analysed.time_ratio(bench, base)  # processes' time / engine's: its share
            cells.append(markdown.times(shares[workload]))
        # The break-even: the smallest size from which every larger size measured stays at 90% or more.
        even = None
        for workload in reversed(grains):
            share = shares.get(workload)
            if share is None or not share.usable or share.value < BREAK_EVEN_SHARE:
                break
            even = workload
        if not any(cell != "–" for cell in cells):
            continue
        task = _task_seconds(runtime, even) if even else None
        size = f"{even} ({markdown.time(task)} a task)" if even and task else even or "none measured"
        rows.append([engine, *cells, size])
        largest = next((w for w in reversed(grains) if w in shares), None)
        if even:
            findings.append(
                f"On {runtime.tag}, {engine} reaches {BREAK_EVEN_SHARE:.0%} of {REFERENCE}'s throughput at "
                f"{top} workers from {size}, one call per task ({markdown.times(shares[even])} there)."
            )
        elif largest:
            findings.append(
                f"On {runtime.tag}, {engine} stays below {BREAK_EVEN_SHARE:.0%} of {REFERENCE}'s throughput "
                f"at {top} workers at every task size measured, one call per task: "
                f"{markdown.times(shares[largest])} of it at the largest, {largest}."
            )
    header = ["model"]
    header += [f"{w} ({markdown.time(t)})" if (t := _task_seconds(runtime, w)) else w for w in grains]
    return ([*markdown.table([*header, "break-even"], rows), ""] if rows else []), findings


def _scaling_rows(runtime: RuntimeView) -> list[list[str]]:
    rows = []
    workloads = sorted({k.workload for k in runtime.benches if k.suite == "matrix" and k.model in ENGINES})
    for workload in workloads:
        if workload.startswith(GRAIN) or not any(runtime.curve(workload, e) for e in ENGINES):
            continue
        for model in (REFERENCE, *ENGINES):
            curve = runtime.curve(workload, model)
            if curve:
                points = ", ".join(f"w{n}: {markdown.times(e)}" for n, e in curve.items())
                rows.append([workload, model, points])
    return rows


def scale_out(view: MachineView) -> Section:
    top = view.top_workers()
    if top is None or not any(
        k.model in ENGINES or k.subject in {f"task-{e}" for e in ENGINES}
        for runtime in view.runtimes.values()
        for k in runtime.benches
    ):
        return section(TITLE, ["No Dask or Celery benches in these results."])
    lines = [
        "Dask (a LocalCluster: N processes x 1 thread) and Celery (N prefork workers, concurrency 1, on a "
        "local redis-server) on this one machine: what leaving the machine would cost, measured where it "
        "can be. Mean [95% CI], n = processes x values.",
        "",
    ]
    findings: list[str] = []
    for tag, runtime in view.runtimes.items():
        overhead, scaling = _overhead_rows(runtime, top), _scaling_rows(runtime)
        even, found = _break_even(runtime, top)
        if not (overhead or even or scaling):
            continue
        lines += [f"### {tag}", ""]
        if overhead:
            header = ["model", f"start-up, {top} workers", "trivial task round trip", "1 MiB through a task"]
            lines += ["Overhead:", "", *markdown.table(header, overhead), ""]
        if even:
            lines += [
                f"Throughput share of {REFERENCE} at {top} workers, one call per task (`map`), by task "
                f"size (serial time of one task); break-even: the smallest size at {BREAK_EVEN_SHARE:.0%} "
                "or more:",
                "",
                *even,
            ]
        if scaling:
            lines += ["Speedup over serial (n-workers), next to processes:", ""]
            lines += [*markdown.table(["workload", "model", "speedup by workers"], scaling), ""]
        findings += found
    return section(TITLE, lines, findings)
