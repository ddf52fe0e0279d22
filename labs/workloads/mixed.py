"""Each request followed by CPU work proportional to a knob: where the GIL starts to matter for I/O code.

Declared variants, one per knob value: mixed-cpu0 (pure I/O) ... mixed-cpu64. One unit is a pure-Python
loop of 2,000 iterations (about 0.1 ms on a 3.13 core).
"""

from __future__ import annotations

from labs.workloads import download
from labs.workloads.io.http_client import digest, get, get_async
from labs.workloads.io.local_server import settings
from labs.workloads.io.pages import page_bytes

KIND = "io"
DESCRIPTION = "GET a page, then CPU work of the variant's units (0, 4, 16, 64 x 2,000 loop iterations)"
ORIGIN = "written for the lab (the course's mixed I/O + CPU service)"
SIZES = download.SIZES
VARIANTS = {"mixed-cpu0": 0, "mixed-cpu4": 4, "mixed-cpu16": 16, "mixed-cpu64": 64}
UNIT = 2000
environment = download.environment


def make_tasks(size: int, url: str, units: int) -> list[tuple[str, int, int]]:
    return [(url, page, units) for page in range(size)]


def _work(body: bytes, units: int) -> int:
    total = 0
    for i in range(units * UNIT):
        total = (total + body[i % len(body)] * i) % 1_000_003
    return total


def run(task: tuple[str, int, int]) -> tuple[int, int, int, int, float]:
    url, page, units = task
    body, seconds = get(url, f"/page/{page}")
    return (page, *digest(body), _work(body, units), seconds)


async def run_async(task: tuple[str, int, int]) -> tuple[int, int, int, int, float]:
    url, page, units = task
    body, seconds = await get_async(url, f"/page/{page}")
    return (page, *digest(body), _work(body, units), seconds)  # CPU work on the loop, as such code does


def reference(task: tuple[str, int, int]) -> tuple[int, int, int, int]:
    _, page, units = task
    body = page_bytes(page, settings()[1])
    return (page, *digest(body), _work(body, units))


def verified(result: tuple) -> tuple:
    return result[:4]


def latency(result: tuple) -> float:
    return result[4]
