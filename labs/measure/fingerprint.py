"""The machine's speed fingerprint: four tiny fixed kernels, timed in a fresh process.

Integer arithmetic, float arithmetic, memory bandwidth (copying 64 MiB) and a system call loop, each
a fixed amount of work sized to take about 0.2 s on the lab's reference machine, timed five times,
the fastest kept (the least disturbed). The driver takes one at the start and one at the end of every
run with the same interpreter build each time (``LABS_FINGERPRINT_PYTHON``, else the HTTP server's
host ``LABS_SERVER_PYTHON``, else the interpreter under test), so that:
- two runs whose fingerprints differ by more than ``THRESHOLD`` on any kernel ran on different hosts,
  whatever their names say;
- a run whose start and end differ that much was disturbed while it ran.

``python -m labs.measure.fingerprint`` prints one fingerprint as JSON; ``labs.core.machine`` compares
them (the analysis side reads fingerprints too, and imports nothing from the measuring side).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from typing import Any

REPEATS = 5  # the fastest of five: a co-tenant's burst rarely covers all of them
MEMORY_BYTES = 64 << 20


def _integer(n: int) -> int:
    x = 0
    for i in range(n):
        x = (x * 31 + i) & 0xFFFFFFFF
    return x


def _float(n: int) -> float:
    x = 0.0
    for i in range(n):
        x = x * 0.999999 + i * 1.5e-3
    return x


def _memory(n: int) -> int:
    source, target = bytearray(MEMORY_BYTES), bytearray(MEMORY_BYTES)
    for _ in range(n):
        target[:] = source  # memcpy: bandwidth, not the interpreter
    return len(target)


def _syscall(n: int) -> int:
    total = 0
    for _ in range(n):
        total += os.getppid()  # a real system call every time (glibc caches getpid, not getppid)
    return total


# kernel -> (function, fixed amount of work): never changed, or old fingerprints stop comparing
KERNELS: dict[str, tuple[Callable[[int], object], int]] = {
    "integer": (_integer, 2_500_000),
    "float": (_float, 4_500_000),
    "memory": (_memory, 18),
    "syscall": (_syscall, 900_000),
}


def measure() -> dict[str, Any]:
    """This process's fingerprint: seconds per kernel, and the interpreter that took it."""
    seconds = {}
    for name, (kernel, work) in KERNELS.items():
        best = float("inf")
        for _ in range(REPEATS):
            start = time.perf_counter()
            kernel(work)
            best = min(best, time.perf_counter() - start)
        seconds[name] = round(best, 6)
    build = "free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "default"
    return {"python": f"{platform.python_version()} {build} {platform.python_compiler()}", "seconds": seconds}


def take(python: str | None = None) -> dict[str, Any] | None:
    """A fingerprint from a fresh process of the fingerprint interpreter; None if it cannot run."""
    python = python or os.environ.get("LABS_FINGERPRINT_PYTHON") or os.environ.get("LABS_SERVER_PYTHON")
    try:
        done = subprocess.run(
            [python or sys.executable, "-m", "labs.measure.fingerprint"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return json.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


if __name__ == "__main__":
    print(json.dumps(measure()))
