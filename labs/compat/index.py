"""What the index pip uses says about a package, asked with pip itself: does the name exist (before
anything is created), and does its newest release have a free-threaded wheel for this platform.

``pip index versions`` answers "No matching distribution" both for a name that does not exist and for
an index it could not reach, and also for a project whose files all target other interpreters; its
verbose log tells the three apart, so the check reads that log rather than trusting the exit code.

The free-threaded wheel is found by pip's own resolver: a dry-run install for another interpreter
(``--python-version 3.13 --abi cp313t``, this machine's platforms) reports the file it would fetch,
whose name carries its tags. So pip's configured indexes, mirrors, find-links and credentials all
apply, and only the small metadata file is fetched where the index serves it.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

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


# The free-threaded ABIs asked of the index: the builds with wheels on PyPI (cp315t joins when released)
FREE_THREADED_ABIS = ("cp313t", "cp314t")
PIP_TERSE = ["--disable-pip-version-check", "--no-input", "--retries", "1", "--timeout", "15"]


def wheel_abis(filename: str) -> tuple[str, set[str]] | None:
    """(version, ABI tags) of a wheel file's name (``name-ver[-build]-py-abi-plat.whl``), else None."""
    parts = filename[: -len(".whl")].split("-") if filename.endswith(".whl") else []
    if len(parts) not in (5, 6):
        return None
    return parts[1], set(parts[-2].split("."))


def free_threaded(abis: set[str]) -> list[str]:
    """The free-threaded CPython ABIs among *abis* (cp313t, cp314t, ...), sorted."""
    return sorted(abi for abi in abis if re.fullmatch(r"cp3\d+t", abi))


def newest_version(python: str, package: str, timeout: float = 60) -> str | None:
    """The newest release pip sees (pre-releases left out), or None if pip could not say."""
    command = [python, "-m", "pip", "index", "versions", package, *PIP_TERSE]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    found = re.match(r"\S+ \(([^)]+)\)", done.stdout.strip()) if done.returncode == 0 else None
    return found.group(1) if found else None


def wheel_for_abi(python: str, package: str, abi: str, timeout: float = 60) -> tuple[str | None, str]:
    """(the file pip would install for the ABI on this platform: its newest fitting release, or None;
    why none when pip could not answer, else '')."""
    version = f"{abi[2]}.{abi[3:-1]}"  # cp313t -> 3.13
    command = [python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--no-deps"]
    command += ["--only-binary", ":all:", "--python-version", version, "--implementation", "cp"]
    command += ["--abi", abi, "--report", "-", "-q", *PIP_TERSE, package]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"pip took over {timeout:.0f} s"
    return file_from_report(done.returncode, done.stdout, done.stderr)


def file_from_report(returncode: int, stdout: str, stderr: str) -> tuple[str | None, str]:
    """Read a dry run's outcome: the wheel's file name from its JSON report, none, or why unknown."""
    if returncode == 0:
        try:
            items = json.loads(stdout).get("install") or []
            url = str(items[0]["download_info"]["url"])
        except (ValueError, LookupError, TypeError, AttributeError):
            return None, "pip's report was unreadable"
        return url.rsplit("/", 1)[-1], ""
    trouble = [line.strip() for line in stderr.splitlines() if any(s in line for s in NETWORK_TROUBLE)]
    if trouble:
        return None, f"index not reachable ({trouble[0][:120]})"
    if "No matching distribution" in stderr:
        return None, ""
    return None, (stderr.strip().splitlines() or ["pip failed"])[-1][:160]


def summarize(newest: str | None, files: dict[str, str | None], trouble: str = "") -> dict[str, Any]:
    """The stored answer for one package: its newest release, the file per free-threaded ABI, and a
    status (ok: the newest release has one; fail: it has none; n/a: pure Python; skip: unknown)."""
    found = {"newest": newest, "wheels": files}
    if trouble and not any(files.values()):
        return {**found, "status": "skip", "reason": trouble}
    parsed = {abi: wheel_abis(file) for abi, file in files.items() if file}
    compiled = {abi: p[0] for abi, p in parsed.items() if p and free_threaded(p[1])}
    if parsed and not compiled:
        return {**found, "status": "n/a", "reason": "pure Python: any build runs it"}
    current = [abi for abi, version in compiled.items() if newest is None or version == newest]
    older = [f"{abi} up to {version}" for abi, version in compiled.items() if abi not in current]
    if current:
        return {**found, "status": "ok", "abis": current, "older": older}
    if older:
        return {**found, "status": "fail", "reason": f"none in {newest} ({', '.join(older)})"}
    return {**found, "status": "fail", "reason": "none for this platform"}


def free_threaded_wheels(python: str, package: str) -> dict[str, Any]:
    """Whether the newest release of *package* has a free-threaded wheel here, by pip's resolver."""
    files, troubles = {}, []
    for abi in FREE_THREADED_ABIS:
        files[abi], why = wheel_for_abi(python, package, abi)
        troubles += [why] if why else []
    return summarize(newest_version(python, package), files, troubles[0] if troubles else "")


def free_threaded_all(
    python: str, packages: list[str], done: Callable[[str, dict[str, Any]], None] | None = None
) -> dict[str, dict[str, Any]]:
    """free_threaded_wheels of every package, a few at a time; *done* is told of each as it ends."""
    answers: dict[str, dict[str, Any]] = {}
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {pool.submit(free_threaded_wheels, python, name): name for name in packages}
        for future in as_completed(futures):
            answers[futures[future]] = future.result()
            if done:
                done(futures[future], answers[futures[future]])
    return {name: answers[name] for name in packages}
