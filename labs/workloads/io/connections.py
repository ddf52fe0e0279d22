"""Per-thread caches of open connections, kept the way a user would keep them: one per worker thread
(so one per process and per interpreter too), closed when the thread ends."""

from __future__ import annotations

import os
import threading
from typing import Any


class Connections(dict):
    """Open connections by key; closed with the thread that owns them."""

    closing = True

    def __del__(self) -> None:
        if self.closing:
            for connection in self.values():
                try:
                    connection.close()
                except Exception:  # a connection that broke already has nothing to close
                    pass


def per_thread(local: threading.local) -> Connections:
    """This thread's cache. A forked child starts afresh and leaves its parent's connections alone:
    sharing them would interleave two processes' requests on one socket."""
    if getattr(local, "pid", None) != os.getpid():
        inherited: Any = getattr(local, "connections", None)
        if inherited is not None:
            inherited.closing = False
        local.pid, local.connections = os.getpid(), Connections()
    return local.connections
