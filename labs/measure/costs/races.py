"""Race conditions from the course, measured for real and replayed deterministically.

- Lost updates: N threads each add 1 to a shared counter ``increments`` times with a read-modify-write
  (``counter.value += 1``). With the GIL a thread switch between the read and the write is rare but
  possible; on a free-threaded build the threads truly overlap. The fixes and what they cost: a
  ``threading.Lock``, per-thread counters merged at the end, and ``itertools.count`` (its ``next`` is
  a single C call).
- Check-then-act across an ``await``: concurrent withdrawals that each check the balance, await,
  then subtract, overdraw the account; an ``asyncio.Lock`` around check and act fixes it.
- ``replay`` runs the same read-modify-write as explicit steps under a given interleaving, so the
  lost-update count of a schedule is exact (no timing involved).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

STRATEGIES = ("unsafe", "lock", "per-thread", "itertools-count")
ASYNC_STRATEGIES = ("asyncio-unlocked", "asyncio-locked")  # check-then-act across an await


class Counter:
    def __init__(self) -> None:
        self.value = 0


BATCH = 10_000  # increments between two looks at the stop flag: rare enough to leave the race as it is


def _batches(increments: int, stop: threading.Event) -> Iterator[int]:
    """*increments* split into batches, ending early once *stop* is set (an interrupted demo must
    end in milliseconds, not after a hundred million more increments)."""
    done = 0
    while done < increments and not stop.is_set():
        step = min(BATCH, increments - done)
        yield step
        done += step


def _unsafe(threads: int, increments: int) -> int:
    counter = Counter()

    def work(stop: threading.Event) -> None:
        for batch in _batches(increments, stop):
            for _ in range(batch):
                counter.value += 1  # load, add, store: another thread may store in between

    _run_threads(work, threads)
    return counter.value


def _locked(threads: int, increments: int) -> int:
    counter, lock = Counter(), threading.Lock()

    def work(stop: threading.Event) -> None:
        for batch in _batches(increments, stop):
            for _ in range(batch):
                with lock:
                    counter.value += 1

    _run_threads(work, threads)
    return counter.value


def _per_thread(threads: int, increments: int) -> int:
    totals = [0] * threads

    def work(stop: threading.Event, index: int) -> None:
        local = 0
        for batch in _batches(increments, stop):
            for _ in range(batch):
                local += 1
        totals[index] = local  # each thread writes only its own slot

    _run_threads(work, threads, indexed=True)
    return sum(totals)


def _itertools_count(threads: int, increments: int) -> int:
    counter = itertools.count()

    def work(stop: threading.Event) -> None:
        step = counter.__next__
        for batch in _batches(increments, stop):
            for _ in range(batch):
                step()

    _run_threads(work, threads)
    return next(counter)


def _run_threads(work: Callable[..., None], threads: int, indexed: bool = False) -> None:
    """Run *work* in *threads* threads lined up to start together. Interrupted (Ctrl-C), it stops them
    within one batch and re-raises: daemon threads, so that nothing waits for them at exit either."""
    start, stop = threading.Barrier(threads), threading.Event()

    def body(index: int) -> None:
        try:
            start.wait()  # line them up so they really overlap
        except threading.BrokenBarrierError:  # interrupted before they all started
            return
        work(stop, index) if indexed else work(stop)

    pool = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(threads)]
    try:
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    except BaseException:
        stop.set()
        start.abort()
        for thread in pool:
            if thread.is_alive():
                thread.join(timeout=1.0)
        raise


_RUNNERS: dict[str, Callable[[int, int], int]] = {
    "unsafe": _unsafe,
    "lock": _locked,
    "per-thread": _per_thread,
    "itertools-count": _itertools_count,
}


@dataclass(frozen=True)
class CounterResult:
    strategy: str
    threads: int
    expected: int
    counted: int
    seconds: float

    @property
    def lost(self) -> int:
        return self.expected - self.counted

    @property
    def lost_per_million(self) -> float:
        return self.lost / self.expected * 1e6


def count_with(strategy: str, threads: int, increments: int) -> CounterResult:
    """Run one strategy for real and report how many updates were lost and how long it took."""
    begin = time.perf_counter()
    counted = _RUNNERS[strategy](threads, increments)
    return CounterResult(strategy, threads, threads * increments, counted, time.perf_counter() - begin)


# --- deterministic replay ---------------------------------------------------------------------------


def _increment_steps(shared: dict[str, int], lock: dict[str, bool] | None) -> Iterator[str]:
    """One increment as two steps, read then write; it yields where a thread switch can happen."""
    if lock is not None:
        while lock["held"]:
            yield "blocked"
        lock["held"] = True
    value = shared["value"]
    yield "read"
    shared["value"] = value + 1
    if lock is not None:
        lock["held"] = False


def replay(schedule: Sequence[int], workers: int, increments: int, locked: bool) -> int:
    """Run *workers* x *increments* increments, stepping worker ``schedule[i]`` at step i (then round
    robin once the schedule is spent). Returns the lost updates: exact for that interleaving."""
    shared = {"value": 0}
    lock = {"held": False} if locked else None
    pending = [increments] * workers
    current: list[Iterator[str] | None] = [None] * workers
    steps = iter(schedule)
    turn = 0
    while any(pending) or any(current):
        choice = next(steps, None)
        if choice is None:
            choice = turn % workers
            turn += 1
        if current[choice] is None:
            if not pending[choice]:
                continue
            pending[choice] -= 1
            current[choice] = _increment_steps(shared, lock)
        if next(current[choice], None) is None:
            current[choice] = None
    return workers * increments - shared["value"]


# --- asyncio: check-then-act across an await ----------------------------------------------------------


async def _withdraw(account: dict[str, int], amount: int, lock: asyncio.Lock | None) -> None:
    async def check_then_act() -> None:
        if account["balance"] >= amount:
            await asyncio.sleep(0)  # e.g. a database call between the check and the act
            account["balance"] -= amount

    if lock is None:
        await check_then_act()
    else:
        async with lock:
            await check_then_act()


def asyncio_overdraft(withdrawals: int, amount: int, balance: int, locked: bool) -> int:
    """Final balance after *withdrawals* concurrent withdrawals of *amount* from *balance*."""

    async def main() -> int:
        account = {"balance": balance}
        lock = asyncio.Lock() if locked else None
        await asyncio.gather(*(_withdraw(account, amount, lock) for _ in range(withdrawals)))
        return account["balance"]

    return asyncio.run(main())
