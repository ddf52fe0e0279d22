"""File I/O: write, then read back, many files in a temporary directory."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import zlib
from collections.abc import Iterator

KIND = "io"
DESCRIPTION = "write a 256 KiB file and read it back, in a temporary directory"
ORIGIN = "written for the lab"
SIZES = {"smoke": 8, "quick": 32, "default": 64}
FILE_BYTES = 256 << 10


@contextlib.contextmanager
def environment() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="labs-files-") as folder:
        yield folder


def make_tasks(size: int, folder: str) -> list[tuple[str, int]]:
    return [(folder, index) for index in range(size)]


def _content(index: int) -> bytes:
    block = hashlib.sha256(index.to_bytes(8, "little")).digest()
    return block * (FILE_BYTES // len(block))


def run(task: tuple[str, int]) -> tuple[int, int, int]:
    folder, index = task
    path = os.path.join(folder, f"file-{index}.bin")
    with open(path, "wb") as file:
        file.write(_content(index))
    with open(path, "rb") as file:
        data = file.read()
    os.unlink(path)
    return index, len(data), zlib.crc32(data)


def reference(task: tuple[str, int]) -> tuple[int, int, int]:
    data = _content(task[1])
    return task[1], len(data), zlib.crc32(data)
