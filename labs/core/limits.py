"""The bounds every input is held to, and reading input the lab did not write.

Result files, journals and compat files travel between machines and are edited by hand: each is read
as untrusted input. A FIFO must not hang the reader, a link to /dev/zero must not fill memory, and a
number the JSON spelling allows (NaN, Infinity, 1e400) must not reach the arithmetic.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from pathlib import Path

from labs.core.errors import UsageError

MAX_WORKERS = 1024  # the most workers any model is asked for
# A CPU-bound sweep goes up to this many times the usable CPUs: one step past them shows oversubscription;
# further, the box, not the model, is measured.
OVERSUBSCRIBED = 2
MAX_RESULT_BYTES = 256 << 20  # far above any real run; a runaway or hostile file is refused unread
MAX_KEY_CHARS = 4096  # a bench key is a few hundred characters
DEFAULT_TIMEOUT = 300.0  # seconds for one run; generous, since a hang must end but slow is fine
# A day: longer than any run the lab makes, and far below threading.TIMEOUT_MAX (~292 years on Linux),
# past which every wait of a pool raises OverflowError instead of timing out.
MAX_TIMEOUT = 86_400.0
KiB, MiB = 1 << 10, 1 << 20
MIN_PAYLOAD, MAX_PAYLOAD = 1, 64 * MiB  # a transfer bench's payload
COPIES_IN_FLIGHT = 6  # payload, the echo, and a few copies inside the channel

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


def check_workers(workers: int) -> int:
    if not 1 <= workers <= MAX_WORKERS:
        raise UsageError(f"workers must be between 1 and {MAX_WORKERS}, got {workers}")
    return workers


def check_timeout(seconds: float) -> float:
    """*seconds* as a float, or a UsageError unless it is in (0, MAX_TIMEOUT]."""
    if not 0 < seconds <= MAX_TIMEOUT:
        raise UsageError(f"timeout must be between 1 and {int(MAX_TIMEOUT)} seconds, got {seconds}")
    return float(seconds)


def available_memory() -> int:
    """Bytes this process can still allocate: the kernel's MemAvailable, lowered to what is left under
    a cgroup (v2) memory limit when one is set (a container's limit is what an allocation meets first)."""
    available = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            available = min(available, int(limit) - int(Path("/sys/fs/cgroup/memory.current").read_text()))
    return max(available, 0)


# Plain ASCII digits: int() also takes "1_0" and other scripts' digits ("٣"), which no user means as a count.
_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")


def parse_int(what: str, text: str) -> int:
    """*text* as an integer, or a UsageError naming *what* and the bad value."""
    if not _INTEGER.fullmatch(text.strip()):
        raise UsageError(f"{what} must be an integer, got {text[:40]!r} (digits 0-9 only)")
    return int(text)


def parse_positive_int(what: str, text: str, most: int = 10**18) -> int:
    """*text* as an integer from 1 to *most*, or a UsageError naming *what* and the bad value."""
    value = parse_int(what, text) if _INTEGER.fullmatch(text.strip()) else 0
    if not 1 <= value <= most:
        limit = f" of at most {most:,}" if most < 10**18 else ""
        raise UsageError(f"{what} must be a positive integer{limit}, got {text[:40]!r}")
    return value


def parse_size(text: str) -> int:
    """'1', '4K', '16M' (binary units) -> bytes, within 1 B .. 64 MiB."""
    units = {"": 1, "K": KiB, "M": MiB}
    number, unit = text.strip().upper().rstrip("IB") or "0", ""
    if number and number[-1] in units:
        number, unit = number[:-1], number[-1]
    try:
        size = int(number) * units[unit]
    except (ValueError, KeyError):
        raise UsageError(f"payload size {text!r} is not a size like 1, 4K or 16M") from None
    if not MIN_PAYLOAD <= size <= MAX_PAYLOAD:
        raise UsageError(f"payload size {text!r} is out of range: 1 B .. 64 MiB")
    return size


def check_memory(size: int) -> None:
    """Refuse, before allocating, a payload whose copies in flight would not fit in memory."""
    needed, available = size * COPIES_IN_FLIGHT, available_memory()
    if needed > available:
        raise UsageError(
            f"payload of {size} bytes needs about {needed >> 20} MiB in flight but only "
            f"{available >> 20} MiB are available"
        )


def check_cpu_workers(workers: int, usable: int) -> None:
    """UsageError when a CPU-bound bench asks for more workers than the sweep may (OVERSUBSCRIBED x the
    CPUs this process may run on): a curve on pinned CPUs would measure the pinning."""
    if workers > OVERSUBSCRIBED * usable:
        raise UsageError(
            f"this process may run on {usable} CPU(s) but the bench asks for {workers} workers (at most "
            f"{OVERSUBSCRIBED} x the CPUs): refusing to measure a scaling curve on pinned CPUs"
        )
