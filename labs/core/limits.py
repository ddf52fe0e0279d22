"""The bounds every input is held to, and reading input the lab did not write.

Result files, journals and compat files travel between machines and are edited by hand: each is read
as untrusted input. A FIFO must not hang the reader, a link to /dev/zero must not fill memory, and a
number the JSON spelling allows (NaN, Infinity, 1e400) must not reach the arithmetic.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_WORKERS = 1024  # the most workers any model is asked for
MAX_RESULT_BYTES = 256 << 20  # far above any real run; a runaway or hostile file is refused unread
MAX_KEY_CHARS = 4096  # a bench key is a few hundred characters

# Physics as a test of a measurement (the measuring side re-measures, the report flags): a CPU-bound
# speedup above the usable CPUs x PHYSICS_MARGIN, or a one-worker "speedup" whose whole interval lies
# outside ONE_WORKER_BAND, is a fault, never a finding.
PHYSICS_MARGIN = 1.1
ONE_WORKER_BAND = (0.9, 1.1)


def refuse_constant(name: str) -> float:
    """json's hook for NaN / Infinity literals, which pyperf never writes and no timing can be."""
    raise ValueError(f"non-finite number {name} in the file")


def read_bounded(path: Path, limit: int = MAX_RESULT_BYTES) -> bytes:
    """The bytes of the regular file at *path*, at most *limit* of them.

    OSError for anything that is not a regular file (a FIFO, a device, a folder), opened without
    blocking so that a FIFO with no writer cannot hang the reader; ValueError when it holds more than
    *limit* bytes, read no further than that (a device's size says nothing of what it yields)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(f"not a regular file ({_kind(mode)})")
        os.set_blocking(descriptor, True)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(descriptor)
    if size > limit:
        raise ValueError(f"larger than {limit >> 20} MiB, not a file the lab wrote")
    return b"".join(chunks)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a plain file"
