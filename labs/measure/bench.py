"""Measure one bench: its measuring processes (through the sampler), merged into pyperf benchmarks.

Each measuring process is ``python -m <spec.module> ... --worker`` in its own process group, killed
whole on every way out. Its run (and, for a paired bench, the serial baseline's run from the same
process) joins the bench's runs; the bench then carries what the stopping rule saw, pyperf's own
``check`` warnings, and, when it breaks physics, why it is suspect. A suspect bench is measured
once more from scratch; if it is still suspect it is stored flagged, never as a finding.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pyperf
from pyperf import _cli  # pyperf's check command, so the lab reports exactly what pyperf would

from labs.core import runtime
from labs.core.errors import RunError, RunTimeout
from labs.core.limits import ONE_WORKER_BAND, PHYSICS_MARGIN
from labs.measure import sampler
from labs.measure.harness import read_outcome
from labs.plan.matrix import BenchSpec
from labs.store import schema

# How hard each mode tries. quick: one in-process run, a smoke test of every bench.
PRECISION = {
    "quick": sampler.Precision(1.0, min_processes=1, max_processes=1, values=2, warmups=1, rounds=2),
    "default": sampler.Precision(),
    "rigorous": sampler.Precision(
        0.01, min_processes=8, max_processes=30, max_seconds=300, values=5, warmups=2, rounds=10
    ),
}
# Environment pyperf's workers need from the lab (pyperf passes on only a few variables by itself).
INHERITED = (
    "LD_LIBRARY_PATH",
    "LABS_SERVER_PYTHON",
    "LABS_HTTP_LATENCY_MS",
    "LABS_HTTP_PAYLOAD",
    "LABS_HTTP_TIMEOUT",
    "LABS_DASK_SCHEDULER",
    "LABS_CELERY_BROKER",
)


@dataclass
class Measurement:
    """Where one bench's processes write, and how they are started."""

    spec: BenchSpec
    machine: str
    workdir: Path
    deadline: float  # monotonic seconds: the bench's timeout or the run's budget, whichever is first
    deadline_says: str = "timed out"  # what reaching the deadline means, for the failure's reason

    def command(self, output: Path, outcome: Path, pyperf_options: list[str]) -> list[str]:
        spec = self.spec
        command = [sys.executable, "-m", spec.module, "--lab-key", spec.key.to_json(), *spec.options]
        command += ["--lab-machine", self.machine, "--lab-outcome", str(outcome), *pyperf_options]
        inherit = [name for name in INHERITED if name in os.environ]
        if inherit:
            command.append(f"--inherit-environ={','.join(inherit)}")
        return [*command, "--quiet", "-o", str(output)]

    def process(self, pyperf_options: list[str], paired: bool = False) -> tuple[dict[str, Any], Path]:
        """Run one measuring process; (what pyperf wrote, where a paired baseline's values are)."""
        index = len(list(self.workdir.iterdir()))
        output, outcome = self.workdir / f"{index}.json", self.workdir / f"{index}.outcome"
        baseline = self.workdir / f"{index}.baseline.json"
        extra = ["--lab-paired-out", str(baseline)] if paired else []
        spawn(
            self.command(output, outcome, [*pyperf_options, *extra]),
            self.deadline,
            outcome,
            self.deadline_says,
        )
        return load_pyperf(output), baseline


def spawn(command: list[str], deadline: float, outcome: Path, deadline_says: str = "timed out") -> None:
    """Run one measuring process in its own process group; RunError with the reason if it failed."""
    timeout = max(0.0, deadline - time.monotonic())
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RunTimeout(deadline_says) from None
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever the bench left: pool workers, a server
        process.wait()
    if process.returncode != 0:
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        reason = read_outcome(outcome) or (lines[-1] if lines else "no output")
        raise RunError(f"exit code {process.returncode}: {reason}")


def load_pyperf(output: Path) -> dict[str, Any]:
    try:
        pyperf.BenchmarkSuite.load(str(output))  # pyperf's own loader validates what its worker wrote
        return json.loads(output.read_text())
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunError(f"unreadable pyperf output: {exc}") from None


