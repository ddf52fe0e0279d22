"""python -m labs tune WORKLOAD: the model and worker count for a workload, the user's own included."""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from labs import models
from labs.analyse import usl
from labs.core import limits, runtime
from labs.core.errors import UsageError

NAME = "tune"
HELP = "find the best model and worker count for a workload (yours: pkg.module:function or a file)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("workload", nargs="?", help="a built-in workload, pkg.module:function or file.py")
    parser.add_argument("-w", "--workload", dest="workload_option", help="the same, as an option")
    parser.add_argument("--tasks", help="with pkg.module:function: pkg.module:make_tasks, called with --size")
    parser.add_argument("--check", help="with pkg.module:function: pkg.module:check(tasks, results)")
    parser.add_argument("--size", help="tasks a job (default: the workload's default size)")
    parser.add_argument(
        "-m",
        "--model",
        help=f"comma list of models to try (default: those here; {', '.join(models.names())})",
    )
    parser.add_argument("--budget", default="3", help="minutes for the whole sweep (default 3)")
    parser.add_argument("--seed", default="0", help="the seed of every round's order (default 0)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (progress to stderr)")
    parser.add_argument("--plot", metavar="FILE.png", help="draw speedup against workers with the fits")


def execute(args: argparse.Namespace) -> int:
    from labs.measure import tune
    from labs.plan import selection
    from labs.workloads import user

    spec = args.workload or args.workload_option
    if not spec or (args.workload and args.workload_option):
        raise UsageError("name one workload: labs tune WORKLOAD (or -w WORKLOAD)")
    budget = selection.budget(args.budget) * 60  # minutes, held to bench's --budget rule
    seed = limits.parse_int("seed", args.seed)
    asked = list(selection.names([args.model], models.names(), "model")) if args.model else None
    workload = user.workload(spec, args.tasks, args.check)
    size = workload.sizes["rigorous"] if args.size is None else limits.parse_positive_int("size", args.size)
    chosen = tune.candidates(workload, asked)
    out = sys.stderr if args.json else sys.stdout

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    # what the tasks need for the whole tune (an I/O workload's HTTP server, a folder), started once
    with workload.environment() as env:
        tasks = workload.make_tasks(size, env)
        if not tasks:
            raise UsageError(f"{workload.name}: make_tasks({size}) gave no tasks")
        facts = runtime.facts()
        say(
            f"tune {workload.name}: {len(tasks)} tasks a job on Python {facts['version']} ({facts['tag']}, "
            f"{runtime.usable_cpus()} CPUs), models {', '.join(chosen)}, within {budget / 60:g} min"
        )
        tuner = tune.Tuner(workload, tasks, budget, seed, say)
        waiting = tuner.wait_fraction()
        results = tuner.run(chosen)
    document = _document(workload.name, facts["tag"], results, tune.decide(results), waiting)
    if args.plot:
        _plot(args.plot, workload.name, results)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        for line in _table(document, waiting):
            print(line)
    return 0


def _number(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) else round(value, 4)


def _document(name: str, tag: str, results: list[Any], decision: dict | None, waiting: float) -> dict:
    rows = []
    for result in results:
        if not result.rounds:
            rows.append({"model": result.model, "best_workers": None, "stopped": result.stopped})
            continue
        value, low, high = result.speedup(result.best)
        found = result.fit
        spread = usl.bootstrap(result.rounds) if found is not None else None  # over the measuring rounds
        rows.append({
            "model": result.model,
            "best_workers": result.best,
            "recommended_workers": result.recommended,
            "speedup": _number(value),
            "ci": [_number(low), _number(high)],
            "usl": None if found is None else {
                "sigma": _number(found.sigma), "kappa": _number(found.kappa), "n_star": _number(found.n_star),
                "ci": None if spread is None else {k: [_number(v) for v in spread[k]] for k in spread},
            },
            "wait_fraction": _number(waiting),
            "memory_mib_per_worker": _number(result.memory.get(result.best, math.nan)),
            "curve": {str(n): _number(result.speedup(n)[0]) for n in sorted(result.rounds)},
            "rounds": {str(n): len(v) for n, v in sorted(result.rounds.items())},
            "stopped": result.stopped,
        })  # fmt: skip
    if decision is not None:
        decision = {
            **decision,
            "speedup": _number(decision["speedup"]),
            "ci": [_number(v) for v in decision["ci"]],
        }
    return {
        "workload": name,
        "runtime": tag,
        "cpus": runtime.usable_cpus(),
        "models": rows,
        "decision": decision,
    }


