"""The planner is pure: Selection + what the runtime can do -> Plan. Every rule, with no process run."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace

import pytest

from labs import workloads
from labs.core.errors import UsageError
from labs.plan import matrix
from labs.plan.key import BenchKey
from labs.plan.matrix import MAX_HEAVY_IO_WORKERS, default_worker_counts, plan
from labs.plan.selection import Selection


@dataclass
class Fixed:
    """A runtime with a fixed CPU count; *missing* maps unavailable names to their reason."""

    usable_cpus: int = 2
    missing: dict | None = None

    def _why(self, name):
        return (self.missing or {}).get(name)

    def model(self, name):
        return self._why(name)

    def carrier(self, name, size):
        return self._why(f"{name}/{size}")

    def memory(self):
        return self._why("memory")

    def rung(self, name):
        return self._why(name)

    def carriers(self):
        return {"mp-pipe": "processes", "interp-bytes": "interpreters"}

    def rungs(self):
        return ("dict-hit",)

    def race_strategies(self):
        return ("unsafe", "locked"), ("asyncio-unlocked",)

    def transfer_sizes(self, quick):
        return (1, 1024) if quick else (1, 1024, 1 << 20)


def args(**given):
    defaults = dict(
        quick=False, rigorous=False, workload=None, kind=None, model=None, pattern=None, workers=None,
        suite=None, no_startup=False, payload_sizes=None, bench_timeout="900", budget=None, full=False,
    )  # fmt: skip
    return argparse.Namespace(**{**defaults, **given})


def names(the_plan):
    """Every bench's name in the order planned (a side-by-side group's serial baseline, then its arms)."""
    return [key.name for spec in the_plan.specs for key in spec.keys]


def test_default_worker_counts_double_up_to_the_usable_cpus():
    assert default_worker_counts(1) == (1, 2)
    assert default_worker_counts(2) == (1, 2, 4)
    assert default_worker_counts(12) == (1, 2, 4, 8, 12, 24)


def test_every_selection_measures_its_serial_baseline_and_a_full_n_workers_sweep():
    selection = Selection.from_args(args(workload=["fib"], model=["threads"], suite=["matrix"], full=True))
    assert selection.models == ("serial", "threads")
    planned = names(plan(selection, Fixed(usable_cpus=4)))
    assert planned[0] == "fib/serial/n-workers/w1"
    assert {"fib/threads/n-workers/w1", "fib/threads/n-workers/w2", "fib/threads/n-workers/w4"} <= set(
        planned
    )
    # other patterns get the top count only, outside --rigorous
    assert "fib/threads/pipeline/w4" in planned and "fib/threads/pipeline/w2" not in planned
    assert {"startup/threads/w1", "startup/threads/w4"} <= set(planned)


def test_plans_carry_typed_keys_and_the_options_their_script_needs():
    selection = Selection.from_args(args(workload=["fib"], model=["threads"], suite=["matrix"], quick=True))
    spec = plan(selection, Fixed()).specs[0]
    assert spec.key == BenchKey("matrix", "fib", "serial", "n-workers", 1)
    smoke_size = str(workloads.get("fib").sizes["quick"])
    assert spec.module == "labs.measure.arms" and spec.options[:2] == ("--lab-size", smoke_size)
    assert spec.arms == (BenchKey("matrix", "fib", "threads", "n-workers", 2),)  # the CPUs, not past them


def test_unavailable_models_are_left_out_with_their_reason():
    selection = Selection.from_args(args(workload=["fib"], model=["threads,interpreters-pool"]))
    the_plan = plan(replace(selection, suites=("matrix",)), Fixed(missing={"interpreters-pool": "no API"}))
    assert not [n for n in names(the_plan) if "interpreters-pool" in n]
    assert "model interpreters-pool skipped: no API" in the_plan.notes


def test_cpu_bound_counts_above_the_usable_cpus_are_left_out_and_said_so():
    selection = Selection.from_args(
        args(workload=["fib"], model=["threads"], workers=["1,8"], suite=["matrix"])
    )
    the_plan = plan(selection, Fixed(usable_cpus=2))
    assert "fib/threads/n-workers/w8" not in names(the_plan) and "fib/threads/n-workers/w1" in names(the_plan)
    assert any("[8] exceed 2 x the 2 usable CPU(s)" in note for note in the_plan.notes)


def test_io_counts_are_not_clamped_to_cpus_but_heavy_models_are_capped_and_said_so():
    """A hostile sweep found `-w download -m processes-spawn -n 1024` said 'clamped' yet planned w1024."""
    selection = Selection.from_args(
        args(workload=["download"], model=["threads,processes-spawn"], workers=["1024"], suite=["matrix"])
    )
    the_plan = plan(selection, Fixed(usable_cpus=2))
    assert "download/threads/n-workers/w1024" in names(the_plan)
    assert not [n for n in names(the_plan) if n.startswith("download/processes-spawn/")]
    assert any(f"above {MAX_HEAVY_IO_WORKERS} left out" in note for note in the_plan.notes)


def test_costs_suite_skips_what_the_runtime_lacks_and_names_it():
    selection = Selection.from_args(args(suite=["costs"], quick=True))
    the_plan = plan(selection, Fixed(missing={"interp-bytes/1024": "too big", "memory": "no /proc"}))
    planned = names(the_plan)
    assert "transfer/interp-bytes/1" in planned and "transfer/interp-bytes/1024" not in planned
    assert "transfer/interp-bytes/1024 skipped: too big" in the_plan.notes
    assert not [n for n in planned if n.startswith("memory/")]
    assert {
        "race/unsafe/t2",
        "race/asyncio-unlocked/c100",
        "ladder/dict-hit",
        "startup/asyncio-task/w2",
    } <= set(planned)


def test_models_chosen_with_m_limit_the_costs_too():
    selection = Selection.from_args(args(suite=["costs"], quick=True, model=["threads,interpreters-raw"]))
    planned = names(plan(selection, Fixed()))
    assert (
        "transfer/interp-bytes/1" in planned and "race/unsafe/t2" in planned and "ladder/dict-hit" in planned
    )
    assert {"memory/threads/w2", "memory/interpreters-raw/w2"} <= set(planned)
    unwanted = ("transfer/mp-pipe", "memory/processes", "startup/asyncio-task", "race/asyncio")
    assert not [name for name in planned if name.startswith(unwanted)]


def test_a_carrier_unavailable_at_every_size_is_one_note():
    selection = Selection.from_args(args(suite=["costs"], quick=True))
    missing = {"interp-bytes/1": "no interpreters", "interp-bytes/1024": "no interpreters"}
    notes = plan(selection, Fixed(missing=missing)).notes
    assert [note for note in notes if "interp-bytes" in note] == [
        "transfer/interp-bytes skipped: no interpreters"
    ]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (dict(workers=[","]), "no worker count given to -n"),
        (dict(workers=["0"]), "workers must be between 1 and 1024"),
        (dict(workers=["two"]), "workers must be an integer"),
        (dict(model=["nope"]), "unknown model 'nope'"),
        (dict(workload=[","]), "no workload given"),
        (dict(bench_timeout="100000000000000000000"), "bench timeout must be a number of seconds"),
        (dict(bench_timeout="nan"), "bench timeout must be a number of seconds"),
        (dict(bench_timeout="-1"), "bench timeout must be a number of seconds"),
        (dict(quick=True, rigorous=True), "--quick and --rigorous exclude each other"),
    ],
)
def test_bad_selections_are_one_clear_error(given, message):
    with pytest.raises(UsageError, match=message):
        Selection.from_args(args(**given))


def test_the_default_answers_the_first_questions_and_full_adds_every_pattern():
    default = Selection.from_args(args(workload=["fib"], model=["threads"], suite=["matrix"]))
    assert default.patterns == ("n-workers",)
    assert not [n for n in names(plan(default, Fixed())) if "/pipeline/" in n]
    named = Selection.from_args(args(workload=["fib"], model=["threads"], pattern=["broadcast"]))
    assert named.patterns == ("broadcast",)
    assert Selection.from_args(args(rigorous=True)).patterns == ("n-workers", "pipeline", "broadcast", "map")


def test_cpu_bound_model_benches_pair_their_serial_baseline_and_io_ones_do_not():
    selection = Selection.from_args(
        args(workload=["fib,download"], model=["threads,processes-fork,dask"], suite=["matrix"])
    )
    specs = {key.name: spec for spec in plan(selection, Fixed()).specs for key in spec.keys}
    side_by_side = specs["fib/threads/n-workers/w2"]  # timed in the serial baseline's own processes
    assert side_by_side is specs["fib/serial/n-workers/w1"] and side_by_side.module == "labs.measure.arms"
    assert BenchKey("matrix", "fib", "threads", "n-workers", 4) in side_by_side.arms  # past the 2 CPUs
    assert specs["fib/processes-fork/n-workers/w2"] is side_by_side  # its pool forked by a helper
    engine = specs["fib/dask/n-workers/w4"]  # a cluster: a bench of its own, the baseline paired in it
    assert engine.paired and engine.module == "labs.measure.job" and not engine.arms
    assert not specs["download/threads/n-workers/w16"].paired


@pytest.mark.parametrize("text", ["0", "-5", "x", "nan", "1e12"])
def test_a_bad_budget_is_one_clear_error(text):
    with pytest.raises(UsageError, match="--budget must be minutes"):
        Selection.from_args(args(budget=text))


def test_a_budget_cuts_the_least_asked_questions_first():
    """Tier order: every model's CPU sweep (side by side, and fork's beside it), then the I/O crossover
    and core costs, then the rest; a run that stops early has answered the first questions."""
    selection = Selection.from_args(args(workload=["fib,mixed-cpu0"], model=["threads,processes-fork"]))
    planned = names(plan(selection, Fixed(usable_cpus=2)))
    first = planned.index
    assert (
        first("fib/serial/n-workers/w1")
        < first("fib/threads/n-workers/w1")
        < first("fib/processes-fork/n-workers/w4")
        < first("mixed-cpu0/threads/n-workers/w16")
    )
    assert first("mixed-cpu0/threads/n-workers/w16") < first("transfer/mp-pipe/1024")
    assert first("startup/threads/w2") < first("startup/threads/w1")
    assert first("race/unsafe/t2") < first("transfer/mp-pipe/1")


def test_a_bare_bench_measures_the_default_workloads_and_full_measures_all():
    assert set(Selection.from_args(args()).workloads) == {
        "nbody", "fib", "hashing", "parsing", "download", "mixed-cpu0", "mixed-cpu16"
    }  # fmt: skip
    assert Selection.from_args(args(full=True)).workloads == workloads.NAMES


@pytest.mark.parametrize(("cpus", "tasks"), [(2, 8), (16, 32)])
def test_a_cpu_bound_job_gives_every_worker_two_tasks_at_the_top_count(cpus, tasks):
    selection = Selection.from_args(args(workload=["nbody,download"], model=["threads"], suite=["matrix"]))
    the_plan = plan(selection, Fixed(usable_cpus=cpus))
    sizes = {spec.options[1] for spec in the_plan.specs if spec.key.workload == "nbody"}
    assert sizes == {str(tasks)}  # one job at every worker count, so their times compare
    raised = [note for note in the_plan.notes if "tasks a job" in note]
    expected = f"nbody: {tasks} tasks a job, 2 per worker at 16 workers"
    assert raised == ([] if tasks == 8 else [expected])


def test_skip_notes_fold_into_one_line_per_reason():
    notes = [
        "model dask skipped: dask is not installed",
        "jobs sized at 2 x CPUs",
        "model celery skipped: no broker",
        "transfer/task-dask skipped: dask is not installed",
    ]
    assert matrix._folded(notes) == [
        "model dask, transfer/task-dask skipped: dask is not installed",
        "jobs sized at 2 x CPUs",
        "model celery skipped: no broker",
    ]
