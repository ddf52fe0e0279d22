"""A run ends when asked: the serial model honours its deadline, and an interrupt (Ctrl-C) is never
mistaken for a task's failure or a timeout, so the CLI can report it as what it is."""

from __future__ import annotations

import queue
import signal
import threading
import time
from concurrent.futures import Future

import pytest

from labs.core import pool_worker
from labs.core.callref import ref_of
from labs.core.errors import RunTimeout
from labs.execute import patterns
from labs.models.base import Model
from labs.models.serial import Serial


def interrupt(task: object) -> object:
    raise KeyboardInterrupt


def sleep_long(task: object) -> object:
    time.sleep(60)
    return task


@pytest.mark.parametrize("pattern", patterns.NAMES)
def test_the_serial_model_stops_a_hung_call_at_the_deadline(pattern):
    start = time.monotonic()
    with Serial(1) as model, pytest.raises(RunTimeout, match="no result before the run's timeout"):
        patterns.run(pattern, model, ref_of(sleep_long), [1], timeout=0.3)
    assert time.monotonic() - start < 5


def test_the_serial_models_timer_is_disarmed_after_a_job():
    with Serial(1) as model:
        assert patterns.run("n-workers", model, "labs.workloads.fib:run", [10, 11], timeout=0.2) == [55, 89]
        time.sleep(0.4)  # past the deadline of the finished job: no stray alarm may fire now
        assert patterns.run("n-workers", model, "labs.workloads.fib:run", [12], timeout=5) == [144]


@pytest.mark.parametrize("pattern", patterns.NAMES)
def test_an_interrupt_in_a_serial_task_is_the_users_not_a_failed_task(pattern):
    with Serial(1) as model, pytest.raises(KeyboardInterrupt):
        patterns.run(pattern, model, ref_of(interrupt), [1, 2], timeout=10)


def test_ctrl_c_while_waiting_for_a_pool_is_an_interrupt_not_a_timeout():
    # Ctrl-C lands in the main thread while it waits for a worker's future: it used to be reported
    # as the run's timeout, because the future was still running.
    never_done: Future = Future()
    start = time.monotonic()
    threading.Timer(0.2, signal.pthread_kill, (threading.main_thread().ident, signal.SIGINT)).start()
    with pytest.raises(KeyboardInterrupt):
        patterns.outcome(never_done, time.monotonic() + 30)
    assert time.monotonic() - start < 5


def test_the_pipeline_worker_reports_a_failing_task_but_lets_an_interrupt_through():
    inbound, outbound = queue.Queue(), queue.Queue()
    for item in [(0, 1), pool_worker.STOP]:
        inbound.put(item)
    with pytest.raises(KeyboardInterrupt):
        pool_worker.pipeline_worker(ref_of(interrupt), inbound, outbound, 1.0)
    assert outbound.empty()


class HalfStarted(Model):
    """A model whose start() fails after it started something, to see that it is stopped."""

    name = "half-started"
    stopped: list[bool] = []

    def start(self) -> None:
        raise KeyboardInterrupt  # as if Ctrl-C came while the pool was starting

    def submit(self, func: str, *args: object) -> None:
        raise AssertionError("never called")

    def channels(self) -> tuple:
        return (), ()

    def shutdown(self, *, abandon: bool = False) -> None:
        self.stopped.append(abandon)


def test_a_start_interrupted_half_way_abandons_what_it_started():
    with pytest.raises(KeyboardInterrupt), HalfStarted(2):
        pass
    assert HalfStarted.stopped == [True]
