"""Allocation-, dict- and str-heavy: count words in generated text, the way a log scan would."""

from __future__ import annotations

import random
from collections.abc import Sequence

KIND = "cpu"
DESCRIPTION = "allocation/dict/str heavy: normalise and count 6,000 generated words a task"
ORIGIN = "written for the lab (word counting, the course's map-reduce example)"
SIZES = {"quick": 4, "default": 8, "rigorous": 32}
WORDS_PER_TASK = 6_000
_SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "zu", "ve", "ha", "jo")


def make_tasks(size: int) -> list[tuple[int, int]]:
    return [(seed, WORDS_PER_TASK) for seed in range(size)]


def run(task: tuple[int, int]) -> tuple[int, int, tuple[tuple[str, int], ...]]:
    seed, count = task
    rng = random.Random(seed)
    words = []
    for _ in range(count):
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 3)))
        words.append(word.capitalize() + rng.choice(("", "", ",", ".")))
    text = " ".join(words)
    counts: dict[str, int] = {}
    for raw in text.split():
        word = raw.strip(",.").lower()
        counts[word] = counts.get(word, 0) + 1
    top = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:5])
    return len(counts), sum(counts.values()), top


def check(tasks: Sequence[tuple[int, int]], results: Sequence[tuple]) -> str | None:
    for (seed, count), (distinct, total, top) in zip(tasks, results, strict=True):
        if total != count or not 0 < distinct <= count or len(top) != 5:
            return f"seed {seed}: counted {total} words ({distinct} distinct), expected {count}"
    return None
