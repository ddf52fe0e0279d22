"""The Universal Scalability Law fit recovers known parameters and refuses what it cannot fit."""

from __future__ import annotations

import math
import random

import pytest

from labs.analyse import usl


@pytest.mark.parametrize(("sigma", "kappa"), [(0.05, 0.002), (0.3, 0.0), (0.0, 0.01), (0.0, 0.0)])
def test_the_fit_recovers_the_parameters_of_an_exact_curve(sigma, kappa):
    truth = usl.Fit(sigma, kappa)
    found = usl.fit({n: truth.speedup(n) for n in (1, 2, 4, 8, 16, 32)})
    assert found is not None
    assert found.sigma == pytest.approx(sigma, abs=1e-9) and found.kappa == pytest.approx(kappa, abs=1e-9)
    expected = math.sqrt((1 - sigma) / kappa) if kappa else math.inf
    assert found.n_star == pytest.approx(expected)


def test_a_curve_that_turns_down_has_its_peak_between_the_counts_around_it():
    found = usl.fit({1: 1.0, 2: 1.98, 4: 3.96, 8: 7.48, 16: 11.68, 24: 10.38, 32: 10.24})
    assert found is not None and found.kappa > 0 and 12 < found.n_star < 32


def test_two_counts_are_not_a_curve():
    assert usl.fit({1: 1.0, 2: 1.9}) is None


def test_the_bootstrap_brackets_the_truth_of_a_noisy_curve():
    truth, rng = usl.Fit(0.05, 0.002), random.Random(1)
    rounds = {
        n: [truth.speedup(n) * math.exp(rng.gauss(0, 0.02)) for _ in range(8)] for n in (1, 2, 4, 8, 16, 32)
    }
    found = usl.bootstrap(rounds, seed=2)
    assert found is not None
    assert found["sigma"][0] <= 0.05 <= found["sigma"][1] and found["kappa"][0] <= 0.002 <= found["kappa"][1]
