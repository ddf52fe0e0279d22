"""Statistics for timings, in the standard library only (pure functions, checked against SciPy in the tests).

pyperf's own ``compare_to`` uses a t-test that raises on unequal sample counts and then reports
"significant"; the lab uses Welch's t-test and the Mann-Whitney U test, both valid with unequal
counts, and percentile-bootstrap confidence intervals on ratios of means.
"""

from __future__ import annotations

import functools
import math
import random
from collections.abc import Sequence


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def stdev(values: Sequence[float]) -> float:
    if len(values) < 2:
        return 0.0
    m = mean(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the regularized incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 3e-16
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < eps:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def mann_whitney_u(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """(U of *a*, two-sided p): normal approximation with tie and continuity corrections
    (SciPy's ``mannwhitneyu(method="asymptotic")``)."""
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        raise ValueError("the Mann-Whitney U test needs values on both sides")
    pooled = sorted([(v, 0) for v in a] + [(v, 1) for v in b])
    ranks_a, tie_term, i = 0.0, 0.0, 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        rank = (i + j) / 2.0 + 1.0
        count = j - i + 1
        tie_term += count**3 - count
        ranks_a += rank * sum(1 for k in range(i, j + 1) if pooled[k][1] == 0)
        i = j + 1
    u1 = ranks_a - n1 * (n1 + 1) / 2.0
    n = n1 + n2
    mu = n1 * n2 / 2.0
    sigma = math.sqrt(n1 * n2 / 12.0 * ((n + 1) - tie_term / (n * (n - 1)))) if n > 1 else 0.0
    if sigma == 0:
        return u1, 1.0
    u = max(u1, n1 * n2 - u1)
    z = (u - mu - 0.5) / sigma
    return u1, min(1.0, 2.0 * _normal_sf(z))


def bootstrap_ratio_ci(
    base: Sequence[float], other: Sequence[float], level: float = 0.95, resamples: int = 2000, seed: int = 1
) -> tuple[float, float]:
    """Percentile-bootstrap CI of mean(other) / mean(base), resampling each side independently.

    Seeded, so a report rebuilt from the same results prints the same intervals.
    """
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        resampled_base = mean(rng.choices(base, k=len(base)))
        resampled_other = mean(rng.choices(other, k=len(other)))
        ratios.append(resampled_other / resampled_base)
    ratios.sort()
    tail = (1.0 - level) / 2.0
    low = ratios[math.floor(tail * (resamples - 1))]
    high = ratios[math.ceil((1.0 - tail) * (resamples - 1))]
    return low, high


def amdahl_serial_fraction(workers: Sequence[int], speedups: Sequence[float]) -> float | None:
    """Least-squares serial fraction s of Amdahl's law, speedup(n) = 1 / (s + (1 - s) / n).

    Linear in s through 1/speedup = s * (1 - 1/n) + 1/n; None without a point at n > 1.
    """
    xs = [1.0 - 1.0 / n for n in workers]
    ys = [1.0 / sp - 1.0 / n for n, sp in zip(workers, speedups, strict=True)]
    denominator = sum(x * x for x in xs)
    if denominator == 0:
        return None
    return max(0.0, min(1.0, sum(x * y for x, y in zip(xs, ys, strict=True)) / denominator))


def t_sf(t: float, df: float) -> float:
    """Upper tail P(T > t) of Student's t with *df* degrees of freedom."""
    if t * t < df:  # near the centre the complement is computed directly, keeping its precision
        tail = 0.5 * (1.0 - betainc(0.5, df / 2.0, t * t / (df + t * t)))
    else:
        tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return tail if t >= 0 else 1.0 - tail


# a few levels x process counts: the stopping rule asks after every process
@functools.lru_cache(maxsize=4096)
def t_quantile(probability: float, df: float) -> float:
    """The *probability* quantile of Student's t (bisection on ``t_sf``; exact to ~1e-12)."""
    if not 0.0 < probability < 1.0 or df <= 0:
        raise ValueError("t_quantile needs 0 < probability < 1 and df > 0")
    if probability == 0.5:
        return 0.0
    low, high = -1.0, 1.0
    while t_sf(low, df) < 1.0 - probability:
        low *= 2.0
    while t_sf(high, df) > 1.0 - probability:
        high *= 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_sf(middle, df) > 1.0 - probability:
            low = middle
        else:
            high = middle
        if high - low < 1e-13 * max(1.0, abs(middle)):
            break
    return (low + high) / 2.0


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input's order.

    A hypothesis is rejected at false discovery rate alpha exactly when its q <= alpha
    (SciPy's ``false_discovery_control(method="bh")``).
    """
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):  # from the largest p down: q_(i) = min over j >= i of m p_(j) / j
        index = order[rank - 1]
        running = min(running, p_values[index] * m / rank)
        adjusted[index] = running
    return adjusted


def geometric_mean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else math.nan


# Two options are told apart only when the slower one's time over the faster one's has a 95% interval
# above parity and not inside this equivalence margin (an interval-inclusion test, more conservative
# than two one-sided tests at 5%, which use the 90% interval): otherwise they tie, and the lab says so.
TIE_MARGIN = 0.03


def told_apart(low: float | None, high: float | None, margin: float = TIE_MARGIN) -> bool:
    """Whether a ratio (slower / faster, above 1 when slower) with 95% interval [low, high] shows a
    difference: the interval lies above parity and reaches beyond the equivalence margin."""
    if low is None or high is None:
        return False
    return low > 1 and not (low >= 1 / (1 + margin) and high <= 1 + margin)


def log_mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """The geometric mean of positive *values* and its t interval on the log scale."""
    logs = [math.log(v) for v in values]
    center = mean(logs)
    if len(logs) < 2:
        return math.exp(center), math.nan, math.nan
    half = t_quantile(0.5 + level / 2, len(logs) - 1) * stdev(logs) / math.sqrt(len(logs))
    return math.exp(center), math.exp(center - half), math.exp(center + half)


def ratio_interval(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """mean(b) / mean(a) on the log scale, samples unpaired, with a Welch t interval."""
    la, lb = [math.log(v) for v in a], [math.log(v) for v in b]
    center = mean(lb) - mean(la)
    if len(la) < 2 or len(lb) < 2:
        return math.exp(center), math.nan, math.nan
    va, vb = stdev(la) ** 2 / len(la), stdev(lb) ** 2 / len(lb)
    se = math.sqrt(va + vb)
    df = (
        (va + vb) ** 2 / ((va**2 / (len(la) - 1)) + (vb**2 / (len(lb) - 1)))
        if se > 0
        else len(la) + len(lb) - 2
    )
    half = t_quantile(0.5 + level / 2, max(df, 1.0)) * se
    return math.exp(center), math.exp(center - half), math.exp(center + half)
