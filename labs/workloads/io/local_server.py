"""Start and stop the lab's HTTP server (``server``) in its own process, on a host interpreter.

The host is ``LABS_SERVER_PYTHON`` when set (``nox -s bench`` points it at a default-build
interpreter, so the server never runs on the interpreter under test), else this interpreter. Any
failure to start leaves nothing running and says why in one line.

The server's stderr goes to an unnamed temporary file, never to a pipe: a pipe nobody reads fills at
64 KiB and then blocks the server on its next log line, freezing every request.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

from labs.core.errors import RunError, UsageError
from labs.workloads.io.server import MAX_LATENCY_MS, MAX_PAYLOAD

LATENCY_ENV, PAYLOAD_ENV, TIMEOUT_ENV = "LABS_HTTP_LATENCY_MS", "LABS_HTTP_PAYLOAD", "LABS_HTTP_TIMEOUT"
DEFAULT_LATENCY_MS, DEFAULT_PAYLOAD, DEFAULT_TIMEOUT = 50, 16 << 10, 30.0
# Below 0.1 s a loaded machine times out requests that are fine; above an hour a hung server looks like a
# slow one for too long.
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 3600.0


def settings() -> tuple[int, int]:
    """(latency ms, payload bytes) for this run, from the environment (set by the CLI's options).
    The client timeout is checked here too, so a bad one is refused before anything runs."""
    latency = _int_env(LATENCY_ENV, DEFAULT_LATENCY_MS)
    payload = _int_env(PAYLOAD_ENV, DEFAULT_PAYLOAD)
    check_settings(latency, payload)
    client_timeout()
    return latency, payload


def check_settings(latency_ms: int, payload: int) -> None:
    if not 0 <= latency_ms <= MAX_LATENCY_MS:
        raise UsageError(f"latency {latency_ms} ms is out of range: 0 .. {MAX_LATENCY_MS} ms")
    if not 1 <= payload <= MAX_PAYLOAD:
        raise UsageError(f"payload {payload} bytes is out of range: 1 .. {MAX_PAYLOAD} bytes")


def client_timeout() -> float:
    """Seconds a client waits for an answer: LABS_HTTP_TIMEOUT, a number in MIN_TIMEOUT .. MAX_TIMEOUT."""
    text = os.environ.get(TIMEOUT_ENV)
    if text is None:
        return DEFAULT_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not MIN_TIMEOUT <= seconds <= MAX_TIMEOUT:  # NaN fails this too
        raise UsageError(
            f"{TIMEOUT_ENV} must be a number of seconds in {MIN_TIMEOUT:g} .. {MAX_TIMEOUT:g}, got {text!r}"
        )
    return seconds


def _int_env(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{name} must be an integer, got {text!r}") from None


class LocalServer:
    def __init__(
        self,
        latency_ms: int | None = None,
        payload: int | None = None,
        port: int = 0,
        truncate: bool = False,
        python: str | None = None,
        start_timeout: float = 30.0,
        header_timeout: float | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        default_latency, default_payload = settings()
        self.latency_ms = default_latency if latency_ms is None else latency_ms
        self.payload = default_payload if payload is None else payload
        check_settings(self.latency_ms, self.payload)
        self.port = port
        self.truncate = truncate
        self.python = python or os.environ.get("LABS_SERVER_PYTHON") or sys.executable
        self.start_timeout = start_timeout
        self.timeouts = {"--header-timeout": header_timeout, "--idle-timeout": idle_timeout}
        self.process: subprocess.Popen | None = None
        self.log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        options = [*(["--truncate"] if self.truncate else [])]
        for option, seconds in self.timeouts.items():
            if seconds is not None:
                options += [option, str(seconds)]
        return [
            self.python,
            "-m",
            "labs.workloads.io.server",
            "--port",
            str(self.port),
            "--latency-ms",
            str(self.latency_ms),
            "--payload",
            str(self.payload),
            "--parent",
            str(os.getpid()),
            *options,
        ]

    def start(self) -> LocalServer:
        lab_root = str(Path(__file__).resolve().parents[3])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [lab_root, os.environ.get("PYTHONPATH")])),
        }
        try:
            self.log = tempfile.TemporaryFile(prefix="labs-server-")
            self.process = subprocess.Popen(
                self.command(),
                stdout=subprocess.PIPE,
                stderr=self.log,
                text=True,
                env=env,
                # A group of its own, ended whole: LABS_SERVER_PYTHON may be a wrapper that does not exec,
                # and its children must not outlive the server. It still dies with the lab (--parent).
                process_group=0,
            )
        except OSError as exc:
            self.stop()
            raise RunError(f"the HTTP server could not start with {self.python}: {exc.strerror}") from None
        line = self._first_line()
        if not line.startswith("READY "):
            self._end()
            reason = self.last_words().removeprefix("ERROR: ") or line or "no output"
            self.stop()
            raise RunError(f"the HTTP server failed to start: {_quoted(reason)}")
        self.port = int(line.split()[1])
        return self

    def last_words(self) -> str:
        """The last line the server wrote to stderr ('' if none): why it failed, when it says."""
        if self.log is None or self.log.closed:
            return ""
        # pread leaves the file offset alone: the server shares it and writes at it.
        size = os.fstat(self.log.fileno()).st_size
        tail = os.pread(self.log.fileno(), 4096, max(0, size - 4096))  # enough for the last line
        lines = tail.decode("utf-8", "replace").strip().splitlines()
        return _quoted(lines[-1].strip()) if lines else ""

    def _first_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                return self.process.stdout.readline(MAX_QUOTED).strip()  # READY <port> is short
            if self.process.poll() is not None:
                return ""
        return ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def gone(self, wait: float = 0.0) -> str | None:
        """None while the server runs (after up to *wait* seconds: a client can see the connection
        reset a moment before the dying server can be reaped); once it has exited, a phrase saying how."""
        if self.process is None:
            return None
        try:
            self.process.wait(wait)
        except subprocess.TimeoutExpired:
            return None
        code = self.process.returncode
        how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
        words = self.last_words()
        return f"the HTTP server {how}" + (f" ({words})" if words else "")

    def served(self) -> int:
        """Pages served so far, asked from the server itself."""
        return int(self.stats()["served"])

    def stats(self) -> dict[str, int]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/stats")
            return json.loads(connection.getresponse().read())
        finally:
            connection.close()

    def _end(self) -> None:
        assert self.process is not None
        self._signal_group(signal.SIGTERM)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self._signal_group(signal.SIGKILL)  # whatever of the group is left: a wrapper's children too
        self.process.wait()

    def _signal_group(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def stop(self) -> None:
        if self.process is not None:
            self._end()
            if self.process.stdout:
                self.process.stdout.close()
        if self.log is not None:
            self.log.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


MAX_QUOTED = 300  # characters of a server's own words quoted in an error line


def _quoted(text: str) -> str:
    return text if len(text) <= MAX_QUOTED else text[:MAX_QUOTED] + f"… ({len(text):,} characters)"
