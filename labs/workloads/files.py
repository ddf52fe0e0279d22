"""File I/O: write, then read back, many files in a temporary directory."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterator

from labs.core.errors import RunError

KIND = "io"
DESCRIPTION = "write a 256 KiB file and read it back, in a temporary directory"
ORIGIN = "written for the lab"
SIZES = {"quick": 8, "default": 32, "rigorous": 64}
FILE_BYTES = 256 << 10


class WriteFailed(Exception):
    """The temporary folder refused a file (full, read-only, over a size limit): named, in one line."""


def no_room(what: str, exc: Exception) -> RunError:
    """A run failure for a temporary folder that cannot hold what the workload writes; says how to fix it."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return RunError(f"{what}: {reason} (free space there, or set TMPDIR to a folder with room)")


@contextlib.contextmanager
def environment() -> Iterator[str]:
    """A temporary folder for the run. A write that fails in the lab's own process (the serial phase
    runs there) comes back through here and is reported as one line."""
    try:
        folder = tempfile.TemporaryDirectory(prefix="labs-files-")
    except OSError as exc:
        raise no_room("files: cannot make a temporary folder", exc) from None
    with folder as path:
        try:
            yield path
        except WriteFailed as exc:
            raise no_room("files", exc) from None


def make_tasks(size: int, folder: str) -> list[tuple[str, int]]:
    return [(folder, index) for index in range(size)]


def _content(index: int) -> bytes:
    block = hashlib.sha256(index.to_bytes(8, "little")).digest()
    return block * (FILE_BYTES // len(block))


def run(task: tuple[str, int]) -> tuple[int, int, int]:
    folder, index = task
    path = os.path.join(folder, f"file-{index}.bin")
    try:
        with open(path, "wb") as file:
            file.write(_content(index))
        with open(path, "rb") as file:
            data = file.read()
        os.unlink(path)
    except OSError as exc:
        raise WriteFailed(f"cannot write and read back {path}: {exc.strerror or exc}") from None
    return index, len(data), zlib.crc32(data)


def reference(task: tuple[str, int]) -> tuple[int, int, int]:
    data = _content(task[1])
    return task[1], len(data), zlib.crc32(data)
