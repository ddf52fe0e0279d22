"""results/<machine>/REPORT.md and its plots, written from stored JSON only.

Every number in the report is computed here from the stored benches; every finding sentence is
generated from the same numbers and carries them with their confidence intervals.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from labs.analyse import runs as analysis
from labs.analyse import stats
from labs.analyse.runs import Bench, Run

MODE_RANK = {"quick": 0, "default": 1, "rigorous": 2}
MODEL_ORDER = (
    "serial",
    "threads",
    "asyncio",
    "processes-fork",
    "processes-spawn",
    "processes-forkserver",
    "interpreters-pool",
    "interpreters-raw",
)


def tag_key(tag: str) -> tuple:
    match = re.match(r"(\d+)\.(\d+)(t?)(-gil)?", tag)
    if not match:
        return (99, 99, tag)
    return (int(match.group(1)), int(match.group(2)), bool(match.group(3)), bool(match.group(4)))


@dataclass
class Estimate:
    value: float
    low: float
    high: float

    def __str__(self) -> str:
        return f"{self.value:.2f}× [{self.low:.2f}, {self.high:.2f}]"


def comparable(a: Bench, b: Bench) -> bool:
    """Same task count: a quick run's smaller jobs are never compared with a default run's."""
    return a.metadata.get("lab_tasks") == b.metadata.get("lab_tasks")


def speedup(serial: Bench, bench: Bench) -> Estimate:
    """serial mean / bench mean, with the bootstrap CI of that ratio."""
    low, high = stats.bootstrap_ratio_ci(serial.values, bench.values)  # of bench / serial
    return Estimate(serial.mean / bench.mean, 1 / high, 1 / low)


def time_ratio(base: Bench, other: Bench) -> tuple[Estimate, float]:
    """mean(other) / mean(base) with its CI, and the Mann-Whitney p-value."""
    low, high = stats.bootstrap_ratio_ci(base.values, other.values)
    _, p = stats.mann_whitney_u(base.values, other.values)
    return Estimate(other.mean / base.mean, low, high), p


def parse_name(name: str) -> tuple[str, str, str, int] | None:
    match = re.fullmatch(r"([^/]+)/([^/]+)/([^/]+)/w(\d+)", name)
    if not match or match.group(1) in ("startup", "capacity"):
        return None
    return match.group(1), match.group(2), match.group(3), int(match.group(4))


def choose_runs(runs: list[Run]) -> dict[str, Run]:
    """Per runtime tag, one view over its runs: each bench from the latest run of the most thorough
    mode that has it (a matrix run and a later costs-only run both count)."""
    chosen: dict[str, Run] = {}
    ranked = sorted(
        (r for r in runs if r.benches),
        key=lambda r: (MODE_RANK.get(r.record.get("mode", "quick"), 0), r.started),
    )
    for run in ranked:  # later and more thorough runs overwrite earlier benches of the same name
        view = chosen.get(run.tag)
        sources = [*(view.record["sources"] if view else []), f"{run.tag}/{run.path.name}"]
        benches = {**(view.benches if view else {}), **run.benches}
        record = {**run.record, "sources": sources}
        chosen[run.tag] = Run(run.path, run.machine, run.tag, run.started, record, benches)
    return dict(sorted(chosen.items(), key=lambda item: tag_key(item[0])))


class Report:
    def __init__(self, machine: str, runs: list[Run], out_dir: Path, problems: list[str]) -> None:
        self.machine = machine
        self.all_runs = runs
        self.runs = choose_runs(runs)
        self.out_dir = out_dir
        self.left_out = list(problems)
        self.findings: list[str] = []
        self.plots: list[str] = []
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            self.plt = plt
        except ImportError:
            self.plt = None
            self.left_out.append("plots: matplotlib is not installed (nox -s report installs it)")

    # --- data helpers ---------------------------------------------------------------------------
    def workloads(self, kind: str = "cpu") -> list[str]:
        names = {
            p[0]
            for run in self.runs.values()
            for n, b in run.benches.items()
            if (p := parse_name(n)) and b.metadata.get("lab_kind", "cpu") == kind
        }
        return sorted(names)

    def worker_counts(self) -> list[int]:
        """Worker counts of the CPU-bound benches (I/O sweeps have their own)."""
        cpu = set(self.workloads())
        return sorted(
            {p[3] for run in self.runs.values() for n in run.benches if (p := parse_name(n)) and p[0] in cpu}
        )

    def models_in(self, run: Run, workload: str) -> list[str]:
        found = {p[1] for n in run.benches if (p := parse_name(n)) and p[0] == workload}
        return [m for m in MODEL_ORDER if m in found]

    @staticmethod
    def serial(run: Run, workload: str) -> Bench | None:
        return run.benches.get(f"{workload}/serial/n-workers/w1")

    def curve(self, run: Run, workload: str, model: str, pattern: str = "n-workers") -> dict[int, Estimate]:
        serial = self.serial(run, workload)
        if serial is None:
            return {}
        points = {}
        for name, bench in run.benches.items():
            parsed = parse_name(name)
            if parsed and parsed[:3] == (workload, model, pattern) and comparable(serial, bench):
                points[parsed[3]] = speedup(serial, bench)
        return dict(sorted(points.items()))

    def twins(self) -> list[tuple[str, str]]:
        """(default tag, free-threaded tag) pairs present, e.g. ("3.13", "3.13t")."""
        return [(tag[:-1], tag) for tag in self.runs if tag.endswith("t") and tag[:-1] in self.runs]

    # --- rendering helpers ----------------------------------------------------------------------
    def save_plot(self, figure: object, stem: str) -> str:
        for suffix in ("png", "svg"):
            figure.savefig(self.out_dir / f"{stem}.{suffix}", dpi=100, bbox_inches="tight")
        self.plt.close(figure)
        self.plots.append(stem)
        return f"![{stem}]({stem}.png)"

    @staticmethod
    def table(header: list[str], rows: list[list[str]]) -> list[str]:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]

    # --- sections -------------------------------------------------------------------------------
    def setup(self) -> list[str]:
        lines = ["## Setup", ""]
        any_run = next(iter(self.runs.values()))
        facts = any_run.record.get("runtime", {})
        lines.append(
            f"Machine `{self.machine}`: {facts.get('cpu_model', '?')}, {facts.get('cpu_count', '?')} "
            f"CPUs, {facts.get('usable_cpus', '?')} usable by the lab (affinity), {facts.get('os', '?')}."
        )
        lines.append("")
        rows = []
        for tag, run in self.runs.items():
            rt = run.record.get("runtime", {})
            rows.append(
                [
                    tag,
                    rt.get("version", "?"),
                    "free-threaded" if rt.get("free_threaded_build") else "default",
                    "on" if rt.get("gil_enabled") else "off",
                    str(rt.get("PYTHON_GIL") or "unset"),
                    str(rt.get("interpreters_api") or "unavailable"),
                    run.record.get("mode", "?"),
                    " ".join(run.record.get("pyperf_options", [])),
                    f"{len(run.benches)} / {len(run.record.get('failed', []))}",
                    ", ".join(f"`{source}`" for source in run.record["sources"]),
                ]
            )
        lines += self.table(
            [
                "runtime",
                "Python",
                "build",
                "GIL",
                "PYTHON_GIL",
                "interpreters API",
                "mode",
                "pyperf options",
                "benches / failed (newest run)",
                "files",
            ],
            rows,
        )
        for default, free in self.twins():
            versions = (self.runs[default].version, self.runs[free].version)
            if versions[0] != versions[1]:
                lines += [
                    "",
                    f"**Warning:** {default} is {versions[0]} but {free} is {versions[1]}: "
                    "single-thread comparisons between them mix two patch releases.",
                ]
        return [*lines, ""]

    def method(self) -> list[str]:
        return [
            "## Method",
            "",
            "- Each bench is one pyperf benchmark `workload/model/pattern/wN`, run by pyperf in fresh worker "
            "processes (`python -m labs.measure.job`). In every measuring process the model's workers are "
            "started outside the timed region, one job is run and its results compared with the serial "
            "reference computed in that same process (and the reference with the workload's known answers); "
            "only then does pyperf time the jobs. A bench that fails verification is recorded as failed, "
            "never timed.",
            "- `startup/model/wN` times creating the workers, one trivial task and shutting down.",
            "- Speedup = mean serial job time / mean job time on the same runtime, from the same run. "
            "Intervals are 95% percentile-bootstrap intervals (2,000 resamples, seeded) of ratios of means; "
            "p-values are two-sided Mann–Whitney U tests (valid with unequal sample counts).",
            "- Amdahl fit: least-squares serial fraction s of speedup(n) = 1 / (s + (1 − s)/n) over the "
            "n-workers points of that model.",
            "- On this machine's few cores a scaling curve has few points; the same commands on a bigger "
            "machine add them.",
            "",
        ]

    def scaling(self) -> list[str]:
        lines = ["## Speedup vs workers (n-workers pattern)", ""]
        counts = self.worker_counts()
        for workload in self.workloads():
            lines += [f"### {workload}", ""]
            rows = []
            for tag, run in self.runs.items():
                for model in self.models_in(run, workload):
                    if model == "serial":
                        continue
                    curve = self.curve(run, workload, model)
                    if not curve:
                        continue
                    top = max(curve)
                    rows.append(
                        [
                            tag,
                            model,
                            *[str(curve[n]) if n in curve else "–" for n in counts],
                            f"{curve[top].value / top:.0%}",
                        ]
                    )
            lines += self.table(["runtime", "model", *[f"w{n}" for n in counts], "efficiency at top"], rows)
            if self.plt and rows:
                lines += ["", self.plot_scaling(workload)]
            lines.append("")
        return lines

    def plot_scaling(self, workload: str) -> str:
        tags = list(self.runs)
        figure, axes = self.plt.subplots(
            1, len(tags), figsize=(3.2 * len(tags), 3.2), sharey=True, squeeze=False
        )
        counts = self.worker_counts()
        for axis, tag in zip(axes[0], tags, strict=True):
            run = self.runs[tag]
            for model in self.models_in(run, workload):
                curve = self.curve(run, workload, model)
                if model == "serial" or not curve:
                    continue
                xs = list(curve)
                axis.errorbar(
                    xs,
                    [e.value for e in curve.values()],
                    yerr=[
                        [e.value - e.low for e in curve.values()],
                        [e.high - e.value for e in curve.values()],
                    ],
                    marker="o",
                    capsize=3,
                    label=model,
                )
            axis.plot(counts, counts, "k--", linewidth=1, label="ideal N×")
            axis.set_title(tag)
            axis.set_xlabel("workers")
            axis.set_xticks(counts)
        axes[0][0].set_ylabel("speedup vs serial")
        axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
        figure.suptitle(f"{workload}: speedup vs workers", y=1.04)
        return self.save_plot(figure, f"scaling-{workload}")

    def gil_effect(self) -> list[str]:
        lines = [
            "## The GIL's effect on threads",
            "",
            "Threads speedup at the top worker count (n-workers) on each runtime: the default build "
            "(GIL), the free-threaded build, and the same free-threaded binary with `PYTHON_GIL=1`.",
            "",
        ]
        top = self.worker_counts()[-1] if self.worker_counts() else 1
        tags = list(self.runs)
        rows, data = [], {}
        for workload in self.workloads():
            row = [workload]
            for tag in tags:
                estimate = self.curve(self.runs[tag], workload, "threads").get(top)
                data[(workload, tag)] = estimate
                row.append(str(estimate) if estimate else "–")
            rows.append(row)
        lines += self.table(["workload", *[f"{t} threads w{top}" for t in tags]], rows)
        for default, free in self.twins():
            best = max(
                (w for w in self.workloads() if data.get((w, free)) and data.get((w, default))),
                key=lambda w: data[(w, free)].value,
                default=None,
            )
            if best:
                control = data.get((best, f"{free}-gil"))
                control_text = f", and {control} with PYTHON_GIL=1 on the same binary" if control else ""
                self.findings.append(
                    f"On {free}, threads reach {data[(best, free)]} at {top} workers on {best}, against "
                    f"{data[(best, default)]} on {default} with the GIL{control_text}."
                )
            contention = data.get(("contention", free))
            if contention and data.get(("contention", default)):
                self.findings.append(
                    f"On the shared-object contention workload, {free} threads reach {contention} at {top} "
                    f"workers ({default}: {data[('contention', default)]})."
                )
        if self.plt and rows:
            figure, axis = self.plt.subplots(figsize=(8, 3.6))
            width = 0.8 / max(1, len(tags))
            for i, tag in enumerate(tags):
                values = [data[(w, tag)].value if data.get((w, tag)) else 0 for w in self.workloads()]
                axis.bar([x + i * width for x in range(len(values))], values, width, label=tag)
            axis.axhline(1, color="k", linewidth=0.8)
            axis.set_xticks(
                [x + width * (len(tags) - 1) / 2 for x in range(len(self.workloads()))],
                self.workloads(),
                rotation=30,
                ha="right",
            )
            axis.set_ylabel(f"threads speedup at w{top}")
            axis.legend(fontsize=7)
            lines += ["", self.save_plot(figure, "gil-effect")]
        return [*lines, ""]

    def single_thread_overhead(self) -> list[str]:
        lines = [
            "## Free-threading's single-thread overhead",
            "",
            "Serial job time on the free-threaded build divided by the default build's (above 1: slower). "
            "This is kept apart from multi-thread gains.",
            "",
        ]
        pairs = self.twins()
        if not pairs:
            self.left_out.append(
                "single-thread overhead: needs a default and a free-threaded run of one version"
            )
            return [*lines, "No default / free-threaded pair in these results.", ""]
        for default, free in pairs:
            rows, ratios, worst = [], [], (0.0, "")
            for workload in self.workloads():
                base, other = (
                    self.serial(self.runs[default], workload),
                    self.serial(self.runs[free], workload),
                )
                if base is None or other is None:
                    continue
                estimate, p = time_ratio(base, other)
                ratios.append(estimate.value)
                worst = max(worst, (estimate.value, workload))
                rows.append(
                    [
                        workload,
                        analysis.format_time(base.mean),
                        analysis.format_time(other.mean),
                        str(estimate),
                        analysis.format_p(p),
                    ]
                )
            lines += [f"### {free} vs {default}", ""]
            lines += self.table(
                ["workload", f"{default} serial", f"{free} serial", "ratio [95% CI]", "p"], rows
            )
            if ratios:
                geo = analysis.geometric_mean(ratios)
                self.findings.append(
                    f"Single-threaded, {free} takes {geo:.2f}× the time of {default} (geometric mean of the "
                    "serial "
                    f"job over {len(ratios)} workloads; from {min(ratios):.2f}× to {max(ratios):.2f}×, "
                    f"worst on {worst[1]})."
                )
                lines += ["", f"Geometric mean: {geo:.2f}×."]
            lines.append("")
        return lines

    def interpreters_vs_processes(self) -> list[str]:
        lines = [
            "## Subinterpreters vs processes",
            "",
            "### Warm job time at the top worker count (n-workers)",
            "",
        ]
        top = self.worker_counts()[-1] if self.worker_counts() else 1
        contenders = (
            "interpreters-pool",
            "interpreters-raw",
            "processes-fork",
            "processes-spawn",
            "processes-forkserver",
        )
        rows, pool_vs_fork = [], defaultdict(list)
        for tag, run in self.runs.items():
            for workload in self.workloads():
                times = {m: run.benches.get(f"{workload}/{m}/n-workers/w{top}") for m in contenders}
                if not any(times.values()):
                    continue
                rows.append(
                    [tag, workload, *[analysis.format_time(b.mean) if b else "–" for b in times.values()]]
                )
                if times["interpreters-pool"] and times["processes-fork"]:
                    pool_vs_fork[tag].append(times["interpreters-pool"].mean / times["processes-fork"].mean)
        lines += self.table(["runtime", "workload", *contenders], rows)
        for tag, ratios in pool_vs_fork.items():
            self.findings.append(
                f"On {tag}, a warm interpreters-pool job takes {analysis.geometric_mean(ratios):.2f}× "
                "the time of "
                f"a warm processes-fork job at {top} workers (geometric mean over {len(ratios)} workloads)."
            )
        lines += ["", "### Start-up: create the workers, one trivial task, shut down", ""]
        startup_rows, startup = [], {}
        for tag, run in self.runs.items():
            for name, bench in run.benches.items():
                match = re.fullmatch(r"startup/([^/]+)/w(\d+)", name)
                if match:
                    startup[(tag, match.group(1), int(match.group(2)))] = bench
        for (tag, model, workers), bench in sorted(
            startup.items(), key=lambda i: (tag_key(i[0][0]), i[0][1:])
        ):
            spread = stats.stdev(bench.values)
            startup_rows.append(
                [
                    tag,
                    model,
                    str(workers),
                    analysis.format_time(bench.mean),
                    analysis.format_time(spread),
                    str(len(bench.values)),
                ]
            )
        lines += self.table(["runtime", "model", "workers", "mean", "std dev", "n"], startup_rows)
        for first_tag in self.runs:
            one = {m: b for (t, m, w), b in startup.items() if t == first_tag and w == 1}
            if {"threads", "interpreters-pool", "processes-spawn"} <= one.keys():
                break
        else:
            one = {}
        if one:
            self.findings.append(
                f"On {first_tag}, starting one worker and running one trivial task costs "
                f"{analysis.format_time(one['threads'].mean)} with threads, "
                f"{analysis.format_time(one['interpreters-pool'].mean)} with an interpreter pool and "
                f"{analysis.format_time(one['processes-spawn'].mean)} with spawned processes "
                f"(means of {len(one['threads'].values)}, {len(one['interpreters-pool'].values)} and "
                f"{len(one['processes-spawn'].values)} values)."
            )
        if self.plt and startup:
            figure, axis = self.plt.subplots(figsize=(8, 3.6))
            labels = sorted({(m, w) for (_, m, w) in startup})
            tags = list(self.runs)
            width = 0.8 / max(1, len(tags))
            for i, tag in enumerate(tags):
                values = [startup[(tag, m, w)].mean * 1e3 if (tag, m, w) in startup else 0 for m, w in labels]
                axis.bar([x + i * width for x in range(len(labels))], values, width, label=tag)
            axis.set_yscale("log")
            axis.set_xticks(
                [x + width * (len(tags) - 1) / 2 for x in range(len(labels))],
                [f"{m} w{w}" for m, w in labels],
                rotation=35,
                ha="right",
                fontsize=7,
            )
            axis.set_ylabel("start-up (ms, log)")
            axis.legend(fontsize=7)
            lines += ["", self.save_plot(figure, "startup")]
        return [*lines, ""]

    # --- I/O ------------------------------------------------------------------------------------
    def _io_row(self, bench: Bench) -> tuple[float, str, str, str]:
        """(requests/s, p50, p99, CPU ms per request) of one I/O bench."""
        tasks = int(bench.metadata.get("lab_tasks", 0))
        rate = tasks / bench.mean if tasks else math.nan
        p50 = [float(v) for v in bench.each_run("lab_p50_ms")]
        p99 = [float(v) for v in bench.each_run("lab_p99_ms")]
        cpu = [float(v) for v in bench.each_run("lab_cpu_seconds")]
        return (
            rate,
            f"{sorted(p50)[len(p50) // 2]:.1f} ms" if p50 else "–",
            f"{max(p99):.1f} ms" if p99 else "–",
            f"{stats.mean(cpu) / tasks * 1e3:.2f} ms" if cpu and tasks else "–",
        )

    def io(self) -> list[str]:
        lines = ["## I/O-bound work on a local HTTP server", ""]
        if not any(self.workloads("io")):
            self.left_out.append("I/O: no I/O benches stored (nox -s bench -- --kind io)")
            return [*lines, "No I/O benches in these results.", ""]
        lines += [
            "`download`: GET pages from the lab's server on 127.0.0.1 (its own process, on a host "
            "interpreter). "
            "Requests/s = tasks / mean job time; p50 and p99 are per-request latencies seen by the client in "
            "the verification job of each measuring process (median of p50s, worst p99); CPU is the lab's "
            "process tree per request. Ideal = concurrency / server latency.",
            "",
        ]
        for tag, run in self.runs.items():
            rows = []
            for name, bench in sorted(
                run.benches.items(), key=lambda i: (parse_name(i[0]) or ("", "", "", 0))[3]
            ):
                parsed = parse_name(name)
                if not parsed or parsed[0] != "download" or parsed[2] != "n-workers":
                    continue
                rate, p50, p99, cpu = self._io_row(bench)
                latency = float(bench.metadata.get("lab_latency_ms", 50)) / 1e3
                ideal = parsed[3] / latency if latency else math.nan
                rows.append([parsed[1], str(parsed[3]), f"{rate:,.0f}", f"{rate / ideal:.0%}", p50, p99, cpu])
            capacity = next((b for n, b in run.benches.items() if n.startswith("capacity/")), None)
            if not rows:
                continue
            rows.sort(key=lambda r: (MODEL_ORDER.index(r[0]) if r[0] in MODEL_ORDER else 99, int(r[1])))
            lines += [f"### download on {tag}", ""]
            lines += self.table(
                ["model", "concurrency", "requests/s", "of ideal", "p50", "p99", "CPU / request"], rows
            )
            if capacity is not None:
                capacity_rate = self._io_row(capacity)[0]
                best = max(rows, key=lambda r: float(r[2].replace(",", "")))
                best_latency = run.benches[f"download/{best[0]}/n-workers/w{best[1]}"].metadata.get(
                    "lab_latency_ms", "?"
                )
                lines += [
                    "",
                    f"Server capacity (asyncio client, {capacity.metadata.get('lab_workers')} concurrent, "
                    f"no added latency): {capacity_rate:,.0f} requests/s; the best model above reaches "
                    f"{best[2]} requests/s ({best[0]} at {best[1]}).",
                ]
                self.findings.append(
                    f"On {tag}, the local server answers {capacity_rate:,.0f} requests/s to the fastest "
                    "client, "
                    f"{capacity_rate / float(best[2].replace(',', '')):.1f}× the best model under test "
                    f"({best[0]} at {best[1]} concurrent: {best[2]} requests/s with "
                    f"{best_latency} ms latency)."
                )
            lines.append("")
        lines += self.io_others()
        lines += self.mixed()
        return lines

    def io_others(self) -> list[str]:
        lines = ["### Files, SQLite, subprocesses: tasks per second", ""]
        rows = []
        for tag, run in self.runs.items():
            for name, bench in run.benches.items():
                parsed = parse_name(name)
                if parsed and parsed[0] in ("files", "sqlite", "subprocesses") and parsed[2] == "n-workers":
                    rows.append([tag, parsed[0], parsed[1], str(parsed[3]), f"{self._io_row(bench)[0]:,.0f}"])
        rows.sort(
            key=lambda r: (
                tag_key(r[0]),
                r[1],
                MODEL_ORDER.index(r[2]) if r[2] in MODEL_ORDER else 99,
                int(r[3]),
            )
        )
        return [*lines, *self.table(["runtime", "workload", "model", "workers", "tasks/s"], rows), ""]

    def mixed(self) -> list[str]:
        lines = [
            "### Mixed: each request followed by CPU work (the crossover)",
            "",
            "Requests/s per model at one concurrency as the CPU work per request grows. The crossover is "
            "the first knob value at which another model's job time is below asyncio's with its whole "
            "95% interval.",
            "",
        ]
        for tag, run in self.runs.items():
            table: dict[str, dict[str, float]] = {}
            benches: dict[tuple[str, str], Bench] = {}
            for name, bench in run.benches.items():
                parsed = parse_name(name)
                if parsed and parsed[0].startswith("mixed-") and parsed[1] != "serial":
                    table.setdefault(parsed[0], {})[parsed[1]] = self._io_row(bench)[0]
                    benches[(parsed[0], parsed[1])] = bench
            if not table:
                continue
            variants = sorted(table, key=lambda v: int(v.removeprefix("mixed-cpu")))
            models_seen = [m for m in MODEL_ORDER if any(m in table[v] for v in variants)]
            rows = [
                [
                    v,
                    *[f"{table[v][m]:,.0f}" if m in table[v] else "–" for m in models_seen],
                    max(table[v], key=table[v].get),
                ]
                for v in variants
            ]
            lines += [f"#### {tag}", "", *self.table(["variant", *models_seen, "fastest"], rows), ""]

            crossover = next(
                ((v, found) for v in variants if (found := _beats_asyncio(v, table, benches))), None
            )
            if crossover:
                variant, (winner, estimate) = crossover
                self.findings.append(
                    f"On {tag}, once each request carries {variant.removeprefix('mixed-cpu')} units of CPU "
                    f"work ({variant}), {winner} overtakes asyncio: {table[variant][winner]:,.0f} against "
                    f"{table[variant]['asyncio']:,.0f} requests/s (job time ratio {estimate.value:.2f} "
                    f"[{estimate.low:.2f}, {estimate.high:.2f}])."
                )
            elif "asyncio" in table[variants[-1]]:
                self.findings.append(
                    f"On {tag}, no model beats asyncio beyond its 95% interval up to "
                    f"{variants[-1]} ({table[variants[-1]]['asyncio']:,.0f} requests/s)."
                )
        return lines

    # --- costs ----------------------------------------------------------------------------------
    def _cost_benches(self, prefix: str) -> dict[str, dict[str, Bench]]:
        """tag -> {name: bench} for benches whose name starts with *prefix*."""
        found = {
            tag: {n: b for n, b in run.benches.items() if n.startswith(prefix)}
            for tag, run in self.runs.items()
        }
        return {tag: benches for tag, benches in found.items() if benches}

    def transfer(self) -> list[str]:
        lines = ["## Data transfer: round trip to a worker and back", ""]
        data = self._cost_benches("transfer/")
        if not data:
            self.left_out.append("transfer: no transfer benches stored (nox -s bench -- --suite costs)")
            return [*lines, "No transfer benches in these results.", ""]
        lines += ["Latency of one round trip, and throughput as 2 × payload / latency.", ""]
        sizes = sorted({int(n.rsplit("/", 1)[1]) for benches in data.values() for n in benches})
        channels = list(dict.fromkeys(n.split("/")[1] for benches in data.values() for n in benches))
        for tag, benches in data.items():
            rows = []
            for channel in channels:
                row = [channel]
                for size in sizes:
                    bench = benches.get(f"transfer/{channel}/{size}")
                    row.append(
                        "–"
                        if bench is None
                        else f"{analysis.format_time(bench.mean)} ({2 * size / bench.mean / 1e9:.3g} GB/s)"
                    )
                rows.append(row)
            lines += [f"### {tag}", "", *self.table(["channel", *[_size(s) for s in sizes]], rows), ""]
            for size in (1 << 10, 16 << 20):
                at = {
                    c: benches[f"transfer/{c}/{size}"] for c in channels if f"transfer/{c}/{size}" in benches
                }
                if len(at) >= 2:
                    fastest = min(at, key=lambda c: at[c].mean)
                    slowest = max(at, key=lambda c: at[c].mean)
                    self.findings.append(
                        f"On {tag}, a {_size(size)} round trip takes "
                        f"{analysis.format_time(at[fastest].mean)} through {fastest} and "
                        f"{analysis.format_time(at[slowest].mean)} through {slowest} "
                        f"(means of {len(at[fastest].values)} and {len(at[slowest].values)} values)."
                    )
        if self.plt:
            figure, axes = self.plt.subplots(
                1, len(data), figsize=(4 * len(data), 3.4), sharey=True, squeeze=False
            )
            for axis, (tag, benches) in zip(axes[0], data.items(), strict=True):
                for channel in channels:
                    points = [
                        (s, benches[f"transfer/{channel}/{s}"].mean)
                        for s in sizes
                        if f"transfer/{channel}/{s}" in benches
                    ]
                    if points:
                        axis.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=channel)
                axis.set_xscale("log", base=2)
                axis.set_yscale("log")
                axis.set_title(tag)
                axis.set_xlabel("payload (bytes)")
            axes[0][0].set_ylabel("round trip (s)")
            axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
            lines += [self.save_plot(figure, "transfer"), ""]
        return lines

    def memory(self) -> list[str]:
        lines = [
            "## Memory per worker",
            "",
            "Growth of RSS, PSS and USS of the lab's process tree per worker started, from "
            "`/proc/<pid>/smaps_rollup` (mean over repeated starts). USS is what a worker adds of its own; "
            "RSS counts shared pages again in every process.",
            "",
        ]
        data = self._cost_benches("memory/")
        if not data:
            self.left_out.append("memory: no memory benches stored (nox -s bench -- --suite costs)")
            return [*lines, "No memory benches in these results.", ""]
        rows, bars = [], {}
        for tag, benches in data.items():
            keys = sorted({n.rsplit("/", 1)[0] for n in benches})
            for key in keys:
                values = {m: benches.get(f"{key}/{m}") for m in ("rss", "pss", "uss")}
                rows.append(
                    [
                        tag,
                        key.removeprefix("memory/"),
                        *[f"{b.mean / (1 << 20):.2f} MiB" if b else "–" for b in values.values()],
                    ]
                )
                if values["uss"]:
                    bars[(tag, key.removeprefix("memory/"))] = values["uss"].mean / (1 << 20)
        lines += self.table(
            ["runtime", "model / workers", "RSS per worker", "PSS per worker", "USS per worker"], rows
        )
        if self.plt and bars:
            figure, axis = self.plt.subplots(figsize=(8, 3.6))
            labels = sorted({k[1] for k in bars})
            tags = list(data)
            width = 0.8 / len(tags)
            for i, tag in enumerate(tags):
                axis.bar(
                    [x + i * width for x in range(len(labels))],
                    [bars.get((tag, m), 0) for m in labels],
                    width,
                    label=tag,
                )
            axis.set_xticks(
                [x + width * (len(tags) - 1) / 2 for x in range(len(labels))],
                labels,
                rotation=30,
                ha="right",
                fontsize=8,
            )
            axis.set_ylabel("USS per worker (MiB)")
            axis.legend(fontsize=7)
            lines += ["", self.save_plot(figure, "memory")]
        return [*lines, ""]

    def ladder(self) -> list[str]:
        lines = [
            "## The latency ladder",
            "",
            'One operation, timed from Python on this machine, beside the classic "latency numbers every '
            'programmer should know" (measured / classic).',
            "",
        ]
        data = self._cost_benches("ladder/")
        if not data:
            self.left_out.append("ladder: no ladder benches stored (nox -s bench -- --suite costs)")
            return [*lines, "No ladder benches in these results.", ""]
        tags = list(data)
        rungs = list(dict.fromkeys(n for benches in data.values() for n in benches))
        rows = []
        for name in rungs:
            any_bench = next(b[name] for b in data.values() if name in b)
            classic_what = any_bench.metadata.get("lab_classic")
            classic = any_bench.metadata.get("lab_classic_seconds")
            row = [name.removeprefix("ladder/")]
            for tag in tags:
                bench = data[tag].get(name)
                row.append(analysis.format_time(bench.mean) if bench else "–")
            first = next((data[t][name] for t in tags if name in data[t]), None)
            row += [
                f"{classic_what}: {analysis.format_time(classic)}" if classic else "–",
                f"{first.mean / classic:.3g}×" if classic and first else "–",
            ]
            rows.append(row)
        lines += self.table(["rung", *tags, "classic", f"{tags[0]} / classic"], rows)
        fsync = next((b.get("ladder/fsync-write") for b in data.values() if "ladder/fsync-write" in b), None)
        if fsync is not None:
            lines += [
                "",
                f"fsync ran on a `{fsync.metadata.get('lab_temp_filesystem', 'unknown')}` filesystem.",
            ]
        return [*lines, ""]

    def race_section(self) -> list[str]:
        lines = [
            "## Race conditions: a shared counter",
            "",
            "Lost updates per million increments of `counter.value += 1` from several threads, and what "
            "each fix costs (time of the whole count). Each measured process counts once.",
            "",
        ]
        data = self._cost_benches("race/")
        if not data:
            self.left_out.append("races: no race benches stored (nox -s bench -- --suite costs)")
            return [*lines, "No race benches in these results.", ""]
        rows = []
        for tag, benches in data.items():
            for name, bench in sorted(benches.items()):
                if name.startswith("race/asyncio-"):
                    overdraft = [int(v) for v in bench.each_run("lab_overdraft")]
                    rows.append(
                        [
                            tag,
                            name.removeprefix("race/"),
                            "–",
                            f"overdraft {max(overdraft, default=0)}",
                            str(len(overdraft)),
                            analysis.format_time(bench.mean),
                        ]
                    )
                    continue
                lost = [int(v) for v in bench.each_run("lab_lost")]
                expected = bench.metadata.get("lab_expected") or (bench.each_run("lab_expected") or [0])[0]
                per_million = sum(lost) / (len(lost) * int(expected)) * 1e6 if lost and expected else math.nan
                rows.append(
                    [
                        tag,
                        name.removeprefix("race/"),
                        f"{per_million:.1f}",
                        f"{min(lost, default=0)}–{max(lost, default=0)}",
                        str(len(lost)),
                        analysis.format_time(bench.mean),
                    ]
                )
                if name.startswith("race/unsafe/") and lost:
                    self.findings.append(
                        f"On {tag}, the unsafe counter lost {per_million:.1f} updates per million "
                        f"({len(lost)} counts of {int(expected):,} increments; "
                        f"{min(lost)} to {max(lost)} lost each)."
                    )
        lines += self.table(
            [
                "runtime",
                "strategy / threads",
                "lost per million",
                "lost per count (min–max)",
                "counts",
                "time",
            ],
            rows,
        )
        return [
            *lines,
            "",
            "`asyncio-unlocked` / `asyncio-locked`: 100 concurrent withdrawals of 1 from a balance of 50 "
            "that check, `await`, then subtract; the overdraft is what the check-then-act race let through.",
            "",
        ]

    def best_models(self) -> list[str]:
        lines = [
            "## Best model per workload and runtime",
            "",
            "Fastest (model, pattern, workers) by mean job time; the recommended worker count is the "
            "smallest whose speedup interval reaches the best one's (adding workers beyond it does not pay "
            "measurably); s is the Amdahl serial fraction fitted to that model's n-workers curve.",
            "",
        ]
        rows = []
        for tag, run in self.runs.items():
            for workload in self.workloads():
                serial = self.serial(run, workload)
                candidates = [
                    (b.mean, n, b)
                    for n, b in run.benches.items()
                    if (p := parse_name(n)) and p[0] == workload
                ]
                if not serial or not candidates:
                    continue
                _, name, bench = min(candidates, key=lambda c: c[0])
                _, model, pattern, workers = parse_name(name)
                best = speedup(serial, bench)
                curve = self.curve(run, workload, model)
                recommended = next((n for n, e in curve.items() if e.high >= best.low), workers)
                fraction = (
                    stats.amdahl_serial_fraction(list(curve), [e.value for e in curve.values()])
                    if curve
                    else None
                )
                rows.append(
                    [
                        tag,
                        workload,
                        f"{model} / {pattern} / w{workers}",
                        str(best),
                        f"w{recommended}",
                        "–" if fraction is None else f"{fraction:.2f}",
                    ]
                )
        return [
            *lines,
            *self.table(["runtime", "workload", "best", "speedup", "recommended", "Amdahl s"], rows),
            "",
        ]

    def history(self) -> list[str]:
        lines = [
            "## History across Python versions",
            "",
            "Serial job time per runtime, relative to the first runtime listed (below 1: faster).",
            "",
        ]
        tags = list(self.runs)
        base_tag = tags[0]
        rows, series = [], {}
        for workload in self.workloads():
            base = self.serial(self.runs[base_tag], workload)
            if base is None:
                continue
            row = [workload, analysis.format_time(base.mean)]
            for tag in tags[1:]:
                other = self.serial(self.runs[tag], workload)
                if other is None or not comparable(base, other):
                    row.append("–")
                    continue
                estimate, _ = time_ratio(base, other)
                series.setdefault(workload, {})[tag] = estimate.value
                row.append(str(estimate))
            rows.append(row)
        lines += self.table(
            ["workload", f"{base_tag} serial", *[f"{t} / {base_tag}" for t in tags[1:]]], rows
        )
        repeated = defaultdict(list)
        for run in self.all_runs:
            if run.machine == self.machine and run.benches:
                repeated[run.tag].append(run)
        repeat_rows = []
        for tag, runs in sorted(repeated.items(), key=lambda i: tag_key(i[0])):
            for run in runs:
                bench = run.benches.get("nbody/serial/n-workers/w1")
                if bench:
                    repeat_rows.append(
                        [
                            tag,
                            run.started,
                            run.record.get("mode", "?"),
                            run.version,
                            analysis.format_time(bench.mean),
                            str(len(bench.values)),
                        ]
                    )
        lines += [
            "",
            "Every stored run of `nbody/serial/n-workers/w1` over time (quick runs use smaller sizes):",
            "",
        ]
        lines += self.table(["runtime", "started (UTC)", "mode", "Python", "mean", "n"], repeat_rows)
        if self.plt and series:
            figure, axis = self.plt.subplots(figsize=(8, 3.6))
            for workload, points in series.items():
                axis.plot([base_tag, *points], [1.0, *points.values()], marker="o", label=workload)
            axis.axhline(1, color="k", linewidth=0.8)
            axis.set_ylabel(f"serial time / {base_tag}")
            axis.legend(fontsize=7, ncol=2)
            lines += ["", self.save_plot(figure, "history")]
        return [*lines, ""]

    def render(self) -> str:
        sections: list[Callable[[], list[str]]] = [
            self.setup,
            self.method,
            self.scaling,
            self.gil_effect,
            self.single_thread_overhead,
            self.interpreters_vs_processes,
            self.io,
            self.transfer,
            self.memory,
            self.ladder,
            self.race_section,
            self.best_models,
            self.history,
        ]
        body: list[str] = []
        for section in sections:
            body += section()
        head = [
            f"# gil-lab report: machine `{self.machine}`",
            "",
            f"Generated by `python -m labs report` from {len(self.runs)} stored run(s) under "
            f"`results/{self.machine}/` (one per runtime: the latest of the most thorough mode). "
            "Every number is computed from those files.",
            "",
            "## Findings",
            "",
        ]
        head += [f"- {finding}" for finding in self.findings] or ["- No finding: too few results."]
        tail = ["## Left out", ""] + ([f"- {line}" for line in self.left_out] or ["- Nothing."])
        return "\n".join([*head, "", *body, *tail, ""])


def _beats_asyncio(
    variant: str, table: dict[str, dict[str, float]], benches: dict[tuple[str, str], Bench]
) -> tuple[str, Estimate] | None:
    """The fastest model of *variant* when its job time is below asyncio's with the whole 95% interval."""
    winner = max(table[variant], key=table[variant].get)
    if winner == "asyncio" or (variant, "asyncio") not in benches:
        return None
    estimate, _ = time_ratio(benches[(variant, "asyncio")], benches[(variant, winner)])
    return (winner, estimate) if estimate.high < 1 else None


def _size(size: int) -> str:
    for unit, scale in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} B"


def write_reports(root: Path) -> tuple[list[Path], list[str]]:
    """Write REPORT.md (and plots) for each machine under *root*; (paths written, problems)."""
    runs, problems = analysis.load(root)
    written = []
    for machine in sorted({r.machine for r in runs}):
        machine_runs = [r for r in runs if r.machine == machine]
        if not any(r.benches for r in machine_runs):
            problems.append(f"{machine}: no run with measured benches")
            continue
        out_dir = root / machine
        report = Report(machine, machine_runs, out_dir, [p for p in problems if f"/{machine}/" in p])
        text = report.render()
        path = out_dir / "REPORT.md"
        temporary = path.with_suffix(".md.partial")
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)  # the report is derived data: replacing it loses nothing
        written.append(path)
    return written, problems
