"""The lab's process tree from /proc: descendants, and CPU time used (for memory and CPU accounting)."""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path


def descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        try:
            text = Path(f"/proc/{current}/task/{current}/children").read_text()
        except OSError:
            continue
        kids = [int(k) for k in text.split()]
        found += kids
        pending += kids
    return found


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process and its live descendants (0 where /proc is missing)."""
    root = os.getpid() if pid is None else pid
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for member in [root, *descendants(root)]:
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int = signal.SIGKILL) -> None:
    """Have the kernel send *signum* to this process when its parent dies (Linux; a no-op elsewhere).

    Every process the lab starts calls this first, so that a lab killed with SIGKILL, which can run no
    clean-up, still takes its whole tree with it: each level dies with the level above. The signal fires
    when the parent *thread* that forked us ends, so it is set by the child on itself, right after it
    starts; a parent that already died before that (we were re-parented) means we exit at once.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(signum))
    except (OSError, AttributeError):  # not Linux, or no prctl: nothing to set
        return
    if os.getppid() == 1:  # the parent is gone already: the signal will never come
        os._exit(1)
