"""Method: how every number in the report was measured and computed."""

from __future__ import annotations

from labs.core.limits import ONE_WORKER_BAND, PHYSICS_MARGIN
from labs.report.section import Section, section
from labs.report.view import MachineView


def method(view: MachineView) -> Section:
    low, high = ONE_WORKER_BAND
    return section(
        "Method",
        [
            "- Each bench is one pyperf benchmark `workload/model/pattern/wN`, run by pyperf in fresh worker "
            "processes (`python -m labs.measure.job`). In every measuring process the model's workers are "
            "started outside the timed region, one job is run and its results compared with the serial "
            "reference computed in that same process (and the reference with the workload's known answers); "
            "only then does pyperf time the jobs. A bench that fails verification is recorded as failed, "
            "never timed.",
            "- `startup/model/wN` times creating the workers, one trivial task and shutting down.",
            f"- One mode per report: this one reads {view.mode}-mode runs only; runs of other modes (smaller "
            "jobs) are listed under Left out, never merged.",
            "- The process is the sample: values inside one pyperf worker process share its state, so every "
            "interval is computed from process means (`labs.analyse.estimates`). A bench's time is the mean "
            "of its process means with a 95% Student-t interval; a ratio of two benches has Welch's interval "
            "on its logarithm; a speedup whose bench timed its own serial baseline in the same processes is "
            "the geometric mean of per-process ratios. A geometric mean over workloads carries the t "
            "interval of its logarithm (delta method, Welch–Satterthwaite degrees of freedom).",
            "- A bench measured in one process (quick mode) has no interval: values inside one process are "
            "not independent samples.",
            "- Runs since 2026-11-30 interleave: six neighbouring benches of one tier take turns, one "
            "process each in a seeded random order (`interleave` in the run's record), so a burst of host "
            "noise lands on a few processes of several benches, where their intervals show it, instead of "
            "on every process of one bench.",
            "- Runs since 2026-12-08 measure a question's arms side by side: one process (`python -m "
            "labs.measure.arms`) keeps warm the serial baseline and every model x worker count of a CPU "
            "workload's sweep, and times each once a round in a fresh seeded order, so every arm's process "
            "mean is paired in time with every other's (`lab_group`, `lab_block`); a ratio of two arms of "
            "one group is the geometric mean of per-process ratios. A fork arm's pool lives in a helper "
            "forked before any thread exists (a fork of a multi-threaded process can deadlock the child). "
            "`labs bench --interpreters` alternates the measuring processes of several runtimes in "
            "a seeded order within the same minutes (`alternating` in each run's record).",
            "- `n=PxV` beside a number: P pyperf worker processes x V values each, of the bench measured "
            "(for a speedup, of the bench divided into its serial baseline).",
            f"- Physics check: a CPU-bound speedup above the usable CPUs × {PHYSICS_MARGIN}, or a one-worker "
            f"speedup whose interval lies entirely outside [{low}, {high}], is a measurement fault: it is "
            "marked ⚠ suspect and never chosen as best.",
            "- Precision: a ratio whose 95% interval reaches further than ±5% from its value (or has no "
            "interval) is marked ≈ before it: read it as an order of magnitude, not a finding to publish.",
            "- Amdahl fit: least-squares serial fraction s of speedup(n) = 1 / (s + (1 − s)/n) over the "
            "n-workers points of a model, only with at least 3 worker counts (two points fit any s).",
        ],
    )
