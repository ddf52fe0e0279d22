"""C-accelerated stdlib parsing that holds the GIL: json encode/decode and regex scanning."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence

KIND = "cpu"
DESCRIPTION = "json dumps/loads and regex scans of 400 generated records a task (C code holding the GIL)"
ORIGIN = "written for the lab (json and re are C-accelerated but keep the GIL)"
SIZES = {"quick": 4, "default": 8, "rigorous": 32}
RECORDS_PER_TASK = 400
_EMAIL = re.compile(r'"email": "([a-z0-9.]+)@([a-z0-9]+)\.example"')
_NUMBER = re.compile(r"\b\d{3,}\b")


def make_tasks(size: int) -> list[tuple[int, int]]:
    return [(seed, RECORDS_PER_TASK) for seed in range(size)]


def run(task: tuple[int, int]) -> tuple[int, int, int]:
    seed, count = task
    records = [
        {
            "id": seed * 100_000 + i,
            "email": f"user{i}.{seed}@host{i % 7}.example",
            "tags": [f"t{(i * j) % 13}" for j in range(5)],
            "score": (i * 7919 + seed) % 1000 / 10,
        }
        for i in range(count)
    ]
    for _ in range(3):
        records = json.loads(json.dumps(records))
    text = json.dumps(records)
    emails = _EMAIL.findall(text)
    numbers = _NUMBER.findall(text)
    return len(emails), len(numbers), zlib.crc32("".join(user for user, _ in emails).encode())


def check(tasks: Sequence[tuple[int, int]], results: Sequence[tuple[int, int, int]]) -> str | None:
    for (seed, count), (emails, _numbers, _crc) in zip(tasks, results, strict=True):
        if emails != count:
            return f"seed {seed}: found {emails} e-mail addresses, expected {count}"
    return None
