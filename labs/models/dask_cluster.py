"""dask: dask.distributed, on a real scheduler and real worker processes.

By default the lab starts a ``LocalCluster`` of N worker processes with one thread each, on 127.0.0.1,
and closes it afterwards. With ``--dask-scheduler tcp://HOST:PORT`` (or LABS_DASK_SCHEDULER) it uses an
existing cluster instead: it starts nothing, never shuts that cluster down, and reads its worker count.

Calls go by name, like every model: the workers import ``labs`` and the task's module, so on a real
cluster both must be installed on every worker host. The pipeline's queues are ``distributed.Queue``
objects (items pickled to bytes: a Queue carries msgpack data); broadcast scatters the input to every
worker once (``client.scatter(..., broadcast=True)``) instead of shipping it in each call.

A cluster the lab starts retries no task whose worker died (``allowed-failures`` 0): a killed worker is
an error at once, not three restarts later. On a user's cluster the cluster's own settings apply.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import queue
import shutil
import tempfile
import threading
from concurrent.futures import Future
from typing import Any

from labs.core.errors import RunError, UsageError
from labs.core.pool_worker import call
from labs.models.base import Channel, Model
from labs.models.engines import missing_engine, warm_up, worker_side

SCHEDULER_ENV = "LABS_DASK_SCHEDULER"
CONNECT_SECONDS = 10.0  # an unreachable scheduler is an error after this long, never a hang
CLOSE_SECONDS = 10.0


def check_address(address: str) -> str:
    """A scheduler address like tcp://HOST:PORT, or a UsageError saying what is valid."""
    scheme, sep, rest = address.partition("://")
    host, _, port = rest.rpartition(":")
    if not sep or scheme not in ("tcp", "tls") or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"dask scheduler address {address!r} is not tcp://HOST:PORT (or tls://HOST:PORT)")
    return address


