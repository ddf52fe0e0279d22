"""Code that runs inside workers (threads, processes, subinterpreters): everything is looked up by name."""

from __future__ import annotations

import traceback
from typing import Any

from labs.core.callref import resolve

STOP = None  # pipeline sentinel: one per worker


def call(func: str, *args: Any) -> Any:
    """Call the function named *func*; the entry point every model uses."""
    return resolve(func)(*args)


def run_chunk(task_func: str, chunk: tuple[Any, ...]) -> tuple[Any, ...]:
    """n-workers: compute one contiguous chunk of tasks."""
    func = resolve(task_func)
    return tuple(func(task) for task in chunk)


def run_share(task_func: str, tasks: tuple[Any, ...], index: int, workers: int) -> tuple[Any, ...]:
    """broadcast: every worker receives all tasks and computes those at index, index + workers, ..."""
    func = resolve(task_func)
    return tuple(func(task) for task in tasks[index::workers])


def pipeline_worker(task_func: str, inbound: Any, outbound: Any, timeout: float) -> int:
    """pipeline: take (position, task) from *inbound* until STOP, put (position, True, result) on *outbound*.

    A task that raises is reported as (position, False, formatted traceback) and ends this worker;
    the consumer fails the run with it. Returns how many tasks this worker handled.
    """
    func = resolve(task_func)
    handled = 0
    while True:
        item = inbound.get(timeout=timeout)
        if item is STOP:
            return handled
        position, task = item
        try:
            result = func(task)
        except Exception:  # an interrupt or the serial model's deadline is not the task's failure
            outbound.put((position, False, traceback.format_exc()))
            return handled
        outbound.put((position, True, result))
        handled += 1


def warm_up(delay: float) -> int:
    """Make a worker exist and import the lab; returns an id of the worker's process."""
    import os
    import time

    time.sleep(delay)
    return os.getpid()


# Coroutine task functions (I/O workloads under the asyncio model): the same shapes, awaited on the
# model's event loop. Each "worker" is one coroutine working through its share in order.


async def run_chunk_async(task_func: str, chunk: tuple[Any, ...]) -> tuple[Any, ...]:
    func = resolve(task_func)
    return tuple([await func(task) for task in chunk])


async def run_share_async(
    task_func: str, tasks: tuple[Any, ...], index: int, workers: int
) -> tuple[Any, ...]:
    func = resolve(task_func)
    return tuple([await func(task) for task in tasks[index::workers]])


async def pipeline_worker_async(task_func: str, inbound: Any, outbound: Any, timeout: float) -> int:
    func = resolve(task_func)
    handled = 0
    while True:
        item = await inbound.get_async(timeout)
        if item is STOP:
            return handled
        position, task = item
        try:
            result = await func(task)
        except Exception:
            await outbound.put_async((position, False, traceback.format_exc()))
            return handled
        await outbound.put_async((position, True, result))
        handled += 1


ASYNC_VARIANTS = {
    "labs.core.pool_worker:run_chunk": "labs.core.pool_worker:run_chunk_async",
    "labs.core.pool_worker:run_share": "labs.core.pool_worker:run_share_async",
    "labs.core.pool_worker:pipeline_worker": "labs.core.pool_worker:pipeline_worker_async",
}
