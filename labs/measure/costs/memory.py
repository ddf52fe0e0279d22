"""Memory per worker: RSS, PSS and USS of the lab's process and its children, before and after starting
N workers, read from /proc/<pid>/smaps_rollup (no psutil needed, so it works on every build).

RSS counts shared pages in full for every process; PSS shares them out; USS counts only a process's
own pages, which is what a worker really adds.
"""

from __future__ import annotations

import os
from pathlib import Path

from labs.core import proctree

METRICS = ("rss", "pss", "uss")
SOURCE = "/proc/<pid>/smaps_rollup"


def unavailable_reason() -> str | None:
    if not Path(f"/proc/{os.getpid()}/smaps_rollup").exists():
        return "needs Linux's /proc/<pid>/smaps_rollup"
    return None


def process_memory(pid: int) -> dict[str, int]:
    """rss, pss and uss of one process in bytes."""
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[-1] == "kB":
            fields[key] = int(parts[0]) * 1024
    private = fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)
    return {"rss": fields.get("Rss", 0), "pss": fields.get("Pss", 0), "uss": private}


def tree_memory(pid: int | None = None) -> dict[str, int]:
    """Totals over a process and all its descendants (process workers, a forkserver, a resource tracker)."""
    root = os.getpid() if pid is None else pid
    totals = dict.fromkeys(METRICS, 0)
    for member in [root, *proctree.descendants(root)]:
        try:
            for key, value in process_memory(member).items():
                totals[key] += value
        except OSError:  # a process that ended meanwhile
            continue
    return totals


def per_worker(before: dict[str, int], after: dict[str, int], workers: int) -> dict[str, float]:
    return {key: (after[key] - before[key]) / workers for key in METRICS}
