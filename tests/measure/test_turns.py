"""How a run's --budget is shared between the tiers of its plan, and how groups take their turns."""

from __future__ import annotations

import math
import time

import pytest

from labs.measure import turns
from labs.plan.key import BenchKey
from labs.plan.matrix import BenchSpec
from labs.plan.selection import Selection

KEY_W2 = BenchKey("matrix", "fib", "threads", "n-workers", 2)


def taking_turns(budget: float, last_tier: int) -> turns.Turns:
    made = turns.Turns(Selection(), "m", log=None, budget_end=0.0, seed=1, total=1, last_tier=last_tier)
    made.start, made.budget_end = 1000.0, 1000.0 + budget
    return made


def test_each_tier_may_use_its_share_while_later_questions_wait():
    shares = taking_turns(100.0, last_tier=3)
    assert shares.tier_end(0) == pytest.approx(1000.0 + 100 * turns.TIER_SHARES[0])
    assert shares.tier_end(1) == pytest.approx(1000.0 + 100 * turns.TIER_SHARES[1])
    assert shares.tier_end(2) == shares.tier_end(3) == 1100.0
    assert taking_turns(100.0, last_tier=0).tier_end(0) == 1100.0  # nothing waits: the whole budget
    assert taking_turns(100.0, last_tier=1).tier_end(1) == 1100.0
    assert math.isinf(taking_turns(math.inf, last_tier=3).tier_end(0))  # no --budget, no shares


def test_a_side_by_side_group_is_measured_alone_and_not_started_when_it_cannot_finish(tmp_path):
    group = BenchSpec(BenchKey("matrix", "fib", "serial", "n-workers", 1), "m", arms=(KEY_W2,))
    single = BenchSpec(BenchKey("matrix", "download", "threads", "n-workers", 4), "m")
    plan = [single, group, group, single, single]
    assert [[i for i, _ in batch] for batch in turns.batches(plan, 6)] == [[1], [2], [3], [4, 5]]
    late = taking_turns(100.0, last_tier=0)
    late.start = late.budget_end = time.monotonic() + 20  # 20 s left
    late.group_process = 10.0  # 3 processes would need 30 s
    skipped = []
    late._skip = lambda spec, why: skipped.append(why)
    late.measure([(2, group)], tmp_path)
    assert len(skipped) == 1 and "3 processes of a group (about 10 s each" in skipped[0]
    assert not late.pending
