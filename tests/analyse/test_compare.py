"""compare's statistics through its real code path, in memory: an A/A simulation with correlated values
inside each process, power against a real 10% change, and verdicts that never contradict intervals."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest

from labs.analyse import compare, noise, stats
from labs.analyse.runs import Bench, Run
from labs.plan.key import BenchKey

ALPHA = 0.05


def simulated_processes(
    rng: random.Random, processes: int, values: int, scale: float, sigma: float = 0.05, icc: float = 0.5
) -> list[list[float]]:
    """Lognormal times with a process random effect: a share *icc* of the log-variance is shared by all
    values of one process (its hash seed, layout, frequency), the rest is per value."""
    between, within = sigma * math.sqrt(icc), sigma * math.sqrt(1.0 - icc)
    result = []
    for _ in range(processes):
        offset = rng.gauss(0.0, between)
        result.append([scale * math.exp(offset + rng.gauss(0.0, within)) for _ in range(values)])
    return result


def bench(name: str, processes: list[list[float]], **metadata: object) -> Bench:
    meta = {"unit": "second", **metadata}
    return Bench(name, [v for p in processes for v in p], meta, [{} for _ in processes], processes)


def a_a_compare(rng: random.Random, benches: int) -> list[compare.Comparison]:
    """One compare of two runs of the same code: 3-5 processes x 3-5 values a side, ICC 0.5."""
    pairs = []
    for index in range(benches):
        values = rng.randint(3, 5)
        base = simulated_processes(rng, rng.randint(3, 5), values, 1.0)
        other = simulated_processes(rng, rng.randint(3, 5), values, 1.0)
        pairs.append((bench(f"b{index}", base), bench(f"b{index}", other)))
    return compare.compare_pairs(pairs, threshold=0.05)


def test_a_a_false_positive_rate_stays_at_or_below_nominal():
    rng = random.Random(20261129)
    compares = [a_a_compare(rng, 10) for _ in range(200)]
    every = [c for one in compares for c in one]
    tested = [c for c in every if c.q_value is not None]  # entered the BH correction (3+3 cannot)
    flagged_rate = sum(c.flagged for c in every) / len(every)
    any_flag_rate = sum(any(c.flagged for c in one) for one in compares) / len(compares)
    raw_rate = sum(c.p_value <= ALPHA for c in tested) / len(tested)
    # The pooled values treated as independent: what the process-level test exists to avoid.
    naive_rate = sum(stats.mann_whitney_u(c.base.values, c.other.values)[1] <= ALPHA for c in every) / len(
        every
    )
    assert len(every) == 2000 and len(tested) > 1500
    assert flagged_rate <= ALPHA  # observed 0 of 2000 benches
    assert any_flag_rate <= ALPHA  # observed 0 of 200 compares (BH controls this under the global null)
    assert raw_rate <= ALPHA  # the uncorrected permutation test: observed 49 of 1764 (0.028)
    assert naive_rate > 2 * ALPHA  # observed 0.21: pooled values are not independent


def test_a_real_ten_percent_slowdown_is_detected():
    rng = random.Random(7)
    detected = total = 0
    for _ in range(100):
        pairs = [
            (bench(f"b{i}", simulated_processes(rng, 5, 5, 1.0)),
             bench(f"b{i}", simulated_processes(rng, 5, 5, 1.10)))
            for i in range(10)
        ]  # fmt: skip
        results = compare.compare_pairs(pairs, threshold=0.05)
        detected += sum(c.verdict == "REGRESSION" for c in results)
        total += len(results)
    assert detected / total >= 0.8  # 5 processes x 5 values, sigma 5%, ICC 0.5: observed 0.89


def test_verdict_and_interval_never_contradict():
    rng = random.Random(3)
    checked = 0
    for _ in range(60):
        effects = [rng.choice([0.9, 0.95, 1.0, 1.0, 1.04, 1.08, 1.2]) for _ in range(8)]
        pairs = [
            (bench(f"b{i}", simulated_processes(rng, rng.randint(4, 6), 3, 1.0, sigma=0.04)),
             bench(f"b{i}", simulated_processes(rng, rng.randint(4, 6), 3, effect, sigma=0.04)))
            for i, effect in enumerate(effects)
        ]  # fmt: skip
        for c in compare.compare_pairs(pairs, threshold=0.05):
            if c.q_value is None:
                continue
            significant = c.q_value <= ALPHA
            excludes_one = c.ci is not None and not c.ci[0] <= 1.0 <= c.ci[1]
            assert significant == excludes_one, c
            if c.flagged:
                assert excludes_one and abs(c.ratio - 1) > 0.05
                assert (c.ci[0] > 1) == (c.verdict == "REGRESSION")
            if c.ci is not None:
                assert c.ci[0] <= c.ratio <= c.ci[1]
            checked += 1
    assert checked > 300


def test_one_process_or_too_few_to_reach_alpha_is_said_not_faked():
    one = compare.compare_pairs([(bench("b", [[1.0, 1.1, 1.2]]), bench("b", [[2.0, 2.1, 2.2]]))])[0]
    assert one.verdict == "not tested" and one.ci is None and one.p_value is None
    assert one.reason == "not tested (1+1 processes: needs 2+ a side)"
    pair = (bench("b", [[1.0], [1.01], [1.02]]), bench("b", [[2.0], [2.1], [2.2]]))
    three = compare.compare_pairs([pair])[0]
    assert three.verdict == "not testable" and three.ci is None and three.p_value == pytest.approx(0.1)
    assert "smallest possible p is 0.1" in three.reason
    assert "1 bench(es) not testable: too few processes" in compare.rule_lines([three])[-1]
    tasks = compare.compare_pairs([(bench("b", [[1.0], [1.1]], lab_tasks=8), bench("b", [[1.0], [1.1]]))])
    assert tasks[0].verdict == "not comparable"
    zero = compare.compare_pairs([(bench("b", [[0.0], [0.0]]), bench("b", [[1.0], [1.1]]))])[0]
    assert zero.verdict == "not comparable" and "zero mean" in zero.reason


def test_clear_regression_is_flagged_with_its_interval_and_n():
    base = bench("b", [[1.0, 1.01, 0.99], [1.02, 1.0, 1.01], [0.98, 0.99, 1.0], [1.01, 1.0, 1.02], [1.0] * 3])
    other = bench("b", [[1.2, 1.21], [1.22, 1.2], [1.18, 1.19], [1.21, 1.2], [1.2, 1.22]])
    (c,) = compare.compare_pairs([(base, other)])
    assert c.verdict == "REGRESSION" and c.exact
    assert c.p_value == pytest.approx(2 / 252) and c.q_value == pytest.approx(2 / 252)
    assert c.level == pytest.approx(0.95) and 1.0 < c.ci[0] < c.ratio < c.ci[1]
    assert (c.base.shape, c.other.shape) == ("5x3", "5x2")


def test_false_discovery_rate_spans_every_run_of_one_compare():
    key = BenchKey("matrix", "fib", "threads", "n-workers", 2)

    def run(day: str, scale: float, seed: int) -> Run:
        """One runtime's run on *day*: three commits of one runtime, where slower is a regression."""
        rng = random.Random(seed)
        benches = {}
        for workers in (1, 2, 4):
            k = key.__class__("matrix", "fib", "threads", "n-workers", workers)
            benches[k.name] = bench(k.name, simulated_processes(rng, 5, 3, scale), **k.metadata())
        started = f"2026-01-0{day}T00-00-00Z"
        return Run(Path(f"{started}.json"), "m", "3.13", started, {"mode": "default"}, benches)

    base, slower, same = run("1", 1.0, 1), run("2", 1.3, 2), run("3", 1.0, 3)
    steady = noise.Profile(0.0, 0.0, 1, 2, "a host whose reruns do not drift")  # the permutation test alone
    results = compare.compare_many(base, [slower, same], profile=steady)
    everything = [c for r in results for c in r.comparisons]
    p_values = [c.p_value for c in everything]
    assert [c.q_value for c in everything] == pytest.approx(stats.benjamini_hochberg(p_values))
    assert [c.verdict for c in results[0].comparisons] == ["REGRESSION"] * 3
    assert all(c.verdict in ("same", "small change", "not significant") for c in results[1].comparisons)
    lines = compare.rule_lines(everything)
    assert "Benjamini-Hochberg over the 6 tested benches" in lines[0]
    assert "false discovery rate 5%" in lines[0]
    printed, compared, regressions = compare.render([base, slower, same], markdown=True, profile=steady)
    assert (compared, regressions) == (6, 3) and lines[0] in printed
    table = compare.table(base, slower, results[0].comparisons, markdown=True)
    assert table[0].startswith("| bench | 3.13@") and "| n base | n other | verdict |" in table[0]
    assert "| 5x3 | 5x3 | REGRESSION |" in table[2]


def test_benches_match_by_key_not_by_name():
    key = BenchKey("matrix", "fib", "threads", "n-workers", 2)
    old = bench("an old display name", [[1.0], [1.1]], **key.metadata())
    new = bench(key.name, [[1.0], [1.1]], **key.metadata())
    base = Run(Path("a.json"), "m", "3.13", "a", {}, {old.name: old})
    other = Run(Path("b.json"), "m", "3.14", "b", {}, {new.name: new})
    pairs, notes = compare.matched(base, other)
    assert pairs == [(old, new)] and notes == []


def test_compare_says_whether_its_runs_share_a_session():
    def run(session: str | None, day: str) -> Run:
        record = {"mode": "default", **({"session": session} if session else {})}
        return Run(Path(f"{day}.json"), "m", "3.13", day, record, {})

    assert "one session" in compare.measured_how(run("s1", "1"), run("s1", "2"))
    assert "two sessions" in compare.measured_how(run("s1", "1"), run("s2", "2"))
    assert "two sessions" in compare.measured_how(run(None, "1"), run(None, "2"))  # recorded before sessions
