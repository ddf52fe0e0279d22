"""Runtimes side by side: ``labs bench --interpreters PY1,PY2,...`` measures them all in the same minutes.

One bench driver runs on each interpreter (each with the lab installed), with its own plan, journal and
run file, exactly as ``labs bench`` alone would. This parent only decides whose turn it is: a driver
asks before each thing it times (its speed fingerprints, each measuring process) and waits, and the
parent grants one turn at a time, in an order drawn afresh for every round from a seeded generator.
So the measuring processes of 3.13 and 3.13t (or of one interpreter named twice: an A/A pair) alternate
within the same minutes, and host drift lands on both sides of every comparison between them. Each run
file names the shared session and the runtimes it alternated with (labs.analyse.hosts, compare).

The protocol is one line a message on two pipes per driver: the driver writes ``turn`` when it wants
the next turn (the previous one is over), and reads ``go``; end of file means it is finished.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO

from labs.core.errors import Interrupted, UsageError

ALTERNATING_ENV = "LABS_ALTERNATING"  # JSON the parent gives each driver: the runtimes and the seed
TURN, GO = b"turn\n", b"go\n"
PROBE = "from labs.core import runtime; print(runtime.tag(), runtime.facts()['free_threaded_build'])"


@dataclass
class Driver:
    """One interpreter's bench driver, as the parent sees it."""

    python: str
    tag: str
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None
    requests: IO[bytes] | None = None  # the driver's "turn" lines
    grants: IO[bytes] | None = None  # where the parent writes "go"

    def wants_turn(self) -> bool:
        """Wait until the driver asks for a turn (True) or finishes (False)."""
        assert self.requests is not None
        return self.requests.readline() == TURN

    def grant(self) -> bool:
        assert self.grants is not None
        try:
            self.grants.write(GO)
            self.grants.flush()
        except (BrokenPipeError, ValueError):
            return False
        return True


def interpreters(text: str, gil_controls: bool) -> list[Driver]:
    """The interpreters named (comma-separated; one may repeat), each probed for the lab; with
    *gil_controls*, each free-threaded one also with ``PYTHON_GIL=1`` (its GIL control)."""
    entries = [entry.strip() for entry in text.split(",") if entry.strip()]
    if len(entries) < 1:
        raise UsageError("--interpreters names no interpreter; valid: PY1,PY2,... (paths or commands)")
    found = []
    for python in entries:
        tag, free_threaded = _probe(python, {})
        found.append(Driver(python, tag))
        if gil_controls and free_threaded:
            found.append(Driver(python, _probe(python, {"PYTHON_GIL": "1"})[0], {"PYTHON_GIL": "1"}))
    return found


def _probe(python: str, env: dict[str, str]) -> tuple[str, bool]:
    try:
        done = subprocess.run(
            [python, "-c", PROBE], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"--interpreters: {python!r} does not run ({type(exc).__name__})") from None
    words = done.stdout.split()
    if done.returncode != 0 or len(words) != 2:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"--interpreters: {python!r} cannot import the lab ({last[:160]}); install it there")
    return words[0], words[1] == "True"


def run(drivers: Sequence[Driver], bench_args: Sequence[str], seed: int | None = None) -> int:
    """Start every driver, grant turns until all are done; the worst exit code (a stop signal's first)."""
    seed = int.from_bytes(os.urandom(4), "big") if seed is None else seed
    session = (
        os.environ.get("LABS_SESSION") or f"together-{time.strftime('%Y-%m-%dT%H-%M-%SZ', time.gmtime())}"
    )
    alternating = json.dumps({"runtimes": [d.tag for d in drivers], "seed": seed})
    print(
        f"bench: {len(drivers)} runtimes side by side ({', '.join(d.tag for d in drivers)}), "
        f"session {session}, turn order seed {seed}",
        flush=True,
    )
    with _started(drivers, bench_args, {"LABS_SESSION": session, ALTERNATING_ENV: alternating}):
        _take_turns(drivers, random.Random(seed))
        waited = [d.process.wait() for d in drivers if d.process is not None]
    codes = [128 - code if code < 0 else code for code in waited]  # killed by signal N: as a shell says it
    stops = [code for code in codes if code > 128]
    return stops[0] if stops else max(codes, default=0)


