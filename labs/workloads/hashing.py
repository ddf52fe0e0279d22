"""C code that releases the GIL: sha256 and zlib over megabyte buffers, so threads scale even with the GIL."""

from __future__ import annotations

import hashlib
import random
import zlib
from collections.abc import Sequence

KIND = "cpu"
DESCRIPTION = "sha256 + zlib over a 1 MiB buffer a task (C code that releases the GIL)"
ORIGIN = "written for the lab (hashlib and zlib drop the GIL on large buffers)"
SIZES = {"quick": 4, "default": 8, "rigorous": 32}
BUFFER_BYTES = 1 << 20
_buffers: dict[int, bytes] = {}


def make_tasks(size: int) -> list[tuple[int, int]]:
    return [(seed % 4, BUFFER_BYTES) for seed in range(size)]


def _buffer(seed: int, nbytes: int) -> bytes:
    # Compressible but not trivial data; built once per worker so the task times the C code.
    key = seed * (1 << 40) + nbytes
    data = _buffers.get(key)
    if data is None:
        rng = random.Random(seed)
        block = bytes(rng.randrange(64) for _ in range(4096))
        data = (block * (nbytes // len(block) + 1))[:nbytes]
        _buffers[key] = data
    return data


def run(task: tuple[int, int]) -> tuple[str, int]:
    data = _buffer(*task)
    digest = hashlib.sha256(data)
    for _ in range(3):
        digest = hashlib.sha256(digest.digest() + data)
    return digest.hexdigest(), len(zlib.compress(data, 6))


def check(tasks: Sequence[tuple[int, int]], results: Sequence[tuple[str, int]]) -> str | None:
    for task, (hexdigest, compressed) in zip(tasks, results, strict=True):
        if len(hexdigest) != 64 or not 0 < compressed < task[1]:
            return f"task {task}: digest {hexdigest!r}, compressed to {compressed} bytes"
    return None
