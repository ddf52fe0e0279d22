"""Process-level statistics checked against SciPy: t quantiles, Benjamini-Hochberg, the permutation test
and its inverted interval, mean-time intervals, unpaired ratios and paired speedups."""

from __future__ import annotations

import math
import random

import pytest

from labs.analyse import estimates, stats
from labs.analyse.permutation import PermutationTest
from labs.analyse.runs import Bench
from labs.plan.key import BenchKey

scipy_stats = pytest.importorskip("scipy.stats")
np = pytest.importorskip("numpy")


def bench(processes: list[list[float]], key: BenchKey | None = None, **metadata: object) -> Bench:
    meta: dict[str, object] = {"unit": "second", **metadata}
    if key is not None:
        meta.update(key.metadata())
    name = key.name if key else "b"
    return Bench(name, [v for p in processes for v in p], meta, [{} for _ in processes], processes)


@pytest.mark.parametrize("df", [1, 2, 2.5, 4, 9.387, 30, 1000])
@pytest.mark.parametrize("probability", [0.5, 0.9, 0.975, 0.999, 0.025])
def test_t_quantile_matches_scipy(probability, df):
    assert stats.t_quantile(probability, df) == pytest.approx(scipy_stats.t.ppf(probability, df), rel=1e-9)


def test_benjamini_hochberg_matches_scipy():
    rng = random.Random(4)
    for size in (1, 2, 7, 50):
        p = [rng.random() ** 3 for _ in range(size)] + [0.01, 0.01]  # ties too
        expected = scipy_stats.false_discovery_control(p, method="bh")
        assert stats.benjamini_hochberg(p) == pytest.approx(list(expected), rel=1e-12)


def scipy_permutation_p(base: list[float], other: list[float], resamples: float) -> float:
    def statistic(x: np.ndarray, y: np.ndarray, axis: int) -> np.ndarray:
        return np.abs(np.log(np.mean(y, axis=axis) / np.mean(x, axis=axis)))

    result = scipy_stats.permutation_test(
        (base, other), statistic, permutation_type="independent", alternative="greater",
        n_resamples=resamples, vectorized=True, random_state=0,
    )  # fmt: skip
    return float(result.pvalue)


@pytest.mark.parametrize(
    ("base", "other"),
    [
        ([1.0, 1.1, 0.95, 1.02], [1.2, 1.25, 1.18, 1.3]),
        ([1.0, 1.1, 0.95], [1.05, 0.99, 1.2, 1.01, 1.07]),
        ([2.0, 2.1, 2.05, 1.98, 2.2], [2.0, 2.3, 2.4, 2.25, 2.31]),
        ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]),  # every relabelling ties with the observed one
    ],
)
def test_exact_permutation_p_matches_scipy(base, other):
    test = PermutationTest.of(base, other)
    assert test.exact
    assert test.p_value() == pytest.approx(scipy_permutation_p(base, other, math.inf), rel=1e-12)


def test_monte_carlo_permutation_p_agrees_with_scipy_and_is_seeded():
    rng = random.Random(2)
    base = [rng.lognormvariate(0, 0.05) for _ in range(9)]
    other = [rng.lognormvariate(0.04, 0.05) for _ in range(9)]  # C(18, 9) = 48,620 relabellings
    test = PermutationTest.of(base, other)
    assert not test.exact
    assert test.p_value() == pytest.approx(scipy_permutation_p(base, other, 99_999), abs=0.015)
    assert PermutationTest.of(base, other).p_value() == test.p_value()
    assert test.smallest_p == pytest.approx(1 / 5000)


def test_smallest_p_is_what_the_design_can_reach():
    assert PermutationTest.of([1.0, 1.1, 1.2], [2.0, 2.1, 2.2]).smallest_p == pytest.approx(0.1)
    assert PermutationTest.of([1.0, 1.1, 1.2], [2.0, 2.1, 2.2]).p_value() == pytest.approx(0.1)
    assert PermutationTest.of([1, 2, 3, 4], [5, 6, 7, 8, 9]).smallest_p == pytest.approx(1 / 126)


def test_interval_inverts_the_test():
    base, other = [1.0, 1.04, 0.97, 1.02, 0.99], [1.12, 1.18, 1.1, 1.15, 1.2]
    test = PermutationTest.of(base, other)
    low, high = test.interval(0.05, rejects_one=test.p_value() <= 0.05)
    assert 1.0 < low < test.ratio < high
    # just inside the edges the hypothesised ratio is not rejected; just outside it is
    assert test.p_value(low * 1.001) > 0.05 and test.p_value(low * 0.99) <= 0.05
    assert test.p_value(high * 0.999) > 0.05 and test.p_value(high * 1.01) <= 0.05
    assert test.interval(0.05 / 1000, rejects_one=False) is None  # 5+5 processes cannot reach 5e-5


