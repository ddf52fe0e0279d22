"""Download N pages from the lab's local HTTP server: the course's I/O-bound example without the internet."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from labs.core.errors import RunError
from labs.workloads.io.http_client import RequestFailed, digest, get, get_async
from labs.workloads.io.local_server import LocalServer, settings
from labs.workloads.io.pages import page_bytes

KIND = "io"
DESCRIPTION = "GET pages from a local HTTP server (latency and payload per run; default 50 ms, 16 KiB)"
ORIGIN = "written for the lab (the course's 'download many web pages', on loopback)"
SIZES = {"quick": 8, "default": 32, "rigorous": 64}


@contextlib.contextmanager
def environment() -> Iterator[str]:
    """A running server for the run; its URL goes into every task.

    A request that fails in the lab's own process (the serial phase runs there) comes back through
    here: it is reported as one line naming the request, and the server's fate when it died."""
    with LocalServer() as server:
        try:
            yield server.url
        except RequestFailed as exc:
            gone = server.gone(wait=1.0)
            raise RunError(f"{gone} during the run: {exc}" if gone else f"a request failed: {exc}") from None


def make_tasks(size: int, url: str) -> list[tuple[str, int]]:
    return [(url, page) for page in range(size)]


def run(task: tuple[str, int]) -> tuple[int, int, int, float]:
    url, page = task
    body, seconds = get(url, f"/page/{page}")
    return (page, *digest(body), seconds)


async def run_async(task: tuple[str, int]) -> tuple[int, int, int, float]:
    url, page = task
    body, seconds = await get_async(url, f"/page/{page}")
    return (page, *digest(body), seconds)


def reference(task: tuple[str, int]) -> tuple[int, int, int]:
    """What the page must be, computed without the network."""
    page = task[1]
    return (page, *digest(page_bytes(page, settings()[1])))


def verified(result: tuple[int, int, int, float]) -> tuple[int, int, int]:
    return result[:3]  # the latency differs from run to run


def latency(result: tuple[int, int, int, float]) -> float:
    return result[3]