@contextlib.contextmanager
def _started(drivers: Sequence[Driver], bench_args: Sequence[str], env: dict[str, str]) -> Iterator[None]:
    try:
        for driver in drivers:
            grants_read, grants_write = os.pipe()
            requests_read, requests_write = os.pipe()
            turns = f"{grants_read},{requests_write}"
            driver.process = subprocess.Popen(
                [driver.python, "-m", "labs", "bench", *bench_args, "--turns", turns],
                pass_fds=(grants_read, requests_write),
                env={**os.environ, **env, **driver.env},
            )
            os.close(grants_read)
            os.close(requests_write)
            driver.requests = os.fdopen(requests_read, "rb", buffering=0)
            driver.grants = os.fdopen(grants_write, "wb", buffering=0)
        yield
    except KeyboardInterrupt as stop:
        # A terminal's Ctrl-C reached the drivers too; any other signal is passed on. Either way each
        # driver saves what it measured (one waiting for its turn sees the pipes close: a hang-up).
        signum = getattr(stop, "signum", signal.SIGINT)
        _close_pipes(drivers)
        for driver in drivers:
            if driver.process is not None and driver.process.poll() is None:
                if signum != signal.SIGINT:
                    driver.process.send_signal(signum)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    driver.process.wait(timeout=120)
        raise
    finally:
        _close_pipes(drivers)
        for driver in drivers:
            if driver.process is not None and driver.process.poll() is None:
                driver.process.send_signal(signal.SIGTERM)  # it saves what it has
                with contextlib.suppress(subprocess.TimeoutExpired):
                    driver.process.wait(timeout=120)


def _close_pipes(drivers: Sequence[Driver]) -> None:
    for driver in drivers:
        for pipe in (driver.requests, driver.grants):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def _take_turns(drivers: Sequence[Driver], order: random.Random) -> None:
    """Every driver first gets ready (plans, opens its journal) before anyone times anything; then one
    turn at a time, each round in a fresh seeded order, until every driver has finished."""
    live = [driver for driver in drivers if driver.wants_turn()]
    while live:
        for driver in order.sample(live, len(live)):
            if not driver.grant() or not driver.wants_turn():
                live.remove(driver)


class Gate:
    """A driver's side: ``with gate.turn():`` around everything it times (a no-op when alone)."""

    def __init__(self, fds: str | None) -> None:
        self.grants: IO[bytes] | None = None
        self.requests: IO[bytes] | None = None
        self.windows: list[list[float]] = []  # when each turn began and ended (Unix time), for the record
        if fds:
            try:
                grants, requests = (int(fd) for fd in fds.split(","))
                self.grants = os.fdopen(grants, "rb", buffering=0)
                self.requests = os.fdopen(requests, "wb", buffering=0)
            except (ValueError, OSError) as exc:
                raise UsageError(f"--turns {fds!r}: not two open file descriptors ({exc})") from None

    @property
    def alternating(self) -> dict[str, object] | None:
        """What the parent said of the runtimes this run alternates with, and when this run's turns were
        (its record's ``alternating``); None when it ran alone."""
        if self.grants is None and not self.windows:
            return None
        said: dict[str, object] = {"runtimes": None, "seed": None}
        with contextlib.suppress(ValueError, TypeError):
            data = json.loads(os.environ.get(ALTERNATING_ENV, ""))
            if isinstance(data, dict):
                said = {"runtimes": data.get("runtimes"), "seed": data.get("seed")}
        return {**said, "turns": self.windows}

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        if self.grants is None or self.requests is None:
            yield
            return
        try:
            self.requests.write(TURN)
            granted = self.grants.readline() == GO
        except OSError:
            granted = False
        if not granted:  # the parent is gone: end as if hung up (what was measured is saved)
            self.close()
            raise Interrupted(signal.SIGHUP)
        began = time.time()
        try:
            yield
        finally:
            self.windows.append([round(began, 3), round(time.time(), 3)])

    def close(self) -> None:
        for pipe in (self.grants, self.requests):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self.grants = self.requests = None


def main_args(argv: Sequence[str]) -> list[str]:
    """The bench arguments each driver gets: the parent's, without --interpreters and its value."""
    kept, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--interpreters", "--with-gil-controls"):
            skip = arg == "--interpreters"
            continue
        if arg.startswith("--interpreters="):
            continue
        kept.append(arg)
    return kept
