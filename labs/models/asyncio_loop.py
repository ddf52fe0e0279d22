"""asyncio: one event loop. Async task functions run natively on it; CPU-bound ones go through
``asyncio.to_thread`` on a default executor of N threads, which is what an asyncio program has to do,
so the comparison with the other models is honest."""

from __future__ import annotations

import asyncio
import inspect
import queue
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from labs.core.callref import resolve
from labs.core.pool_worker import ASYNC_VARIANTS
from labs.models.base import Channel, Model


class LoopQueue:
    """An asyncio.Queue owned by the model's loop, usable from the lab's and the workers' threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._queue: asyncio.Queue = asyncio.Queue()

    def put(self, item: Any) -> None:
        asyncio.run_coroutine_threadsafe(self._queue.put(item), self._loop).result()

    async def put_async(self, item: Any) -> None:
        await self._queue.put(item)

    async def get_async(self, timeout: float) -> Any:
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            raise queue.Empty from None

    def get(self, timeout: float) -> Any:
        getter = asyncio.wait_for(self._queue.get(), timeout)
        try:
            return asyncio.run_coroutine_threadsafe(getter, self._loop).result()
        except TimeoutError:
            raise queue.Empty from None


class Asyncio(Model):
    name = "asyncio"
    description = "one event loop; async tasks natively, CPU tasks via asyncio.to_thread (N threads)"
    queue_type = "asyncio.Queue"

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="labs-asyncio")
        self._loop.set_default_executor(self._executor)
        self._thread = threading.Thread(target=self._loop.run_forever, name="labs-asyncio-loop", daemon=True)
        self._thread.start()
        for future in [
            self.submit("labs.core.pool_worker:warm_up", self.warm_delay) for _ in range(self.workers)
        ]:
            future.result()

    async def _call(self, func: str, args: tuple[Any, ...]) -> Any:
        # A pattern helper handed a coroutine task function runs as a coroutine on the loop.
        if func in ASYNC_VARIANTS and args and inspect.iscoroutinefunction(resolve(args[0])):
            func = ASYNC_VARIANTS[func]
        target = resolve(func)
        if inspect.iscoroutinefunction(target):
            return await target(*args)
        return await asyncio.to_thread(target, *args)

    def submit(self, func: str, *args: Any) -> Future:
        return asyncio.run_coroutine_threadsafe(self._call(func, args), self._loop)

    def channels(self) -> tuple[Channel, Channel]:
        return LoopQueue(self._loop), LoopQueue(self._loop)

    def shutdown(self, *, abandon: bool = False) -> None:
        self._executor.shutdown(wait=not abandon, cancel_futures=True)
        if abandon:
            # Worker threads may still be blocked on this loop's queues: stopping it would strand them,
            # so the (daemon) loop thread keeps serving until they finish or the process exits.
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


MODELS = (Asyncio,)
