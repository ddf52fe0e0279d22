"""How a run's --budget is shared between the tiers of its plan."""

from __future__ import annotations

import math

import pytest

from labs.measure import turns
from labs.plan.selection import Selection


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
