"""sqlite queries against a real database file (the sqlite3 module releases the GIL while SQLite works)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator

from labs.workloads.io.connections import per_thread

KIND = "io"
DESCRIPTION = "range-aggregate queries on a 200,000-row SQLite file, one connection per worker thread"
ORIGIN = "written for the lab"
SIZES = {"smoke": 8, "quick": 32, "default": 64}
ROWS = 200_000
SPAN = 20_000
_local = threading.local()


def value(key: int) -> int:
    return key * 7919 % 1000


@contextlib.contextmanager
def environment() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="labs-sqlite-") as folder:
        path = os.path.join(folder, "lab.db")
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
            db.executemany("INSERT INTO t VALUES (?, ?)", ((k, value(k)) for k in range(ROWS)))
            db.commit()
        yield path


def make_tasks(size: int, path: str) -> list[tuple[str, int, int]]:
    return [(path, (i * 7777) % (ROWS - SPAN), (i * 7777) % (ROWS - SPAN) + SPAN - 1) for i in range(size)]


def run(task: tuple[str, int, int]) -> tuple[int, int]:
    path, low, high = task
    connections = per_thread(_local)
    if path not in connections:
        connections[path] = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    # A full scan of the range's values (not the primary key index alone) gives SQLite real work.
    count, total = (
        connections[path]
        .execute("SELECT count(*), sum(v) FROM t WHERE k BETWEEN ? AND ? AND v >= 0", (low, high))
        .fetchone()
    )
    return count, total


def reference(task: tuple[str, int, int]) -> tuple[int, int]:
    _, low, high = task
    return high - low + 1, sum(value(k) for k in range(low, high + 1))
