"""The noise profile: between-run drift learned from same-code repeats, and counted across sessions."""

from __future__ import annotations

import math
import random
import statistics
from pathlib import Path

import pytest

from labs.analyse import compare, estimates, noise
from labs.analyse.runs import Bench, Run
from labs.plan.key import BenchKey

KEY = BenchKey("matrix", "nbody", "serial", "n-workers", 1)
CLEAN = {"commit": "a" * 40, "dirty": False}


def bench(means: list[float], key: BenchKey = KEY) -> Bench:
    processes = [[m] * 3 for m in means]
    metadata = {"unit": "second", **key.metadata()}
    return Bench(key.name, [v for p in processes for v in p], metadata, [{} for _ in means], processes)


def run(session: str, means: list[float], source: dict | None = None, alternating: bool = False) -> Run:
    record = {"mode": "default", "session": session, "source": source or CLEAN, "runtime": {"tag": "3.13"}}
    if alternating:  # measured side by side with another runtime (labs bench --interpreters)
        record["alternating"] = {"runtimes": ["3.13", "3.13t"], "seed": 1, "turns": []}
    the_bench = bench(means)
    return Run(Path(f"{session}.json"), "m", "3.13", session, record, {the_bench.name: the_bench})


def test_dersimonian_laird_by_hand():
    # weights 1000 each, centre 0.05, Q = 5, S1 - S2/S1 = 1000: tau^2 = (5 - 1) / 1000
    assert noise.between_run_variance([(0.0, 0.001), (0.1, 0.001)]) == pytest.approx(0.004)
    assert noise.between_run_variance([(0.0, 0.001), (0.01, 0.001)]) == 0.0  # within-run noise explains it
    assert noise.between_run_variance([(0.0, 0.001)]) is None


def test_the_estimate_finds_a_known_drift_on_average():
    rng, tau, within = random.Random(3), 0.05, 0.01
    estimates = []
    for _ in range(400):
        runs = [(rng.gauss(0, tau) + rng.gauss(0, within), within**2) for _ in range(4)]
        estimates.append(noise.between_run_variance(runs))
    assert math.sqrt(statistics.fmean(estimates)) == pytest.approx(tau, rel=0.1)


def test_learned_from_same_code_repeats_in_two_sessions():
    rng = random.Random(5)
    runs = [
        run(f"s{i}", [drift * (1 + rng.gauss(0, 0.005)) for _ in range(8)])
        for i, drift in enumerate((1.0, 1.08, 0.95))
    ]
    profile = noise.learn(runs)
    assert profile.benches == 1 and profile.repeats == 3 and "learned" in profile.source
    assert 0.04 < profile.time < 0.1  # the three runs' log means spread about 6.5%


def test_unknown_or_changed_code_teaches_nothing():
    dirty = {"commit": "a" * 40, "dirty": True}
    runs = [run("s1", [1.0] * 4 + [1.01] * 4, dirty), run("s2", [1.2] * 4 + [1.21] * 4, dirty)]
    assert noise.learn(runs) == noise.DEFAULT
    other_commit = {"commit": "b" * 40, "dirty": False}
    assert (
        noise.learn([run("s1", [1.0, 1.01] * 4), run("s2", [1.2, 1.21] * 4, other_commit)]) == noise.DEFAULT
    )


def test_the_drift_test_and_its_interval_agree_about_parity():
    rng = random.Random(11)
    for _ in range(300):
        base = [math.exp(rng.gauss(0, 0.03)) for _ in range(rng.randint(2, 10))]
        other = [math.exp(rng.gauss(rng.uniform(-0.2, 0.2), 0.03)) for _ in range(rng.randint(2, 10))]
        test = noise.DriftTest.of(base, other, rng.uniform(0, 0.08))
        alpha = rng.choice([0.05, 0.01, 0.005])
        low, high = test.interval(alpha, test.p_value() <= alpha)
        assert (test.p_value() <= alpha) == (not low <= 1 <= high)


def test_a_change_within_the_hosts_drift_is_not_flagged_across_sessions():
    """Ten percent slower, eight quiet processes a side: flagged between runs whose processes alternated
    in one session, but not across sessions on a host whose reruns move 6%; flagged again when the host
    is known to be steady."""
    rng = random.Random(2)
    base = run("monday", [1.0 * (1 + rng.gauss(0, 0.01)) for _ in range(8)], alternating=True)
    slower = run("tuesday", [1.1 * (1 + rng.gauss(0, 0.01)) for _ in range(8)])
    (across,) = compare.compare_many(base, [slower], profile=noise.DEFAULT)
    assert across.comparisons[0].verdict == "not significant"
    low, high = across.comparisons[0].ci
    assert low < 1 < high
    steady = noise.Profile(0.005, 0.003, 5, 10, "test")
    (known,) = compare.compare_many(base, [slower], profile=steady)
    assert known.comparisons[0].verdict == "REGRESSION"
    same_session = run("monday", slower.benches[KEY.name].process_means, alternating=True)
    (together,) = compare.compare_many(base, [same_session], profile=noise.DEFAULT)
    assert together.comparisons[0].verdict == "REGRESSION"  # one session: the permutation test
    lines, _, _ = compare.render([base, slower])
    assert any("between-run variance added" in line for line in lines)


def test_a_ratio_of_runs_apart_in_time_is_widened_by_both_runs_drift():
    found = estimates.Estimate(1.5, 1.5 / math.exp(0.02), 1.5 * math.exp(0.02), "8x3 / 8x3", "unpaired")
    wider = noise.widened(found, 0.05)
    half = math.hypot(0.02, 1.959964 * math.sqrt(2) * 0.05)
    assert wider.low == pytest.approx(1.5 * math.exp(-half)) and wider.high == pytest.approx(
        1.5 * math.exp(half)
    )
    assert wider.value == 1.5 and "between-run drift 5.0%" in wider.method
    assert noise.widened(found, 0.0) is found
