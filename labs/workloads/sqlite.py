"""sqlite queries against a real database file (the sqlite3 module releases the GIL while SQLite works)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator

from labs.core.errors import RunError
from labs.workloads.io.connections import per_thread

KIND = "io"
DESCRIPTION = "range-aggregate queries on a 200,000-row SQLite file, one connection per worker thread"
ORIGIN = "written for the lab"
SIZES = {"quick": 8, "default": 32, "rigorous": 64}
ROWS = 200_000
SPAN = 20_000
_local = threading.local()


def value(key: int) -> int:
    return key * 7919 % 1000


def _no_room(what: str, exc: Exception) -> RunError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return RunError(f"sqlite: {what}: {reason} (free space there, or set TMPDIR to a folder with room)")


@contextlib.contextmanager
def environment() -> Iterator[str]:
    """The database file, built in a temporary folder. A full or unwritable folder, or a query that
    fails in the lab's own process (the serial phase runs there), is reported as one line."""
    try:
        folder = tempfile.TemporaryDirectory(prefix="labs-sqlite-")
    except OSError as exc:
        raise _no_room("cannot make a temporary folder", exc) from None
    with folder as name:
        path = os.path.join(name, "lab.db")
        try:
            with contextlib.closing(sqlite3.connect(path)) as db:
                db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)")
                db.executemany("INSERT INTO t VALUES (?, ?)", ((k, value(k)) for k in range(ROWS)))
                db.commit()
        except (sqlite3.Error, OSError) as exc:
            raise _no_room(f"cannot build the {ROWS:,}-row database {path}", exc) from None
        try:
            yield path
        except sqlite3.Error as exc:
            raise _no_room(f"a query on {path} failed", exc) from None


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
