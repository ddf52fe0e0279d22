"""Task functions that fail on purpose, so the lab's fault handling is exercised for real.

``python -m labs run --fault KIND`` runs one of them in place of the workload's task function.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

KINDS = ("raise", "kill", "hang")


class InjectedFault(RuntimeError):
    pass


def raise_error(task: Any) -> Any:
    raise InjectedFault(f"injected fault on task {task!r}")


def kill_worker(task: Any) -> Any:
    os.kill(os.getpid(), signal.SIGKILL)


def hang(task: Any) -> Any:
    # Said on stdout as it happens, so that whoever waits for the hang (a user, a test) knows it began;
    # one write of the whole line, so that the lines of workers that hang at once never interleave.
    sys.stdout.write(f"fault: task {task!r} hangs (--fault hang)\n")
    sys.stdout.flush()
    time.sleep(3600)


FUNCTIONS = {
    "raise": "labs.core.faults:raise_error",
    "kill": "labs.core.faults:kill_worker",
    "hang": "labs.core.faults:hang",
}
