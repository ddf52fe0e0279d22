"""The lab's process tree from /proc: descendants, and CPU time used (for memory and CPU accounting)."""

from __future__ import annotations

import os
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
