"""Start and stop the lab's HTTP server (``server``) in its own process, on a host interpreter.

The host is ``LABS_SERVER_PYTHON`` when set (``nox -s bench`` points it at a default-build
interpreter, so the server never runs on the interpreter under test), else this interpreter. Any
failure to start leaves nothing running and says why in one line.
"""

from __future__ import annotations

import http.client
import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

from labs.core.errors import RunError, UsageError
from labs.workloads.io.server import MAX_LATENCY_MS, MAX_PAYLOAD

LATENCY_ENV, PAYLOAD_ENV, TIMEOUT_ENV = "LABS_HTTP_LATENCY_MS", "LABS_HTTP_PAYLOAD", "LABS_HTTP_TIMEOUT"
DEFAULT_LATENCY_MS, DEFAULT_PAYLOAD, DEFAULT_TIMEOUT = 50, 16 << 10, 30.0


def settings() -> tuple[int, int]:
    """(latency ms, payload bytes) for this run, from the environment (set by the CLI's options)."""
    latency = _int_env(LATENCY_ENV, DEFAULT_LATENCY_MS)
    payload = _int_env(PAYLOAD_ENV, DEFAULT_PAYLOAD)
    check_settings(latency, payload)
    return latency, payload


def check_settings(latency_ms: int, payload: int) -> None:
    if not 0 <= latency_ms <= MAX_LATENCY_MS:
        raise UsageError(f"latency {latency_ms} ms is out of range: 0 .. {MAX_LATENCY_MS} ms")
    if not 1 <= payload <= MAX_PAYLOAD:
        raise UsageError(f"payload {payload} bytes is out of range: 1 .. {MAX_PAYLOAD} bytes")


def client_timeout() -> float:
    return float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))


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
    ) -> None:
        default_latency, default_payload = settings()
        self.latency_ms = default_latency if latency_ms is None else latency_ms
        self.payload = default_payload if payload is None else payload
        check_settings(self.latency_ms, self.payload)
        self.port = port
        self.truncate = truncate
        self.python = python or os.environ.get("LABS_SERVER_PYTHON") or sys.executable
        self.start_timeout = start_timeout
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LocalServer:
        command = [
            self.python,
            "-m",
            "labs.workloads.io.server",
            "--port",
            str(self.port),
            "--latency-ms",
            str(self.latency_ms),
            "--payload",
            str(self.payload),
            *(["--truncate"] if self.truncate else []),
        ]
        lab_root = str(Path(__file__).resolve().parent.parent)
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [lab_root, os.environ.get("PYTHONPATH")])),
        }
        try:
            self.process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,  # same process group as the lab: killing a bench's group ends its server too
            )
        except OSError as exc:
            raise RunError(f"the HTTP server could not start with {self.python}: {exc.strerror}") from None
        line = self._first_line()
        if not line.startswith("READY "):
            self._end()
            error = (self.process.stderr.read() if self.process.stderr else "").strip().splitlines()
            self.stop()
            reason = error[-1].removeprefix("ERROR: ") if error else line or "no output"
            raise RunError(f"the HTTP server failed to start: {reason}")
        self.port = int(line.split()[1])
        return self

    def _first_line(self) -> str:
        assert self.process is not None and self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if selector.select(timeout=0.1):
                return self.process.stdout.readline().strip()
            if self.process.poll() is not None:
                return ""
        return ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def served(self) -> int:
        """Pages served so far, asked from the server itself."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", "/stats")
            return int(json.loads(connection.getresponse().read())["served"])
        finally:
            connection.close()

    def _end(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def stop(self) -> None:
        if self.process is None:
            return
        self._end()
        for stream in (self.process.stdout, self.process.stderr):
            if stream:
                stream.close()

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
