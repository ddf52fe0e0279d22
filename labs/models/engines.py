"""What the scale-out engines (dask, celery) share: why one is missing from this environment.

The engines are an optional dependency group: ``nox`` installs it in every venv where the runtime has
wheels for it and, where the install fails, leaves pip's reason in the venv (``runtime.ENGINES_NOTE``),
so that a model can say which runtime lacks what instead of only "not installed".
"""

from __future__ import annotations

import sys
from concurrent.futures import wait
from pathlib import Path
from typing import TYPE_CHECKING

from labs.core.errors import RunError
from labs.core.runtime import ENGINES_NOTE

if TYPE_CHECKING:
    from labs.models.base import Model


def missing_engine(what: str, requirement: str) -> str:
    note = Path(sys.prefix, ENGINES_NOTE)
    try:
        reason = note.read_text(encoding="utf-8").strip()
    except OSError:
        reason = ""
    if reason:
        return f"{what} is not installed: this runtime has no build of the engines group ({reason})"
    return f"{what} is not installed (pip install '{requirement}')"


def worker_side(exception: BaseException) -> BaseException:
    """A task's exception as the lab reports it: an import that failed on a worker says what a worker
    of a real cluster needs (calls go by name, so the lab and the task's module must be installed)."""
    if isinstance(exception, ImportError):
        return RunError(
            f"a task failed: {type(exception).__name__}: {exception} (a worker imports task functions by "
            "name: install the lab and the task's module on every worker)"
        )
    return exception


def warm_up(model: Model, seconds: float) -> None:
    """One sleeping call per worker, overlapping; a worker that takes none within *seconds* (one that
    answers pings but lacks the lab's task, say) is a RunError, never a hang."""
    futures = [model.submit("labs.core.pool_worker:warm_up", model.warm_delay) for _ in range(model.workers)]
    done, pending = wait(futures, timeout=seconds)
    if pending:
        raise RunError(f"the workers did not run a first task within {seconds:.0f} s")
    for future in done:
        future.result()  # a RunError (or the task's exception) if it failed
