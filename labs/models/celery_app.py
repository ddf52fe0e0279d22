"""The Celery app of the celery model: what ``celery -A labs.models.celery_app worker`` runs.

One Redis serves as broker and result backend; its URL comes from LABS_CELERY_BROKER. Tasks and results
travel pickled: the lab's results are tuples, bytes and dicts that JSON would change, and the broker is
the lab's own or the user's (to be trusted like any Celery broker that accepts pickle).

The lab's side polls results with a GET per pending task and never subscribes to them: Redis's result
backend otherwise subscribes the submitting thread to every task's channel, and a thread that does not
read those messages lets them pile up (a 64 MiB payload each, in the transfer bench).
"""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.backends.redis import RedisBackend

from labs.core.pool_worker import call

BROKER_ENV = "LABS_CELERY_BROKER"


class PolledRedisBackend(RedisBackend):
    def on_task_call(self, producer: Any, task_id: str) -> None:
        """Results are polled (see the module's docstring): no subscription per task."""


def broker_url() -> str:
    return os.environ.get(BROKER_ENV) or "redis://127.0.0.1:6379/0"


def make_app(url: str) -> Celery:
    """A Celery app on the Redis at *url* (broker and result backend), with the lab's one task."""
    app = Celery("labs", set_as_current=False)
    app.conf.update(
        broker_url=url,
        result_backend=f"{PolledRedisBackend.__module__}:PolledRedisBackend+{url}",
        task_serializer="pickle",
        result_serializer="pickle",
        accept_content=["pickle"],
        result_accept_content=["pickle"],
        worker_prefetch_multiplier=1,  # a worker takes the next task when it is free: the pipeline's queue
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=5,
        redis_socket_connect_timeout=5,
        redis_socket_timeout=10,  # a broker host that vanishes is an error in seconds, not minutes
        broker_transport_options={"socket_timeout": 10, "socket_connect_timeout": 5},
        result_expires=600,  # the lab deletes each result once read; this bounds what a crash leaves
    )
    app.task(name="labs.call")(call_task)
    return app


def call_task(func: str, *args: Any) -> Any:
    """Every call the model makes: the same entry point as every other model's workers."""
    return call(func, *args)


app = make_app(broker_url())  # what `celery -A labs.models.celery_app worker` loads
