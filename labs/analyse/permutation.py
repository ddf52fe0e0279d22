"""A permutation test on process means, and the confidence interval that inverts the same test.

Why process means: values inside one pyperf worker process share its state (hash seed, memory layout,
frequency, co-tenants), so they are not independent; the processes are. Under "no difference" the
process means of the two sides are exchangeable, so relabelling them gives the exact null distribution
of the statistic whatever the noise looks like: the test's false-positive rate is at most alpha by
construction, with no normality assumed.

The statistic is |log(mean(other) / mean(base))| over process means. Every relabelling is enumerated
when there are few (``EXACT_LIMIT``); otherwise a seeded Monte Carlo sample of relabellings is used
with p = (hits + 1) / (resamples + 1), which keeps the test valid (Phipson & Smyth 2010). Both match
``scipy.stats.permutation_test`` (the tests check it).

The interval is the set of ratios r for which "other / r is exchangeable with base" is *not* rejected
by this same test: so the printed interval and the p-value never disagree about 1.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

EXACT_LIMIT = 5000  # C(13, 6) = 1716, C(14, 7) = 3432: every relabelling up to 7 processes a side
MONTE_CARLO_RESAMPLES = 4999
SEED = 1  # seeded, so a compare or report rebuilt from the same files prints the same numbers
_TIES = 1e-12  # relative tolerance: a relabelling as extreme as the observed one up to rounding counts
_FAR = math.log(1e6)  # a ratio bound beyond a millionfold is reported as unbounded
_RESOLUTION = 1e-5  # bisection stops this close in log(ratio): far below the printed 3 decimals


@dataclass(frozen=True)
class PermutationTest:
    """The relabellings of two samples of process means, ready to test any hypothesised ratio."""

    base: tuple[float, ...]
    other: tuple[float, ...]
    exact: bool
    # per relabelling: the sums of base-origin and other-origin means that land in the "other" group
    moved: tuple[tuple[float, float], ...]

    @classmethod
    def of(cls, base: Sequence[float], other: Sequence[float], seed: int = SEED) -> PermutationTest:
        if len(base) < 1 or len(other) < 1:
            raise ValueError("a permutation test needs at least one process mean a side")
        pooled = [*base, *other]
        total, n_base = len(pooled), len(base)
        exact = math.comb(total, len(other)) <= EXACT_LIMIT
        if exact:
            groups: Sequence[Sequence[int]] = list(itertools.combinations(range(total), len(other)))
        else:
            rng = random.Random(seed)
            groups = [rng.sample(range(total), len(other)) for _ in range(MONTE_CARLO_RESAMPLES)]
        moved = []
        for group in groups:
            from_base = sum([pooled[i] for i in group if i < n_base])  # indices below n_base are base's
            moved.append((from_base, sum([pooled[i] for i in group]) - from_base))
        return cls(tuple(base), tuple(other), exact, tuple(moved))

    @property
    def ratio(self) -> float:
        """mean(other) / mean(base) of the process means: the quantity tested and bounded."""
        return (sum(self.other) / len(self.other)) / (sum(self.base) / len(self.base))

    @property
    def relabellings(self) -> int:
        return len(self.moved) if self.exact else math.comb(len(self.base) + len(self.other), len(self.other))

    @property
    def smallest_p(self) -> float:
        """The smallest p-value this design can give: a bound below it can never be reached."""
        if not self.exact:
            return 1.0 / (len(self.moved) + 1)
        mirrored = 2 if len(self.base) == len(self.other) else 1  # equal sides: a split and its swap tie
        return mirrored / len(self.moved)

    def p_value(self, ratio: float = 1.0) -> float:
        """Two-sided p of "other / *ratio* and base are exchangeable" (ratio 1: no difference)."""
        shrink = 1.0 / ratio
        sum_base, sum_other = sum(self.base), sum(self.other)
        n_base, n_other = len(self.base), len(self.other)
        observed = abs(math.log((sum_other * shrink / n_other) / (sum_base / n_base)))
        upper = math.exp(observed) * (1.0 - _TIES)
        lower = math.exp(-observed) * (1.0 + _TIES)
        hits = 0
        for from_base, from_other in self.moved:
            group_other = (from_base + from_other * shrink) / n_other
            group_base = ((sum_base - from_base) + (sum_other - from_other) * shrink) / n_base
            relative = group_other / group_base
            if relative >= upper or relative <= lower:
                hits += 1
        return hits / len(self.moved) if self.exact else (hits + 1) / (len(self.moved) + 1)

    def interval(self, alpha: float, rejects_one: bool) -> tuple[float, float] | None:
        """The ratios not rejected at level *alpha*: a 1 - alpha confidence interval for the ratio.

        *rejects_one* is the verdict already reached on ratio 1. The bound on the side of 1 is searched
        between 1 and the estimate when it is true, and outward from 1 when it is false, so the interval
        excludes 1 exactly when the verdict says it does, even where rounding or a non-monotone p-value
        would blur the edge. None when no bound can be reached (the design's smallest p is above alpha);
        an unreachable single bound is 0 or infinity.
        """
        if self.smallest_p > alpha:
            return None
        estimate = math.log(self.ratio)
        low = self._bound(estimate, -1.0, alpha, rejects_one)
        high = self._bound(estimate, 1.0, alpha, rejects_one)
        return (0.0 if low is None else math.exp(low)), (math.inf if high is None else math.exp(high))

    def _rejected(self, log_ratio: float, alpha: float) -> bool:
        return self.p_value(math.exp(log_ratio)) <= alpha

    def _bound(self, estimate: float, side: float, alpha: float, rejects_one: bool) -> float | None:
        """log of the interval's edge on *side* (-1 below the estimate, +1 above); None if unbounded."""
        one_is_this_side = side * (0.0 - estimate) > 0
        if one_is_this_side and rejects_one:
            inside, outside = estimate, 0.0  # the edge lies strictly between the estimate and 1
        else:
            inside = 0.0 if one_is_this_side else estimate  # not rejected: the interval reaches past 1
            step = 0.01
            outside = inside + side * step
            while not self._rejected(outside, alpha):
                if abs(outside - estimate) > _FAR:
                    return None
                inside, step = outside, step * 2.0
                outside = inside + side * step
        while abs(outside - inside) > _RESOLUTION:
            middle = (inside + outside) / 2.0
            if self._rejected(middle, alpha):
                outside = middle
            else:
                inside = middle
        return inside
