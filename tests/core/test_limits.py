"""The bounds on what a run may ask for: a timeout every wait can honour, a size that fits in memory."""

from __future__ import annotations

import sys
import threading

import pytest

from labs import workloads
from labs.core import limits
from labs.core.errors import UsageError
from labs.execute import lab


def test_a_timeout_beyond_a_day_is_refused_long_before_the_waits_overflow():
    assert limits.MAX_TIMEOUT < threading.TIMEOUT_MAX
    assert limits.check_timeout(limits.MAX_TIMEOUT) == limits.MAX_TIMEOUT
    with pytest.raises(UsageError, match="timeout must be between 1 and 86400 seconds, got 86401"):
        limits.check_timeout(86_401)
    with pytest.raises(UsageError, match="got 0"):
        limits.check_timeout(0)


def test_map_tasks_refuses_an_overflowing_timeout_up_front():
    with pytest.raises(UsageError, match="timeout must be between"):
        lab.map_tasks("labs.workloads.fib:run", [1], model="serial", timeout=9.3e9)


def test_the_size_limit_is_half_the_memory_over_what_one_task_costs():
    fib = workloads.get("fib")
    # fib's tasks are 24 and 25 alternately: two shared small ints (28 bytes each, 32 on a free-threaded
    # build), counted once each over the 16 sampled tasks, plus a list slot and the result, times the copies.
    assert fib.make_tasks(16) == [24, 25] * 8
    ints = sys.getsizeof(24) + sys.getsizeof(25)
    per_task = (ints // 16 + 8 + lab.RESULT_ALLOWANCE) * lab.COPIES
    memory = 2 * per_task * 1000
    assert lab.max_size(fib, memory) == 1000
    assert lab.check_size(fib, 1000, memory) == 1000
    with pytest.raises(UsageError) as refused:
        lab.check_size(fib, 1001, memory)
    assert str(refused.value) == (
        f"size 1001 is too large for fib: at most 1000 tasks fit in half of the "
        f"{memory / (1 << 30):.1f} GiB of memory available"
    )


def test_a_workload_with_bigger_tasks_gets_a_lower_limit():
    # download's tasks are (url, page) tuples: more bytes each than fib's ints, so fewer fit.
    memory = 1 << 30
    assert lab.max_size(workloads.get("download"), memory) < lab.max_size(workloads.get("fib"), memory)


def test_available_memory_is_a_plausible_number_of_bytes():
    available = limits.available_memory()
    assert 1 << 20 < available < 1 << 50
