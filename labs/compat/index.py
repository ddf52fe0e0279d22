"""Does a package name exist on the index pip uses? Asked with pip itself, before anything is created.

``pip index versions`` answers "No matching distribution" both for a name that does not exist and for
an index it could not reach, and also for a project whose files all target other interpreters; its
verbose log tells the three apart, so the check reads that log rather than trusting the exit code.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

NETWORK_TROUBLE = ("Could not fetch URL", "connection error", "Failed to establish", "Read timed out")
EXISTS_BUT_NOT_HERE = (
    "Skipping link: none of the wheel's tags",
    "requires a different Python",
    "Requires-Python",
)


@dataclass(frozen=True)
class Lookup:
    package: str
    found: bool | None  # None: the index could not be reached, so nobody knows
    detail: str


def look_up(python: str, package: str, timeout: float = 60) -> Lookup:
    """Ask pip (run by *python*) whether *package* is on its index."""
    command = [python, "-m", "pip", "index", "versions", package, "--pre", "--retries", "1"]
    command += ["--timeout", "15", "--disable-pip-version-check"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if done.returncode == 0:
            first = done.stdout.strip().splitlines()[0] if done.stdout.strip() else package
            return Lookup(package, True, first)
        # Only a failure needs the verbose log, which says why (it is slow to write for big projects)
        done = subprocess.run([*command, "-v"], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Lookup(package, None, f"pip index versions took over {timeout:.0f} s")
    log = done.stdout + done.stderr
    if "No matching distribution" in log and any(sign in log for sign in EXISTS_BUT_NOT_HERE):
        return Lookup(package, True, "on the index, but no file for this interpreter")
    trouble = [line.strip() for line in log.splitlines() if any(s in line for s in NETWORK_TROUBLE)]
    if trouble:
        return Lookup(package, None, trouble[0][:200])
    if "No matching distribution" in log or "Invalid requirement" in log:
        return Lookup(package, False, "no such project on the index")
    return Lookup(package, None, (log.strip().splitlines() or ["pip failed"])[-1][:200])


def look_up_all(python: str, packages: list[str]) -> list[Lookup]:
    """Every name checked, a few at a time (each lookup mostly waits on the network)."""
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda name: look_up(python, name), packages))
