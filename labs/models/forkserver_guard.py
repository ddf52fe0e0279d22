"""Preloaded by the forkserver of the processes-forkserver model, so that it dies with the lab.

The forkserver is started by multiprocessing, not by the lab, so the lab cannot set anything in it
but what it preloads (``set_forkserver_preload``). Without this, a lab killed with SIGKILL leaves the
forkserver and its workers running for ever: the forkserver waits for EOF on a pipe whose write end
every worker it forked holds too, and each worker waits for work from the lab. With it, the kernel
kills the forkserver when the lab dies, and each worker (see processes._adopt) when the forkserver does.

The request is made at import, the only moment a preloaded module gets, and only inside the
forkserver itself (``python -c 'from multiprocessing.forkserver import main; ...'``), so that importing
this module anywhere else changes nothing. A lab that died before the request took effect needs no
check here: the forkserver has forked no worker yet, so the lab held the only write end of its pipe,
and the forkserver ends on its own at that pipe's EOF.
"""

from __future__ import annotations

import signal
import sys

from labs.core.proctree import die_with_parent


def in_forkserver() -> bool:
    # The command line itself, not sys.argv: since 3.14 the forkserver takes the lab's sys.argv as its own.
    command = sys.orig_argv
    code = command[command.index("-c") + 1] if "-c" in command[:-1] else ""
    forkserver_main = "from multiprocessing.forkserver import main"
    return forkserver_main in code and "multiprocessing.forkserver" in sys.modules


if in_forkserver():
    die_with_parent(signal.SIGKILL)