class DaskChannel:
    """A pipeline queue: a named distributed.Queue that pickles as its name and reconnects in a worker."""

    def __init__(self, name: str, dask_queue: Any = None) -> None:
        self.name = name
        self._queue = dask_queue

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return DaskChannel, (self.name,)

    def _resolved(self) -> Any:
        if self._queue is None:
            from distributed import Queue

            self._queue = Queue(self.name)  # inside a task: the worker's own client
        return self._queue

    def put(self, item: Any) -> None:
        try:
            self._resolved().put(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception as exc:  # a lost scheduler: CommClosedError, a closed client, a cancellation
            raise RunError(f"the dask scheduler went away: {type(exc).__name__}") from None

    def get(self, timeout: float) -> Any:
        try:
            return pickle.loads(self._resolved().get(timeout=timeout))
        except TimeoutError:
            raise queue.Empty from None
        except Exception as exc:
            raise RunError(f"the dask scheduler went away: {type(exc).__name__}") from None


def _bridge(dask_future: Any) -> Future:
    """A concurrent.futures.Future that follows *dask_future* (which it keeps alive: dask forgets a task
    whose last future is dropped). A dead worker or a lost scheduler becomes a RunError that says so."""
    from distributed import KilledWorker

    future: Future = Future()
    future.set_running_or_notify_cancel()
    future.dask_future = dask_future  # type: ignore[attr-defined]

    def settle(done: Any) -> None:
        # Runs on dask's callback thread, which swallows what it raises: every way out settles *future*.
        try:
            if done.cancelled():
                error: BaseException = RunError("dask cancelled the task: its scheduler or worker went away")
            elif isinstance(exception := done.exception(), KilledWorker):
                error = RunError("a worker died: KilledWorker")  # its text names a worker's address
            elif exception is not None:
                error = worker_side(exception)
            else:
                future.set_result(done.result())
                return
        except Exception as exc:  # the result could not be fetched: a lost worker, a closing client
            error = RunError(f"dask lost the result: {type(exc).__name__}")
        future.set_exception(error)

    dask_future.add_done_callback(settle)
    return future


class Dask(Model):
    name = "dask"
    description = "dask.distributed: a LocalCluster of N processes x 1 thread, or --dask-scheduler"
    in_process = False
    queue_type = "distributed.Queue"

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if importlib.util.find_spec("distributed") is None:
            return missing_engine("dask.distributed", "dask[distributed]")
        return None

    def facts(self) -> dict[str, Any]:
        import distributed

        # The address of a user's scheduler is not recorded: results must not name hosts.
        facts = {"engine": "dask", "dask_version": distributed.__version__}
        facts["dask_cluster"] = "external" if getattr(self, "_external", False) else "LocalCluster"
        return facts

    def start(self) -> None:
        import dask
        from distributed import Client, LocalCluster

        # The lab reports a failure as its one ERROR line; distributed's own logging would add pages of
        # tracebacks to stderr (a lost scheduler, a killed worker), so only its critical messages remain.
        for name in ["distributed", *logging.root.manager.loggerDict]:
            if name.startswith("distributed"):  # dask's config gives some of them levels of their own
                logging.getLogger(name).setLevel(logging.CRITICAL)
        address = os.environ.get(SCHEDULER_ENV)
        self._external = bool(address)
        self._shared: Any = None
        if address:
            self._client = _connect(check_address(address), self.workers)
        else:
            # The workers' scratch space in a folder of the lab's own, removed at shutdown, rather than
            # dask's shared $TMPDIR/dask-scratch-space, which it leaves behind.
            self._scratch = tempfile.mkdtemp(prefix="labs-dask-")
            scratch = {"temporary-directory": self._scratch}  # the scheduler's and nannies' too
            with dask.config.set({"distributed.scheduler.allowed-failures": 0, **scratch}):
                self._cluster = LocalCluster(
                    local_directory=self._scratch,
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    # The scheduler serves HTTP whatever this says (None means port 8787, which two
                    # labs, or a user's own cluster, would fight over): a free port on loopback.
                    dashboard_address="127.0.0.1:0",
                    silence_logs=logging.CRITICAL,
                )
            self._client = Client(self._cluster, set_as_default=False)
        warm_up(self, CONNECT_SECONDS + 50)

    def share(self, value: Any) -> Any:
        # Kept until the next job's input replaces it: dask forgets data whose last future is dropped.
        # In a list: scatter would make a tuple into one key per item, and every call would wait on each.
        self._shared = self._client.scatter([value], broadcast=True, hash=False)[0]
        return self._shared

    def submit(self, func: str, *args: Any) -> Future:
        return _bridge(self._client.submit(call, func, *args, pure=False))

    def channels(self) -> tuple[Channel, Channel]:
        from distributed import Queue

        return tuple(  # type: ignore[return-value]
            DaskChannel(name, Queue(name, client=self._client))
            for name in (f"labs-in-{os.urandom(6).hex()}", f"labs-out-{os.urandom(6).hex()}")
        )

    def shutdown(self, *, abandon: bool = False) -> None:
        # Also after a start() that failed half-way: take what exists. A user's cluster is never shut
        # down; a task hung there keeps its worker busy until that cluster's owner restarts it.
        client, cluster = getattr(self, "_client", None), getattr(self, "_cluster", None)
        if client is not None:
            self._shared = None
            client.close(timeout=CLOSE_SECONDS)
        if cluster is not None:
            if abandon:
                _kill_worker_processes(cluster)
            cluster.close(timeout=CLOSE_SECONDS)
        scratch = getattr(self, "_scratch", None)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _connect(address: str, workers: int) -> Any:
    from distributed import Client

    # Client's own timeout covers the TCP connection, not a peer that accepts and never speaks (which
    # would hang it for ever): the connection is made in a thread the lab stops waiting for.
    made: dict[str, Any] = {}

    def connect() -> None:
        try:
            made["client"] = Client(address, timeout=CONNECT_SECONDS, set_as_default=False)
        except Exception as exc:
            made["error"] = exc

    thread = threading.Thread(target=connect, name="labs-dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS + 2)
    # Errors do not repeat the address: a failed bench's reason is stored, and results name no host.
    if thread.is_alive():
        raise RunError(
            f"the dask scheduler given did not answer within {CONNECT_SECONDS:.0f} s: "
            "it accepted the connection and said nothing (is it a dask scheduler?)"
        )
    if "error" in made:
        if not isinstance(made["error"], OSError | TimeoutError):
            raise made["error"]
        raise RunError(
            f"the dask scheduler given did not answer within {CONNECT_SECONDS:.0f} s: "
            f"{type(made['error']).__name__}"
        )
    client = made["client"]
    found = len(client.nthreads())  # scheduler_info() lists at most 5 workers in some releases
    if found < workers:
        client.close()
        raise RunError(f"the dask cluster given has {found} worker(s); this run asks for {workers}")
    print(f"dask: using the cluster at {address}: {found} worker(s), {workers} asked for", flush=True)
    return client


def _kill_worker_processes(cluster: Any) -> None:
    """Kill the cluster's worker processes at once: a hung task would hold a graceful close."""
    for nanny in list(getattr(cluster, "workers", {}).values()):
        process = getattr(getattr(nanny, "process", None), "process", None)
        pid = getattr(process, "pid", None)
        if pid:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


MODELS = (Dask,)
