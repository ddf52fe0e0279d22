"""Helpers the tests share: run the lab's CLI as a user would, and find what it left running.

A named module rather than conftest.py, so that a test package with a conftest of its own does not
hide them (``pythonpath = ["tests"]`` in pyproject.toml puts this folder on sys.path).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    leftover: list[str]  # processes of the command's session still alive after it exited


def session_processes(sid: int) -> list[str]:
    """Processes whose session id is *sid* (the CLI runs in its own session)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state ppid pgrp session ...
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(f"{entry.name}: {stat[:80]}")
    return found


def run_cli(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> CliResult:
    """`python -m labs ARGS` in its own session; what it printed, and what it left running."""
    start = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "labs", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.communicate()
        pytest.fail(f"labs {' '.join(args)} hung for {timeout} s")
    seconds = time.monotonic() - start
    leftover = []
    for _ in range(50):  # killed workers take a moment to be reaped
        leftover = session_processes(process.pid)
        if not leftover:
            break
        time.sleep(0.1)
    return CliResult(process.returncode, stdout, stderr, seconds, leftover)


def lab_command(
    *args: str, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m labs ARGS` from the checkout, as a user runs it; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "labs", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """A tmpfs of *size* mounted on *folder* for the block (root only: the test is skipped elsewhere)."""
    folder.mkdir(exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def read_only(folder: Path) -> None:
    """Remount the tmpfs on *folder* read-only: a results directory that stops taking writes."""
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
