from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import tiers
from labtest import run_cli

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    """Children get default dispositions of SIGINT and SIGHUP, however the suite was started.

    A background job of a non-interactive shell starts with SIGINT ignored, and nohup ignores SIGHUP;
    an ignored disposition survives exec, and the lab keeps it on purpose (a user's nohup must hold).
    The signal tests send exactly those signals to the lab, so the suite's own children must not
    inherit that choice. A handler that does nothing keeps ignoring the signal here, as whoever started
    the suite asked, and unlike SIG_IGN it is reset to the default in every child at exec.
    """
    for signum in (signal.SIGINT, signal.SIGHUP):
        if signal.getsignal(signum) == signal.SIG_IGN:
            signal.signal(signum, _still_ignored)


def _still_ignored(signum: int, frame: object) -> None:
    pass


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark the integration tier by what each test uses (tests/tiers.py says how)."""
    for item in items:
        why = tiers.why_integration(item)
        if why:
            item.add_marker(pytest.mark.integration)
            item.user_properties.append(("integration", why))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    return (yield from _guarded(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item):
    return (yield from _guarded(item))


def _guarded(item: pytest.Item):
    if item.get_closest_marker("integration"):
        return (yield)
    with tiers.ProcessGuard():
        return (yield)
