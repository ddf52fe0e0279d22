"""The stopping rule and the sanity checks of one bench, on made-up processes (exact, no timing)."""

from __future__ import annotations

import itertools
import math

import pytest

from labs.measure import harness, sampler


def fake_process(means, baseline_means=None):
    """measure_process() for the sampler: each call is the next process, 3 values around its mean."""
    counter = itertools.count()

    def one():
        i = next(counter)
        run = {"values": [means[i % len(means)]] * 3, "metadata": {}}
        if baseline_means is None:
            return run, None
        return run, {"values": [baseline_means[i % len(baseline_means)]] * 3, "metadata": {}}

    return one


def sampled(measure_process, precision, deadline):
    """Step a Sampler to its end, as a bench does between its turns: (the sample, the stopping facts)."""
    one = sampler.Sampler(measure_process, precision)
    while not one.step(deadline):
        pass
    return one.current, one.facts


def test_a_quiet_bench_stops_at_the_minimum_once_precise():
    precision = sampler.Precision(target=0.02, min_processes=5, max_processes=12)
    sample, facts = sampled(fake_process([0.100, 0.1005, 0.0995]), precision, math.inf)
    assert len(sample.runs) == 5 and facts["lab_stop"] == "precision reached"
    assert facts["lab_quantity"] == "time" and facts["lab_precision_reached"] < 0.02


def test_a_noisy_bench_goes_to_its_cap_and_says_so():
    precision = sampler.Precision(target=0.02, min_processes=3, max_processes=7)
    sample, facts = sampled(fake_process([0.1, 0.2, 0.15, 0.3]), precision, math.inf)
    assert len(sample.runs) == 7 and facts["lab_stop"] == "process cap"
    assert facts["lab_precision_reached"] > 0.02 and facts["lab_cv"] > 0.2


def test_pairing_divides_out_drift_shared_by_both_sides():
    """Each process is 50% slower or faster than the last, but bench and baseline move together."""
    drift = [0.1, 0.15, 0.075, 0.12, 0.09]
    precision = sampler.Precision(target=0.01, min_processes=5, max_processes=5)
    sample, facts = sampled(fake_process(drift, [2 * d for d in drift]), precision, math.inf)
    assert facts["lab_quantity"] == "speedup" and facts["lab_precision_reached"] < 1e-9
    kind, logs = sample.quantity()
    assert kind == "speedup" and all(math.isclose(math.exp(x), 2.0) for x in logs)


def test_the_deadline_stops_a_bench_after_two_processes():
    precision = sampler.Precision(target=0.0001, min_processes=5, max_processes=50, max_seconds=3600)
    sample, facts = sampled(fake_process([0.1, 0.2]), precision, deadline=0.0)
    assert len(sample.runs) == 2 and facts["lab_stop"] == "run budget"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([41, 42, 41, 90, 92, 91, 42, 89, 41], True),  # two clusters: a contaminated baseline
        ([40, 41, 42, 40, 41, 42, 40, 41, 43], False),
        ([40, 41, 42, 40, 41, 42, 40, 41, 95], False),  # one outlier is not a second mode
        ([40, 90], False),  # too few to tell
    ],
)
def test_bimodal_samples_are_told_from_outliers(values, expected):
    assert sampler.bimodal(values) is expected


def test_sub_millisecond_work_is_sized_up_to_a_millisecond_a_value():
    calls = []

    def time_func(loops):
        calls.append(loops)
        return loops * 1e-5  # 10 us per loop

    timed, inner, repeat = harness.calibrated(time_func, inner_loops=10)
    assert (inner, repeat) == (10 * 128, 128) and timed(2) == pytest.approx(2 * 128 * 1e-5)
    assert calls == [1, 256]
    slow, same, once = harness.calibrated(lambda loops: loops * 0.01, inner_loops=None)
    assert (same, once) == (None, 1) and slow(3) == pytest.approx(0.03)
    # later processes take the first one's repeat without probing: every run has the same inner loops
    calls.clear()
    _, inner, _ = harness.calibrated(time_func, inner_loops=10, repeat=128)
    assert inner == 1280 and calls == []


def test_a_process_cut_off_by_the_deadline_drops_only_itself():
    """Found in review: a bench whose budget ended mid-process lost every process before it."""
    from labs.core.errors import RunTimeout

    made = fake_process([0.1, 0.1001, 0.0999, 0.1])
    calls = itertools.count()

    def cut_off_third():
        if next(calls) == 2:
            raise RunTimeout("the run's --budget ran out")
        return made()

    precision = sampler.Precision(target=0.0, min_processes=5, max_processes=9, max_seconds=3600)
    sample, facts = sampled(cut_off_third, precision, math.inf)
    assert len(sample.runs) == 2 and facts["lab_stop"] == "time cap"

    def cut_off_first():
        raise RunTimeout("timed out after 1 s")

    with pytest.raises(RunTimeout):
        sampled(cut_off_first, precision, math.inf)


def test_benches_take_turns_in_batches_that_never_cross_a_tier_or_hold_a_self_timed_bench():
    from labs.measure import turns
    from labs.plan.key import BenchKey
    from labs.plan.matrix import BenchSpec

    def spec(n, tier, timed=True):
        return BenchSpec(BenchKey("matrix", "fib", "threads", "n-workers", n), timed=timed, tier=tier)

    specs = [spec(1, 0), spec(2, 0), spec(3, 0), spec(4, 1), spec(5, 1, timed=False), spec(6, 1), spec(7, 2)]
    sizes = [[index for index, _ in batch] for batch in turns.batches(specs, 2)]
    assert sizes == [[1, 2], [3], [4], [5], [6], [7]]


def test_a_run_ends_with_a_summary_of_what_it_measured_and_how_precisely():
    from labs.measure.driver import summary_lines

    def bench(name, reached, stop):
        return {"metadata": {"name": name, "lab_precision_reached": reached, "lab_stop": stop}}

    benchmarks = [
        bench("fib/threads/n-workers/w2", 0.01, "precision reached"),
        bench("fib/serial/n-workers/w1@fib/threads/n-workers/w2", 0.5, "precision reached"),  # a baseline
        bench("nbody/threads/n-workers/w2", 0.04, "process cap"),
        bench("nbody/serial/n-workers/w1", 0.02, "precision reached"),
    ]
    record = {"failed": [{"name": "x", "reason": "y"}], "skipped": [{"name": "z", "reason": "budget"}]}
    assert summary_lines(benchmarks, record) == [
        "summary: 3 benches measured, 1 failed, 1 skipped (the budget ran out before them)",
        "  precision (95% half-width): median ±2.0%, worst ±4.0% (nbody/threads/n-workers/w2)",
        "  stopped by: precision reached 2, process cap 1",
    ]