def _bound(value: float | None) -> str:
    return "inf" if value is None else f"{value:.3g}"


def _table(document: dict, waiting: float) -> list[str]:
    header = (
        f"{'model':<22}{'best':>6}{'use':>6}  {'speedup [95% CI]':<24}{'USL sigma':>10}{'kappa':>9}{'N*':>8}"
    )
    lines = ["", header]
    for row in document["models"]:
        if row["best_workers"] is None:
            lines.append(f"{row['model']:<22}  not measured: {row['stopped']}")
            continue
        low, high = row["ci"]
        interval = f"{row['speedup']:.2f}x" + (f" [{low:.2f}, {high:.2f}]" if low is not None else "")
        fit = row["usl"]
        usl_text = f"{'– (needs 3 counts)':>27}"
        if fit:
            n_star = fit["n_star"] if fit["n_star"] is not None else math.inf
            usl_text = f"{fit['sigma']:>10.3f}{fit['kappa']:>9.4f}{n_star:>8.1f}"
            if fit["ci"]:  # the bootstrap's 95% intervals, after the values
                usl_text += "  " + ", ".join(
                    f"{name} [{_bound(fit['ci'][name][0])}, {_bound(fit['ci'][name][1])}]"
                    for name in ("sigma", "kappa", "n_star")
                )
        counts = f"{'w' + str(row['best_workers']):>6}{'w' + str(row['recommended_workers']):>6}"
        lines.append(f"{row['model']:<22}{counts}  {interval:<24}{usl_text}")
    decision = document["decision"]
    if decision is not None:
        ties = ", ".join(f"{t['model']} w{t['workers']}" for t in decision["ties"])
        low, high = decision["ci"]
        lines.append(
            f"\ndecision: {decision['model']} at {decision['workers']} workers, {decision['speedup']:.2f}x"
            + (f" [{low:.2f}, {high:.2f}]" if low is not None else "")
            + (f"; ties with it (±3%, 95% intervals): {ties}" if ties else "; no other model ties with it")
            + (f"; the tie goes to {decision['tie_break']}" if decision.get("tie_break") else "")
        )
    cpus = document["cpus"]
    if waiting > 0.05:
        ratio = waiting / (1 - waiting) if waiting < 1 else math.inf
        lines.append(
            f"waiting: {waiting:.0%} of a task's time (W/C = {ratio:.1f}); the classic estimate of the "
            f"threads that keep {cpus} CPUs busy is {cpus} x (1 + W/C) = {cpus * (1 + ratio):.0f}"
        )
    else:
        lines.append(
            f"waiting: {waiting:.0%} of a task's time: CPU-bound, more workers than CPUs cannot help"
        )
    return lines


def _plot(path: str, name: str, results: list[Any]) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib (pip install matplotlib)") from None
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for result in results:
        if not result.rounds:
            continue
        counts = sorted(result.rounds)
        values = [result.speedup(n) for n in counts]
        low = [v[0] - (v[1] if math.isfinite(v[1]) else v[0]) for v in values]
        high = [(v[2] if math.isfinite(v[2]) else v[0]) - v[0] for v in values]
        line = axes.errorbar(
            counts, [v[0] for v in values], yerr=[low, high], marker="o", capsize=3, label=result.model
        )
        found = result.fit
        if found is not None:
            grid = [1 + i * (counts[-1] - 1) / 100 for i in range(101)]
            axes.plot(grid, [found.speedup(n) for n in grid], linestyle="--", color=line[0].get_color())
    axes.axhline(1.0, color="grey", linewidth=0.8)
    axes.set_xscale("log", base=2)
    axes.set_xlabel("workers")
    axes.set_ylabel("speedup over serial (same rounds)")
    axes.set_title(f"{name}: measured (points, 95% CI) and USL fits (dashed)")
    axes.legend()
    try:
        figure.savefig(path, dpi=110, bbox_inches="tight")
    except OSError as exc:
        raise UsageError(f"--plot {path}: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
