"""celery: a real Celery app (labs.models.celery_app) on a real Redis broker and result backend.

By default the lab starts ``redis-server`` on 127.0.0.1, on a free port, in a temporary directory,
with persistence off, then N ``celery worker`` processes (prefork pool, concurrency 1 each). It waits
until every worker answers a ping, and stops them all afterwards. With ``--celery-broker redis://...``
(or LABS_CELERY_BROKER) it uses that broker and the workers already consuming from it: it starts
nothing and counts the workers that answer.

The pipeline is Celery's own: every task is one message on the broker's queue (the inbound queue),
the N workers take the next one when free (prefetch 1), and results come back through the result
backend (the outbound queue) in any order. Broadcast sends the whole input in each worker's message:
Celery has no way to place data on workers ahead of the calls.

Every process the lab starts runs in its own process group and dies with the lab (PR_SET_PDEATHSIG):
shutdown signals each group, so a celery worker's pool child goes with it.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, Future, wait
from pathlib import Path
from typing import Any

from labs.core.errors import RunError, UsageError
from labs.models.base import Channel, Model
from labs.models.engines import missing_engine, warm_up, worker_side

BROKER_ENV = "LABS_CELERY_BROKER"  # the same name labs.models.celery_app reads in the workers
START_SECONDS = 60.0  # redis and the workers must be up by then (a cold import of celery is slow)
CONNECT_SECONDS = 5.0  # an unreachable broker is an error after this long, never a hang
CLOSE_SECONDS = 10.0
POLL_SECONDS = 0.0005


def check_broker(url: str) -> str:
    """A Redis URL (redis://HOST:PORT[/DB]), or a UsageError saying what is valid."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("redis", "rediss") or not rest.split("/")[0]:
        raise UsageError(f"celery broker {url!r} is not a Redis URL like redis://HOST:PORT/0")
    return url


def _spawn(command: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    """*command* in its own process group, dying with the lab (labs.core.proctree execs it)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "labs.core.proctree", *command],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            process_group=0,
            env=env,
        )


def _stop(processes: list[subprocess.Popen], abandon: bool) -> None:
    """Signal every group, SIGTERM (a warm shutdown) or SIGKILL with *abandon*; wait for all together
    up to CLOSE_SECONDS, then SIGKILL what is left (a pool child whose parent left without it)."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL if abandon else signal.SIGTERM)
    deadline = time.monotonic() + CLOSE_SECONDS
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _last_line(log: Path) -> str:
    try:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1].strip() if lines else "no output"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis_answers(url: str, timeout: float) -> bool:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        with contextlib.closing(client):
            return bool(client.ping())
    except (redis.RedisError, OSError):
        return False


def _answering(app: Any, timeout: float) -> int:
    """How many workers answer a ping; a broker that does not answer is a RunError."""
    from kombu.exceptions import OperationalError
    from redis import RedisError

    try:
        return len(app.control.ping(timeout=timeout))
    except (OSError, RedisError, OperationalError) as exc:
        raise RunError(f"the Celery broker went away: {type(exc).__name__}: {exc}") from None


class ResultPoller(threading.Thread):
    """Settles the futures of submitted tasks from the result backend: a GET per pending task, then the
    result is deleted (a 64 MiB echo must not stay in Redis). It sleeps while nothing is pending, so
    it takes no CPU from a serial baseline timed in the same process; it fails every pending call, and
    every later one, when the broker goes away or one of the lab's own workers dies."""

    def __init__(self, app: Any, workers_alive: Any = None) -> None:
        super().__init__(name="labs-celery-results", daemon=True)
        self.app = app
        self.workers_alive = workers_alive  # None on a user's cluster: its workers are not the lab's
        self.pending: dict[str, Future] = {}
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.stopped = threading.Event()
        self.error: RunError | None = None

    def watch(self, task_id: str) -> Future:
        future: Future = Future()
        future.set_running_or_notify_cancel()
        with self.lock:
            if self.error is not None:
                future.set_exception(self.error)
                return future
            self.pending[task_id] = future
        self.wake.set()
        return future

    def stop(self) -> None:
        self.stopped.set()
        self.wake.set()
        self.join(CLOSE_SECONDS)

    def run(self) -> None:
        backend = self.app.backend
        while not self.stopped.is_set():
            with self.lock:
                watched = list(self.pending.items())
                if not watched:
                    self.wake.clear()
            if not watched:
                self.wake.wait()
                continue
            if self.workers_alive is not None and not self.workers_alive():
                self._fail_all(RunError("a worker died: a celery worker process exited"))
                return
            for task_id, future in watched:
                try:
                    meta = backend.get_task_meta(task_id, cache=False)
                except Exception as exc:  # a broker that went away: every pending call fails
                    self._fail_all(RunError(f"the Celery broker went away: {type(exc).__name__}"))
                    return
                self._settle(backend, task_id, future, meta)
            time.sleep(POLL_SECONDS)

    def _settle(self, backend: Any, task_id: str, future: Future, meta: dict) -> None:
        from celery.exceptions import WorkerLostError
        from celery.states import READY_STATES, SUCCESS

        if meta["status"] not in READY_STATES:
            return
        with self.lock:
            self.pending.pop(task_id, None)
        with contextlib.suppress(Exception):
            backend.forget(task_id)
        result = meta["result"]
        if meta["status"] == SUCCESS:
            future.set_result(result)
        elif isinstance(result, WorkerLostError):
            future.set_exception(RunError(f"a worker died: WorkerLostError: {result}"))
        elif isinstance(result, BaseException):
            future.set_exception(worker_side(result))
        else:
            future.set_exception(RunError(f"celery task ended {meta['status']}: {result!r}"))

    def _fail_all(self, error: RunError) -> None:
        with self.lock:
            self.error = error
            pending, self.pending = self.pending, {}
        for future in pending.values():
            future.set_exception(error)


class CeleryWorkers(Model):
    name = "celery"
    description = "Celery on Redis: N worker processes (prefork, concurrency 1), or --celery-broker"
    in_process = False
    queue_type = "the broker's task queue (Redis)"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        for module in ("celery", "redis"):
            if importlib.util.find_spec(module) is None:
                return missing_engine(module, "celery[redis]")
        if not os.environ.get(BROKER_ENV) and shutil.which("redis-server") is None:
            return "no redis-server on PATH (Debian: apt-get install redis-server) and no --celery-broker"
        return None

    def facts(self) -> dict[str, Any]:
        import celery

        return {
            "engine": "celery",
            "celery_version": celery.__version__,
            "celery_broker": "external" if getattr(self, "_external", False) else "local redis-server",
        }

    def start(self) -> None:
        from labs.models.celery_app import make_app

        url = os.environ.get(BROKER_ENV)
        self._external = bool(url)
        self._processes: list[subprocess.Popen] = []  # the celery workers the lab started
        self._redis: subprocess.Popen | None = None
        self._workdir = Path(tempfile.mkdtemp(prefix="labs-celery-"))
        if url:
            check_broker(url)
            if not _redis_answers(url, CONNECT_SECONDS):
                # The URL is not repeated: it may hold a password, and a failed bench's reason is stored.
                raise RunError(f"the celery broker given did not answer within {CONNECT_SECONDS:.0f} s")
        else:
            url = self._start_redis()
        self._app = make_app(url)
        if self._external:
            self._poller = ResultPoller(self._app)
            self._poller.start()
            self._count_workers()
        else:
            self._start_workers(url)
            self._poller = ResultPoller(self._app, self._workers_alive)
            self._poller.start()
        warm_up(self, START_SECONDS)

    def _workers_alive(self) -> bool:
        return all(process.poll() is None for process in self._processes)

    def _start_redis(self) -> str:
        port, log = _free_port(), self._workdir / "redis.log"
        command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self._workdir), "--daemonize", "no"]
        self._redis = _spawn(command, log)
        url = f"redis://127.0.0.1:{port}/0"
        deadline = time.monotonic() + START_SECONDS
        while not _redis_answers(url, 0.5):
            if self._redis.poll() is not None or time.monotonic() > deadline:
                raise RunError(f"redis-server did not start: {_last_line(log)}")
            time.sleep(0.02)
        return url

    def _start_workers(self, url: str) -> None:
        env = {**os.environ, BROKER_ENV: url}
        if os.geteuid() == 0:
            # Celery refuses to run as root with pickle accepted unless told to: the lab's own redis
            # listens on 127.0.0.1 only, on a port chosen for this run, and lives as long as the run.
            env["C_FORCE_ROOT"] = "1"
        workers = []
        for index in range(self.workers):
            command = [sys.executable, "-m", "celery", "-A", "labs.models.celery_app", "worker"]
            command += ["--pool", "prefork", "--concurrency", "1", "--prefetch-multiplier", "1"]
            command += [
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ]
            command += ["--hostname", f"labs{index}-{os.getpid()}@localhost"]
            log = self._workdir / f"worker{index}.log"
            workers.append((_spawn(command, log, env), log))
        self._processes += [process for process, _ in workers]
        deadline = time.monotonic() + START_SECONDS
        while _answering(self._app, 0.2) < self.workers:
            for process, log in workers:
                if process.poll() is not None:
                    raise RunError(f"a celery worker did not start: {_last_line(log)}")
            if time.monotonic() > deadline:
                raise RunError(f"the celery workers did not answer within {START_SECONDS:.0f} s")

    def _count_workers(self) -> None:
        found = _answering(self._app, 1.0)
        if found < self.workers:
            raise RunError(
                f"the celery broker given has {found} worker(s) answering; this run asks for {self.workers}"
            )
        print(f"celery: using the given broker: {found} worker(s) answering, {self.workers} asked for")

    def submit(self, func: str, *args: Any) -> Future:
        from kombu.exceptions import OperationalError
        from redis import RedisError

        try:
            result = self._app.send_task("labs.call", args=(func, *args))
        except (OSError, RedisError, OperationalError) as exc:
            raise RunError(f"the Celery broker went away: {type(exc).__name__}") from None
        return self._poller.watch(result.id)

    def stream(self, task_func: str, tasks: Any, deadline: float) -> list[Any]:
        from labs.models.base import outcome

        futures = [self.submit(task_func, task) for task in tasks]  # into the broker's queue, in order
        wait(futures, timeout=max(0.0, deadline - time.monotonic()), return_when=FIRST_EXCEPTION)
        for future in futures:  # a failure first, wherever it is in the stream
            if future.done() and future.exception() is not None:
                outcome(future, deadline)
        return [outcome(future, deadline) for future in futures]

    def channels(self) -> tuple[Channel, Channel]:
        raise RunError("celery's pipeline runs on the broker's own queue (stream), not on channels")

    def shutdown(self, *, abandon: bool = False) -> None:
        # Also after a start() that failed half-way: take what exists.
        poller, app = getattr(self, "_poller", None), getattr(self, "_app", None)
        if poller is not None:
            poller.stop()
            with poller.lock:
                unfinished = list(poller.pending)
            if unfinished and self._external and app is not None:
                # A user's workers stay; the calls of this run do not (SIGKILL ends a hung one).
                with contextlib.suppress(Exception):
                    app.control.revoke(unfinished, terminate=True, signal="SIGKILL")
        # The workers before their broker: a worker whose broker is gone would retry, not leave.
        _stop(getattr(self, "_processes", []), abandon)
        redis = getattr(self, "_redis", None)
        if redis is not None:
            _stop([redis], abandon)
        if app is not None:
            app.close()
        workdir = getattr(self, "_workdir", None)
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


MODELS = (CeleryWorkers,)
