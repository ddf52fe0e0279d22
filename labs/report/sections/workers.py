"""How many workers: per workload and model, the measured curve at one job size, the Universal
Scalability Law fitted to it, and the worker count to start with.

The recommended count is the smallest whose speedup interval reaches the curve's best (the rule of
the decision summary's workers column, ``best.smallest_reaching``, which aims at the decision's pick). The USL
(labs.analyse.usl) says why a curve flattens (sigma, contention) or turns down (kappa, coherency) and
where it would peak (N*); its intervals come from a bootstrap over the measuring processes of each count.
"""

from __future__ import annotations

import math

from labs.analyse import estimates as analysed
from labs.analyse import usl
from labs.report import markdown
from labs.report.section import Section, section
from labs.report.sections import best
from labs.report.view import MachineView, RuntimeView

TITLE = "How many workers"
MIN_PROCESSES = 5  # a count's processes the bootstrap needs before its intervals are printed
HEADER = ["runtime", "workload", "model", "tasks a job", "speedup by workers", "best", "recommended",
          "USL sigma", "USL kappa", "N*"]  # fmt: skip


def _interval(found: dict[str, tuple[float, float]] | None, name: str, digits: str) -> str:
    if found is None:
        return ""
    low, high = found[name]
    return f" [{low:{digits}}, {'∞' if math.isinf(high) else format(high, digits)}]"


def _per_process(
    runtime: RuntimeView, workload: str, model: str, counts: list[int]
) -> dict[int, list[float]]:
    """Each count's per-process speedups (paired with the serial baseline timed in the same process)."""
    samples = {}
    for key, bench in runtime.benches.items():
        if (key.suite, key.workload, key.model, key.pattern, key.workers in counts) != (
            "matrix", workload, model, "n-workers", True,
        ):  # fmt: skip
            continue
        serial = runtime.benches.get(key.paired_baseline())
        if serial is not None and analysed.is_paired(serial, bench):
            samples[key.workers] = analysed.paired_ratios(serial, bench)
    return samples


def row(tag: str, runtime: RuntimeView, workload: str, model: str) -> list[str] | None:
    curve = {n: e for n, e in runtime.curve(workload, model).items() if e.usable}
    if len(curve) < usl.MIN_COUNTS:
        return None
    fitted = usl.fit({n: e.value for n, e in curve.items()})
    samples = _per_process(runtime, workload, model, list(curve))
    # a percentile bootstrap over 3 processes has 10 distinct resamples: no 95% interval from it
    enough = len(samples) == len(curve) and min(map(len, samples.values()), default=0) >= MIN_PROCESSES
    spread = usl.bootstrap(samples) if enough else None
    peak = max(curve, key=lambda n: curve[n].value)
    recommended = f"w{best.smallest_reaching(curve, curve[peak], peak)}"
    sigma = f"{fitted.sigma:.3f}{_interval(spread, 'sigma', '.3f')}" if fitted else "–"
    kappa = f"{fitted.kappa:.4f}{_interval(spread, 'kappa', '.4f')}" if fitted else "–"
    n_star = "–" if fitted is None else "∞" if math.isinf(fitted.n_star) else f"{fitted.n_star:.1f}"
    return [
        tag, workload, model, str(runtime.job_size(workload, model)),
        ", ".join(f"w{n} {e.value:.2f}×" for n, e in curve.items()),
        f"w{peak} {markdown.times(curve[peak])}", recommended, sigma, kappa,
        n_star + (_interval(spread, "n_star", ".1f") if fitted else ""),
    ]  # fmt: skip


def workers(view: MachineView) -> Section:
    rows = [
        found
        for tag, runtime in view.runtimes.items()
        for workload in view.workloads()
        for model in runtime.models(workload)
        if (found := row(str(tag), runtime, workload, model)) is not None
    ]
    intro = (
        "Per CPU-bound workload and model with at least "
        f"{usl.MIN_COUNTS} worker counts measured at one job size: the speedups, the best, the worker "
        "count to start with (the smallest whose interval reaches the best's), and the Universal "
        "Scalability Law X(N) = N / (1 + sigma (N - 1) + kappa N (N - 1)) fitted to the curve: sigma is "
        "contention (as in Amdahl's law), kappa the crosstalk that makes a curve turn down, N* where it "
        "would peak; [95% intervals] from a bootstrap over the measuring processes, where every count has "
        f"{MIN_PROCESSES} or more."
    )
    if not rows:
        return section(
            TITLE,
            [
                intro,
                "",
                f"No (workload, model) here has {usl.MIN_COUNTS} worker counts at one job size: a default "
                "run measures the top count only. `nox -s bench -- --full` sweeps them, and `labs tune` "
                "sweeps one workload (yours too) and fits its curve.",
            ],
        )
    return section(TITLE, [intro, "", *markdown.table(HEADER, rows)])
