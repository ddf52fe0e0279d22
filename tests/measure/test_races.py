"""The race demos: exact on a deterministic interleaving, and the fixes lose nothing for real."""

from __future__ import annotations

import threading

import pytest

from labs.measure.costs import races


def test_the_classic_interleaving_loses_exactly_one_update():
    # A reads, B reads, A writes, B writes: B's write overwrites A's.
    assert races.replay([0, 1, 0, 1], workers=2, increments=1, locked=False) == 1


def test_a_serial_schedule_loses_nothing():
    assert races.replay([0, 0, 0, 0, 1, 1, 1, 1], workers=2, increments=2, locked=False) == 0


def test_alternating_every_step_loses_half_of_the_updates():
    schedule = [0, 1] * 1000
    assert races.replay(schedule, workers=2, increments=100, locked=False) == 100


def test_the_locked_version_loses_none_on_the_same_interleavings():
    for schedule in ([0, 1, 0, 1], [0, 1] * 1000, [1, 0, 0, 1, 1, 0] * 100):
        assert races.replay(schedule, workers=2, increments=100, locked=True) == 0


def test_asyncio_check_then_act_overdraws_unless_locked():
    assert races.asyncio_overdraft(5, 60, 100, locked=False) == 100 - 5 * 60
    assert races.asyncio_overdraft(5, 60, 100, locked=True) == 40


@pytest.mark.parametrize("strategy", ["lock", "per-thread"])
def test_the_fixes_lose_no_update_for_real(strategy):
    result = races.count_with(strategy, threads=4, increments=20_000)
    assert result.expected == 80_000 and result.lost == 0


def test_one_thread_alone_loses_no_update_even_unsafely():
    # The race needs a second thread: alone, the read-modify-write counts every increment.
    result = races.count_with("unsafe", threads=1, increments=25_000)
    assert (result.expected, result.counted, result.lost) == (25_000, 25_000, 0)


def test_lost_updates_are_reported_per_million_increments():
    result = races.CounterResult("unsafe", threads=4, expected=80_000, counted=79_992, seconds=0.1)
    assert result.lost == 8
    assert result.lost_per_million == 100.0


def test_the_increments_run_in_batches_that_stop_when_asked():
    stop = threading.Event()
    assert list(races._batches(25_000, stop)) == [races.BATCH, races.BATCH, 5_000]
    batches = races._batches(10 * races.BATCH, stop)
    assert next(batches) == races.BATCH
    stop.set()  # an interrupt: the rest is never run
    assert list(batches) == []
