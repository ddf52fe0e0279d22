"""Waiting on subprocesses: start a short shell command and wait for its output."""

from __future__ import annotations

import subprocess

KIND = "io"
DESCRIPTION = "run `sleep 0.02; echo N` in /bin/sh and wait for it"
ORIGIN = "written for the lab"
SIZES = {"quick": 8, "default": 32, "rigorous": 64}


def make_tasks(size: int) -> list[int]:
    return list(range(size))


def run(task: int) -> int:
    done = subprocess.run(
        ["/bin/sh", "-c", f"sleep 0.02; echo {task}"], capture_output=True, check=True, timeout=60
    )
    return int(done.stdout)


def reference(task: int) -> int:
    return task
