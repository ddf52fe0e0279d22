"""processes: a ProcessPoolExecutor, declared once for each multiprocessing start method.

Its pipeline uses two multiprocessing.Queue objects created with the pool and handed to every
worker by the pool's initializer (a queue can only travel to a process when it is created).

No worker outlives the lab, however the lab ends. On every way out the lab can act on (a failure, a
timeout, Ctrl-C, SIGTERM, SIGHUP) shutdown(abandon=True) kills them. Against SIGKILL, which runs no
clean-up, each worker asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG): its parent
is the lab for fork and spawn, and the forkserver for forkserver, which in turn dies with the lab
(see forkserver_guard). The resource tracker needs nothing: it ends when the last process holding its
pipe (the lab and the workers) is gone.

PR_SET_PDEATHSIG fires when the parent *thread* ends, not the parent process. So the pool and the
forkserver are started from the thread that runs the model: the lab's main thread in the CLI and in a
bench, and for map_tasks the caller's thread, which outlives the pool since it waits in map_tasks.
The pool never starts a worker from its own manager thread (it would only with max_tasks_per_child).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from labs.core.pool_worker import call
from labs.core.proctree import die_with_parent
from labs.models.base import Channel, Model

_inherited: tuple[Any, ...] = ()  # set in each worker process by _adopt
_FORKSERVER_PRELOAD = ["labs.models.forkserver_guard"]


def _adopt(lab: int, forked_by_lab: bool, *queues: Any) -> None:
    """Pool initializer: die with the parent, leave Ctrl-C to the lab, keep the pipeline's queues.

    A worker orphaned before it could ask to die with its parent leaves at once: for fork and spawn its
    parent is the lab (*lab*, its pid) and must still be; a forkserver worker's parent is the forkserver,
    which dies only with the lab, so the lab must still be alive.
    """
    global _inherited
    die_with_parent(signal.SIGKILL)
    if (os.getppid() != lab) if forked_by_lab else not _alive(lab):
        os._exit(1)
    # A terminal's Ctrl-C reaches the whole foreground process group; the lab decides what it means and
    # kills the workers itself, so a worker must not die of it first with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _inherited = queues


@contextlib.contextmanager
def _sigint_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread while it may start a worker process (or the forkserver).

    A new process inherits the signal mask, so a terminal's Ctrl-C, which reaches the whole foreground
    group, cannot kill a worker with a traceback of its own while it starts, before _adopt ignores
    SIGINT for good (the stdlib starts its resource tracker the same way). The lab loses nothing: a
    SIGINT meanwhile stays pending, or another thread takes it, and the main thread handles it next.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _alive(pid: int) -> bool:
    # A killed lab stays a zombie until it is reaped, and os.kill(pid, 0) finds a zombie: read its state
    # (on 3.15 a forkserver worker may reach _adopt only after the lab and the forkserver were killed).
    try:
        if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
    except (OSError, IndexError):
        pass  # no /proc (not Linux) or already gone: os.kill answers
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists (the pid reused by another user's process is too unlikely to guard against)
    return True


def _inherited_queue(slot: int) -> Any:
    return _inherited[slot]


class InheritedQueue:
    """A handle to one of the pool's queues; it pickles as its slot and resolves inside the worker."""

    def __init__(self, slot: int, queue: Any) -> None:
        self.slot = slot
        self._queue = queue

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return _inherited_queue, (self.slot,)

    def put(self, item: Any) -> None:
        self._queue.put(item)

    def get(self, timeout: float) -> Any:
        return self._queue.get(timeout=timeout)


class Processes(Model):
    start_method = ""
    in_process = False
    queue_type = "multiprocessing.Queue"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        methods = multiprocessing.get_all_start_methods()
        if cls.start_method not in methods:
            return (
                f"start method {cls.start_method!r} is not available here (available: {', '.join(methods)})"
            )
        return None

    def facts(self) -> dict[str, Any]:
        return {"start_method": self.start_method}

    def start(self) -> None:
        context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            # Started here, in the model's thread, with the guard preloaded (a forkserver already running
            # keeps what it has: it was started by an earlier pool of this process, the same way).
            from multiprocessing import forkserver, resource_tracker

            context.set_forkserver_preload(_FORKSERVER_PRELOAD)
            # The tracker first: starting it unblocks SIGINT (SIG_UNBLOCK, not a restore of the mask).
            resource_tracker.ensure_running()
            with _sigint_blocked():
                forkserver.ensure_running()
        self._queues = (context.Queue(), context.Queue())
        forked_by_lab = self.start_method != "forkserver"
        self._pool = ProcessPoolExecutor(
            self.workers,
            mp_context=context,
            initializer=_adopt,
            initargs=(os.getpid(), forked_by_lab, *self._queues),
        )
        # Overlapping sleeps make the pool start every process before any job is timed.
        wait([self.submit("labs.core.pool_worker:warm_up", self.warm_delay) for _ in range(self.workers)])

    def submit(self, func: str, *args: Any) -> Future:
        with _sigint_blocked():  # the pool starts its workers inside submit()
            return self._pool.submit(call, func, *args)

    def channels(self) -> tuple[Channel, Channel]:
        return InheritedQueue(0, self._queues[0]), InheritedQueue(1, self._queues[1])

    def shutdown(self, *, abandon: bool = False) -> None:
        # Also called after a start() that failed or was interrupted half-way: take what exists.
        pool, queues = getattr(self, "_pool", None), getattr(self, "_queues", ())
        if abandon:
            # A hung or broken worker must not outlive the run.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
            for queue in queues:
                queue.cancel_join_thread()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        for queue in queues:
            queue.close()


def _variant(method: str) -> type[Processes]:
    return type(
        f"Processes{method.capitalize()}",
        (Processes,),
        {
            "name": f"processes-{method}",
            "description": f"concurrent.futures.ProcessPoolExecutor, start method {method!r}",
            "start_method": method,
            "__module__": __name__,
        },
    )


MODELS = tuple(_variant(method) for method in ("fork", "spawn", "forkserver"))
