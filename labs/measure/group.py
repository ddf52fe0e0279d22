"""Measure the arms of one question side by side: a group's processes, grown until every arm is precise.

A group is one CPU workload's serial baseline and every model x worker count of its sweep, timed in
the same processes (labs.measure.arms). The driver starts one such process at a time; after each, every
arm's speedup is the serial time over the arm's time within each process (paired), and the group stops
once its arms' median 95% interval is within the target, or at its process or time cap, or when the run's
budget ends. An arm that fails is named and left out of the later processes; the others go on.

The stored result is one pyperf benchmark per arm, each with one run per process (``lab_block`` its
index), so any two arms pair by process.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from labs.core.errors import RunTimeout
from labs.measure import bench, sampler
from labs.plan.key import BenchKey
from labs.plan.matrix import BenchSpec
from labs.store import schema

ARMS_A_CAP = 4  # a group's time cap is the precision's per-bench cap for every this many arms


class GroupSampling:
    """The processes of one group in progress, with the interface of ``bench.Sampling``."""

    def __init__(self, measurement: bench.Measurement, mode: str) -> None:
        self.measurement, self.mode = measurement, mode
        self.precision = bench.PRECISION[mode]
        spec = measurement.spec
        self.serial = spec.key
        self.active: list[BenchKey] = list(spec.arms)
        self.runs: dict[BenchKey, list[dict[str, Any]]] = {key: [] for key in spec.keys}
        self.failed: dict[str, str] = {}  # arm name -> why it was left out
        self.group = f"{spec.key.workload}-{os.urandom(4).hex()}"
        self.seed = int.from_bytes(os.urandom(4), "big")
        self.loads: list[float] = []
        self.spent = self.last = 0.0
        self.max_seconds = self.precision.max_seconds * max(1, math.ceil(len(spec.keys) / ARMS_A_CAP))
        self.version = "1.0"
        self.benches: list[dict[str, Any]] | None = None

    @property
    def done(self) -> bool:
        return self.benches is not None

    @property
    def processes(self) -> int:
        return len(self.runs[self.serial])

    def command(self, output: str, outcome: str) -> list[str]:
        spec, precision = self.measurement.spec, self.precision
        return [
            sys.executable, "-m", spec.module, "--lab-key", self.serial.to_json(),
            "--lab-arms", json.dumps([key.to_json() for key in self.active]),
            "--lab-group", self.group, "--lab-block", str(self.processes), "--lab-seed", str(self.seed),
            "--lab-machine", self.measurement.machine, "--lab-outcome", outcome, *spec.options,
            "--values", str(precision.rounds), "--warmups", str(precision.warmups), "-o", output,
        ]  # fmt: skip

    def step(self, deadline: float) -> bool:
        """One more process unless the group is complete; True once it is."""
        count = self.processes
        if count >= 2 and self.spent + self.last > self.max_seconds:
            return self.stop("time cap")
        if count >= 2 and time.monotonic() + self.last > deadline:
            return self.stop("run budget")
        started = time.monotonic()
        self.loads.append(os.getloadavg()[0])
        workdir = self.measurement.workdir
        index = len(list(workdir.iterdir()))
        output, outcome = workdir / f"{index}.json", workdir / f"{index}.outcome"
        try:
            bench.spawn(
                self.command(str(output), str(outcome)),
                self.measurement.deadline,
                outcome,
                self.measurement.deadline_says,
            )
        except RunTimeout:
            if count < 2:
                raise
            return self.stop("run budget" if time.monotonic() >= deadline else "time cap")
        self.last = time.monotonic() - started
        self.spent += self.last
        self._add(bench.load_pyperf(output), _arms_failed(outcome))
        # The group is as precise as its typical arm: waiting for the noisiest of a dozen would spend the
        # budget on one arm (each arm's own precision is stored with it).
        widths = [self.width(key) for key in self.active] or [self.width(self.serial)]
        if (
            self.processes >= self.precision.min_processes
            and statistics.median(widths) <= self.precision.target
        ):
            return self._finish("precision reached")
        if self.processes >= self.precision.max_processes:
            return self._finish("process cap")
        return False

    def _add(self, data: dict[str, Any], failed: dict[str, str]) -> None:
        self.version = str(data.get("version", "1.0"))
        found = {run["metadata"].get("name"): run for run in bench.runs_of(data)}
        for key in list(self.active):
            if key.name in failed or key.name not in found:
                self.failed[key.name] = failed.get(key.name, "no value in a process's output")
                self.active.remove(key)
                self.runs.pop(key, None)
        for key in (self.serial, *self.active):
            self.runs[key].append(found[key.name])

    def width(self, key: BenchKey) -> float:
        """The relative half-width of *key*'s interval: its paired speedup, or the serial baseline's time."""
        return sampler.relative_half_width(*self.sample(key).quantity())

    def sample(self, key: BenchKey) -> sampler.Sample:
        if key == self.serial:
            return sampler.Sample(runs=self.runs[key], loads=self.loads)
        return sampler.Sample(runs=self.runs[key], baseline_runs=self.runs[self.serial], loads=self.loads)

    def stop(self, why: str) -> bool:
        """End the group with what it has (two processes at least); False when it has too few."""
        return self._finish(why) if self.processes >= 2 else False

    def _finish(self, why: str) -> bool:
        benches = []
        for key in (self.serial, *self.active):
            sample = self.sample(key)
            facts = sampler.stopping_facts(sample, self.precision, why)
            reasons = bench.suspect_reasons(BenchSpec(key), sample) if key != self.serial else []
            if reasons:
                facts.update(
                    schema.checked(
                        suspect="; ".join(reasons),
                        remeasure_skipped="an arm measured side by side is not measured again alone",
                    )
                )
            benches.append(bench.as_bench(key.name, sample.runs, {**facts, **key.metadata()}))
        for measured in benches:
            checks = bench.pyperf_checks(measured, self.version)
            measured["metadata"].update(schema.checked(pyperf_checks=checks))
        self.benches = benches
        return True

    def result(self) -> tuple[list[dict[str, Any]], str]:
        assert self.benches is not None
        return self.benches, self.version


def _arms_failed(outcome: os.PathLike[str]) -> dict[str, str]:
    try:
        data = json.loads(Path(outcome).read_text())
    except (OSError, ValueError):
        return {}
    failed = data.get("arms_failed") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in failed.items()} if isinstance(failed, dict) else {}