def runs_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each run of a worker's file with the file's metadata as its own (one process, one run)."""
    common = data.get("metadata", {})
    return [
        {**run, "metadata": {**common, **bench.get("metadata", {}), **run.get("metadata", {})}}
        for bench in data["benchmarks"]
        for run in bench["runs"]
    ]


class Sampling:
    """One bench in progress: its sample grows one process per ``step``; a suspect sample is measured
    again from scratch, once, in later steps; ``result`` is its pyperf benchmarks and format version."""

    def __init__(self, measurement: Measurement, mode: str) -> None:
        self.measurement, self.mode = measurement, mode
        self.precision = PRECISION[mode]
        self.first_reasons: list[str] = []  # why the first sample was suspect, once it was
        self.sampler, self.version = self._new_sampler()
        self.first, self.first_version = self.sampler, self.version
        self.benches: list[dict[str, Any]] | None = None

    def _new_sampler(self) -> tuple[sampler.Sampler, list[str]]:
        spec, version, repeat, precision = self.measurement.spec, ["1.0"], [], self.precision

        def one_process() -> tuple[dict[str, Any], dict[str, Any] | None]:
            options = ["--worker", "--values", str(precision.values), "--warmups", str(precision.warmups)]
            options += ["--loops", "1", *(["--lab-repeat", str(repeat[0])] if repeat else [])]
            data, baseline_file = self.measurement.process(options, paired=spec.paired)
            version[0] = str(data.get("version", "1.0"))
            (run,) = runs_of(data)
            calibrated = schema.Meta.of(run["metadata"]).repeat
            if not repeat and calibrated is not None:  # the first process calibrated for all
                repeat.append(calibrated)
            if not spec.paired:
                return run, None
            timed = json.loads(baseline_file.read_text())
            return run, {"values": timed["values"], "warmups": timed["warmups"], "metadata": run["metadata"]}

        return sampler.Sampler(one_process, precision), version

    @property
    def done(self) -> bool:
        return self.benches is not None

    @property
    def processes(self) -> int:
        return len(self.sampler.current.runs)

    def step(self, deadline: float) -> bool:
        """One more measuring process (or none, when the sample is complete); True once the bench is."""
        try:
            complete = self.sampler.step(deadline)
        except RunTimeout:
            if not self.first_reasons:
                raise
            self.version = self.first_version  # no process of the second sample finished
            skipped = schema.checked(remeasure_skipped="the bench's time ran out")
            self._finish(self.first, skipped, self.first_reasons)
            return True
        if complete:
            self._complete()
        return self.done

    def stop(self, why: str) -> bool:
        """End the bench now with what it has (two processes at least); False when it has too few."""
        if self.processes >= 2:
            self.sampler.stop(why)
            reasons = suspect_reasons(self.measurement.spec, self.sampler.current)
            if self.first_reasons:
                self._finish(self.sampler, self._remeasured(), reasons)
            else:  # no time to measure a suspect sample again
                skipped = schema.checked(remeasure_skipped=f"{why} first") if reasons else {}
                self._finish(self.sampler, skipped, reasons)
        elif self.first_reasons:  # the second sample barely began: the first stands, flagged
            self.version = self.first_version
            self._finish(self.first, schema.checked(remeasure_skipped=f"{why} first"), self.first_reasons)
        return self.done

    def _complete(self) -> None:
        reasons = suspect_reasons(self.measurement.spec, self.sampler.current)
        if self.first_reasons:
            self._finish(self.sampler, self._remeasured(), reasons)
        elif reasons and self.mode != "quick":  # a fault, not a finding: measure again from scratch, once
            self.first, self.first_version, self.first_reasons = self.sampler, self.version, reasons
            self.sampler, self.version = self._new_sampler()
        else:
            self._finish(self.sampler, {}, reasons)

    def _remeasured(self) -> dict[str, object]:
        return schema.checked(remeasured_because="; ".join(self.first_reasons))

    def _finish(self, done: sampler.Sampler, extra: dict[str, Any], reasons: list[str]) -> None:
        spec, sample = self.measurement.spec, done.current
        facts = {**(done.facts or {}), **extra}
        if reasons:
            facts.update(schema.checked(suspect="; ".join(reasons)))
        benches = [as_bench(spec.key.name, sample.runs, {**facts, **spec.key.metadata()})]
        if sample.baseline_runs:
            benches.append(_baseline(spec, sample, facts))
        for bench in benches:
            bench["metadata"].update(schema.checked(pyperf_checks=pyperf_checks(bench, self.version[0])))
        self.benches = benches

    def result(self) -> tuple[list[dict[str, Any]], str]:
        assert self.benches is not None
        return self.benches, self.version[0]


def measure_self_timed(measurement: Measurement) -> tuple[list[dict[str, Any]], str]:
    """A bench that times itself (memory): one process, which writes its own suite; its pyperf
    benchmarks and pyperf's format version. Timed benches grow through ``Sampling``."""
    data, _ = measurement.process(["--values", "3"])
    return [as_bench(run["metadata"]["name"], [run], {}) for run in runs_of(data)], data["version"]


