"""SIGINT, SIGTERM and SIGHUP end a command the way Ctrl-C does, and nothing the lab started outlives it.

A signal raises ``Interrupted`` (a KeyboardInterrupt) in the main thread, so every ``with`` block on the
way out runs: a model kills its worker processes, a workload stops its server. The CLI then reports
one line and leaves with 128 + the signal's number (130 for Ctrl-C). A second signal, or one that
arrives while the lab is already leaving, ends the process at once instead of raising again in the
middle of the clean-up: no traceback, whatever the user presses.

A signal that was ignored when the lab started (``nohup``, a background job of a script) stays ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import NoReturn

from labs.core.errors import Interrupted

ENDING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# multiprocessing's resource tracker unlinks the named semaphores the lab's queues registered: killed,
# it would leave them in /dev/shm. It needs no killing: it ends by itself when the last process that
# holds its pipe (the lab and its worker processes) is gone.
_SPARED = ("multiprocessing.resource_tracker",)


class _State:
    first: int | None = None  # the first ending signal received
    leaving: bool = False  # the command is reporting how it ended: any further signal ends it at once


_state = _State()


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + getattr(interrupt, "signum", signal.SIGINT)


def describe(interrupt: KeyboardInterrupt) -> str:
    signum = getattr(interrupt, "signum", signal.SIGINT)
    return "interrupted" if signum == signal.SIGINT else f"interrupted by {signal.Signals(signum).name}"


def leaving() -> None:
    """The command is on its way out: from now on a signal ends the process without another exception."""
    _state.leaving = True


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if _state.first is None and not _state.leaving:
        _state.first = signum
        raise Interrupted(signum)
    # A second signal (an impatient Ctrl-C), or one while an error is being reported: leave now.
    first = _state.first or signum
    if not _state.leaving:
        os.write(2, f"ERROR: {describe(Interrupted(first))}\n".encode())
    end_now(128 + first)


def end_now(code: int) -> NoReturn:
    """Leave at once: children ended, multiprocessing's semaphores released, nothing waited for."""
    release_and_end_children()
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


@contextlib.contextmanager
def ending_signals_interrupt() -> Iterator[None]:
    """While the block runs, SIGINT, SIGTERM and SIGHUP interrupt it like Ctrl-C (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread; the caller keeps its own
        return
    previous = {}
    for signum in ENDING_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _on_signal)
    _state.first, _state.leaving = None, False
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def release_and_end_children() -> list[int]:
    """Kill every process the lab started that is still running; returns their ids.

    The models kill their own workers on every way out; this is the net under them, for what a
    clean-up interrupted half-way, or a task, left behind. Named semaphores that multiprocessing
    registered are released too, as the interpreter's exit would have done, so that the resource
    tracker has nothing to warn about when it ends.

    The lab's descendants are found by parent id rather than by killing a process group: a lab started
    from a script shares the script's group (killing it would kill the script), and a lab that made a
    group of its own would leave the terminal's foreground group, where Ctrl-C is delivered.
    """
    ended = []
    for pid in descendants(os.getpid()):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if any(name.encode() in command for name in _SPARED):
            continue
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
            ended.append(pid)
    _release_multiprocessing_resources()
    return ended


def descendants(root: int) -> list[int]:
    """Every live process below *root*, from the parent ids in /proc.

    Parent ids, not /proc/PID/task/TID/children: that file lists only the children of one thread, and a
    worker thread may start processes too (the subprocesses workload, a pool started off the main thread).
    """
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [root]
    while pending:
        kids = children.get(pending.pop(), [])
        found += kids
        pending += kids
    return found


def _release_multiprocessing_resources() -> None:
    # The finalizers registered with an exit priority are what multiprocessing's own atexit hook runs
    # first (they unlink the queues' named semaphores); os._exit skips atexit, so run them here. Only
    # when multiprocessing was used at all, and never importing it just for this.
    util = sys.modules.get("multiprocessing.util")
    run_finalizers = getattr(util, "_run_finalizers", None)
    if run_finalizers is not None:
        with contextlib.suppress(Exception):
            run_finalizers(0)
        # Then the rest of them, the removal of its temporary folder (pymp-*, priority -100) among
        # them: the processes that used it are gone by now.
        with contextlib.suppress(Exception):
            run_finalizers()