def test_interval_side_of_one_follows_the_verdict():
    test = PermutationTest.of([1.0, 1.02, 0.99, 1.01, 1.0], [1.03, 1.06, 1.02, 1.04, 1.05])
    p = test.p_value()
    assert p <= 0.05
    rejected, kept = test.interval(0.05, rejects_one=True), test.interval(0.05, rejects_one=False)
    assert rejected[0] > 1.0 and kept[0] <= 1.0 <= kept[1]


def test_mean_time_is_a_t_interval_over_process_means():
    processes = [[1.0, 1.2, 1.1], [1.5, 1.4, 1.6], [1.2, 1.25, 1.15]]
    estimate = estimates.mean_time(bench(processes))
    means = [sum(p) / 3 for p in processes]
    low, high = scipy_stats.t.interval(0.95, 2, loc=np.mean(means), scale=scipy_stats.sem(means))
    assert estimate.value == pytest.approx(np.mean(means))
    assert estimate.ci == pytest.approx((low, high), rel=1e-9)
    assert estimate.n == "3x3" and estimate.reason == ""


def test_one_process_has_no_interval_and_says_why():
    estimate = estimates.mean_time(bench([[1.0, 1.1, 0.9, 1.05]]))
    assert estimate.ci is None and estimate.low is None
    assert "1 process" in estimate.reason and estimate.n == "1x4"
    assert "no interval: 1 process" in str(estimate)
    ratio = estimates.time_ratio(bench([[1.0, 1.1]]), bench([[2.0], [2.1]]))
    assert ratio.ci is None and ratio.value == pytest.approx(2.05 / 1.05)
    zeros = estimates.time_ratio(bench([[0.0], [0.0]]), bench([[2.0], [2.1]]))  # bytes may be zero
    assert zeros.ci is None and math.isnan(zeros.value) and "zero mean" in zeros.reason


def test_unpaired_ratio_is_welch_on_the_log_ratio():
    base, other = [[1.0, 1.02], [1.1, 1.08], [0.97, 0.99]], [[1.3], [1.25], [1.4], [1.33]]
    estimate = estimates.time_ratio(bench(base), bench(other))
    a, b = [np.mean(p) for p in base], [np.mean(p) for p in other]
    ga, gb = np.var(a, ddof=1) / (3 * np.mean(a) ** 2), np.var(b, ddof=1) / (4 * np.mean(b) ** 2)
    df = (ga + gb) ** 2 / (ga**2 / 2 + gb**2 / 3)
    half = scipy_stats.t.ppf(0.975, df) * math.sqrt(ga + gb)
    ratio = np.mean(b) / np.mean(a)
    assert estimate.value == pytest.approx(ratio)
    assert estimate.ci == pytest.approx((ratio * math.exp(-half), ratio * math.exp(half)), rel=1e-9)
    assert estimate.method == "unpaired" and estimate.n == "3x2 / 4x1"


SERIAL = BenchKey("matrix", "nbody", "serial", "n-workers", 1)
THREADS = BenchKey("matrix", "nbody", "threads", "n-workers", 2)


def test_paired_speedup_divides_within_each_process():
    # Process drift (the third process is 30% slower for both) cancels in per-process ratios.
    serial = bench([[1.0, 1.02], [1.1, 1.12], [1.3, 1.32]], SERIAL)
    threads = bench([[0.52, 0.5], [0.56, 0.57], [0.66, 0.67]], THREADS, lab_paired_with=SERIAL.to_json())
    assert estimates.is_paired(serial, threads)
    estimate = estimates.speedup(serial, threads)
    ratios = [np.mean(s) / np.mean(t) for s, t in zip(serial.processes, threads.processes, strict=True)]
    logs = np.log(ratios)
    low, high = scipy_stats.t.interval(0.95, 2, loc=logs.mean(), scale=scipy_stats.sem(logs))
    assert estimate.method == "paired" and estimate.n == "3x2 paired"
    assert estimate.value == pytest.approx(scipy_stats.gmean(ratios))
    assert estimate.ci == pytest.approx((math.exp(low), math.exp(high)), rel=1e-9)
    unpaired = estimates.time_ratio(threads, serial)
    assert (estimate.high - estimate.low) < (unpaired.high - unpaired.low) / 5  # drift no longer counts


def test_speedup_falls_back_to_unpaired_and_labels_it():
    serial = bench([[1.0], [1.1], [1.05]], SERIAL)
    old_run = bench([[0.5], [0.55], [0.52]], THREADS)  # stored before pairing existed
    miscounted = bench([[0.5], [0.55]], THREADS, lab_paired_with=SERIAL.to_json())
    for threads in (old_run, miscounted):
        estimate = estimates.speedup(serial, threads)
        assert estimate.method == "unpaired"
        assert estimate.value == pytest.approx(serial.mean / threads.mean)