def suspect_reasons(spec: BenchSpec, sample: sampler.Sample) -> list[str]:
    """Why this sample breaks physics or is two samples in one; empty when it does neither."""
    reasons = []
    if sampler.bimodal([value for run in sample.runs for value in run["values"]]):
        reasons.append("bimodal values")
    if not sample.baseline_runs:
        return reasons
    if sampler.bimodal([value for run in sample.baseline_runs for value in run["values"]]):
        reasons.append("bimodal serial baseline")
    _, logs = sample.quantity()
    speedup, usable = math.exp(sum(logs) / len(logs)), runtime.usable_cpus()
    if speedup > usable * PHYSICS_MARGIN:
        reasons.append(f"speedup {speedup:.2f} is above {usable} usable CPUs x {PHYSICS_MARGIN}")
    width = sampler.relative_half_width("speedup", logs)
    low, high = speedup / (1 + width), speedup * (1 + width)
    band_low, band_high = ONE_WORKER_BAND
    if spec.key.workers == 1 and (high < band_low or low > band_high):
        reasons.append(
            f"one-worker speedup {speedup:.2f} [{low:.2f}, {high:.2f}] lies outside [{band_low}, {band_high}]"
        )
    return reasons


def as_bench(name: str, runs: list[dict[str, Any]], extra: dict[str, Any]) -> dict[str, Any]:
    """A pyperf benchmark from runs of several processes: what they share is the bench's metadata.
    Every ``lab_*`` key on its way to the store is checked against labs.store.schema here."""
    first = runs[0]["metadata"]
    shared = {k: v for k, v in first.items() if all(run["metadata"].get(k) == v for run in runs[1:])}
    metadata = schema.check({**shared, **extra, "name": name})
    own = [{k: v for k, v in run["metadata"].items() if k not in metadata} for run in runs]
    return {
        "metadata": metadata,
        "runs": [{**run, "metadata": mine} for run, mine in zip(runs, own, strict=True)],
    }


def _baseline(spec: BenchSpec, sample: sampler.Sample, facts: dict[str, Any]) -> dict[str, Any]:
    """The serial baseline timed in the bench's processes, as its own pyperf benchmark."""
    key = spec.key.paired_baseline()
    model_keys = [
        schema.stored("model_keys"),
        *(schema.Meta.of(sample.runs[0]["metadata"]).model_keys or "").split(","),
    ]
    runs = [
        {**run, "metadata": {k: v for k, v in run["metadata"].items() if k not in model_keys}}
        for run in sample.baseline_runs
    ]
    means = sample.process_means(sample.baseline_runs)
    spread = statistics.stdev(means) / statistics.fmean(means) if len(means) > 1 else 0.0
    extra = {
        **facts,
        **schema.checked(cv=round(spread, 5)),  # the baseline's own spread, not the bench's
        **key.metadata(),
        **schema.checked(model="serial", pattern="n-workers", workers=1, baseline_of=spec.key.to_json()),
    }
    return as_bench(key.name, runs, extra)


def pyperf_checks(bench: dict[str, Any], version: str) -> str:
    """What ``python -m pyperf check`` says of this bench (its own code), or "none"."""
    try:
        suite = pyperf.BenchmarkSuite.load(StringIO(json.dumps({"version": version, "benchmarks": [bench]})))
        lines = _cli.format_checks(suite.get_benchmarks()[0])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"unavailable ({exc})"
    warnings = [line[2:] for line in lines if line.startswith("* ")]
    return " | ".join(warnings) or "none"
