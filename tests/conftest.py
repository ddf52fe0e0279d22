from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from labtest import run_cli

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli():
    return run_cli


# Stdlib helpers that live as long as the interpreter that started them, by design.
_INTERPRETER_HELPERS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")


@pytest.fixture(scope="session", autouse=True)
def no_process_left_over():
    """After the whole session, no worker, server or bench process of the lab may still run."""
    yield
    from labs.core import proctree

    deadline = time.monotonic() + 10
    while True:
        leftover = []
        for pid in proctree.descendants(os.getpid()):
            try:
                command = (
                    Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z" and not any(helper in command for helper in _INTERPRETER_HELPERS):
                leftover.append(f"{pid}: {command[:120]}")
        if not leftover or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not leftover, f"processes left running after the tests: {leftover}"
