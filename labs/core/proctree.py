"""The lab's process tree from /proc: descendants, and CPU time used (for memory and CPU accounting)."""

from __future__ import annotations

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


def die_with_parent(signum: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send *signum* to this process when its parent thread ends (Linux's
    PR_SET_PDEATHSIG); False where that cannot be asked (not Linux).

    Every process the lab starts asks this first, so that a lab killed with SIGKILL, which can run no
    clean-up, still takes its whole tree with it: each level dies with the level above. The signal
    fires when the parent *thread* that started the child ends, so pools are started from the thread
    that runs the model. It does not guess from ``getppid() == 1`` that the parent is gone already (in
    a container the lab itself may be PID 1): a caller that knows its parent checks that after asking.
    """
    import ctypes  # here, not at the top: on 3.12 _ctypes refuses to load in a subinterpreter, and
    # the I/O workloads import this module inside the interpreters models' workers

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(signum)) == 0
    except (OSError, AttributeError):
        return False


if __name__ == "__main__":
    # `python -m labs.core.proctree COMMAND ...`: COMMAND, dying with the process that started this one
    # (PR_SET_PDEATHSIG survives exec). For servers the lab starts that are not Python (redis-server).
    import sys

    die_with_parent(signal.SIGKILL)
    os.execvp(sys.argv[1], sys.argv[1:])
