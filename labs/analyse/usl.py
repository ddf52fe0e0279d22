"""The Universal Scalability Law (N. Gunther), fitted to a measured speedup curve.

X(N) = lambda N / (1 + sigma (N - 1) + kappa N (N - 1)): sigma is contention (the serial share, as in
Amdahl's law), kappa coherency (the crosstalk that makes a curve turn down). Its peak is at
N* = sqrt((1 - sigma) / kappa). N / X(N) is a quadratic in N, so the fit is linear least squares on
N / speedup = a + b (N - 1) + c N (N - 1), with sigma = b / a and kappa = c / a held at or above zero;
its intervals come from a bootstrap over the measuring rounds of each count.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MIN_COUNTS = 3  # three parameters: two counts fit any curve exactly
BOOTSTRAP = 400


@dataclass(frozen=True)
class Fit:
    sigma: float
    kappa: float

    @property
    def n_star(self) -> float:
        """Where the fitted throughput peaks (infinite when nothing makes the curve turn down)."""
        if self.kappa <= 0 or self.sigma >= 1:
            return math.inf
        return math.sqrt((1 - self.sigma) / self.kappa)

    def speedup(self, n: float) -> float:
        return n / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1))


def _solve(rows: list[list[float]], targets: list[float]) -> list[float] | None:
    """Least squares by the normal equations (at most three unknowns); None when singular."""
    k = len(rows[0])
    matrix = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    vector = [sum(r[i] * t for r, t in zip(rows, targets, strict=True)) for i in range(k)]
    for col in range(k):  # Gauss-Jordan with partial pivoting
        pivot = max(range(col, k), key=lambda r: abs(matrix[r][col]))
        if abs(matrix[pivot][col]) < 1e-12:
            return None
        matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
        vector[col], vector[pivot] = vector[pivot], vector[col]
        for row in range(k):
            if row != col:
                factor = matrix[row][col] / matrix[col][col]
                matrix[row] = [x - factor * y for x, y in zip(matrix[row], matrix[col], strict=True)]
                vector[row] -= factor * vector[col]
    return [vector[i] / matrix[i][i] for i in range(k)]


def fit(points: Mapping[int, float]) -> Fit | None:
    """sigma and kappa of the speedups measured at each worker count, or None with under MIN_COUNTS."""
    counts = sorted(n for n, s in points.items() if s > 0)
    if len(counts) < MIN_COUNTS:
        return None
    targets = [n / points[n] for n in counts]
    terms = {"b": [n - 1.0 for n in counts], "c": [n * (n - 1.0) for n in counts]}
    best: tuple[float, Fit] | None = None
    for kept in (("b", "c"), ("b",), ("c",), ()):  # the best fit whose terms are all non-negative
        rows = [[1.0, *(terms[t][i] for t in kept)] for i in range(len(counts))]
        solved = _solve(rows, targets)
        if solved is None or solved[0] <= 0 or any(value < 0 for value in solved[1:]):
            continue
        residual = sum(
            (sum(c * x for c, x in zip(solved, row, strict=True)) - t) ** 2
            for row, t in zip(rows, targets, strict=True)
        )
        found = dict(zip(kept, solved[1:], strict=True))
        candidate = Fit(found.get("b", 0.0) / solved[0], found.get("c", 0.0) / solved[0])
        if best is None or residual < best[0] - 1e-15:
            best = (residual, candidate)
    return None if best is None else best[1]


def bootstrap(rounds: Mapping[int, Sequence[float]], seed: int = 0) -> dict[str, tuple[float, float]] | None:
    """95% percentile intervals of sigma, kappa and N*, resampling each count's rounds."""
    rng = random.Random(seed)
    fits = []
    for _ in range(BOOTSTRAP):
        means = {}
        for n, values in rounds.items():
            picked = [rng.choice(values) for _ in values]
            means[n] = math.exp(sum(math.log(v) for v in picked) / len(picked))
        found = fit(means)
        if found is not None:
            fits.append(found)
    if len(fits) < BOOTSTRAP // 2:
        return None

    def interval(values: list[float]) -> tuple[float, float]:
        ordered = sorted(values)
        return ordered[int(0.025 * (len(ordered) - 1))], ordered[int(0.975 * (len(ordered) - 1))]

    return {
        "sigma": interval([f.sigma for f in fits]),
        "kappa": interval([f.kappa for f in fits]),
        "n_star": interval([f.n_star for f in fits]),
    }
