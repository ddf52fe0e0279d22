"""What the scale-out engines (dask, celery) share: why one is missing from this environment.

The engines are an optional dependency group: ``nox`` installs it in every venv where the runtime has
wheels for it and, where the install fails, leaves pip's reason in the venv (``NOTE``), so that a model
can say which runtime lacks what instead of only "not installed".
"""

from __future__ import annotations

import sys
from pathlib import Path

NOTE = "labs-engines-missing.txt"


def missing_engine(what: str, requirement: str) -> str:
    note = Path(sys.prefix, NOTE)
    try:
        reason = note.read_text(encoding="utf-8").strip()
    except OSError:
        reason = ""
    if reason:
        return f"{what} is not installed: this runtime has no build of the engines group ({reason})"
    return f"{what} is not installed (pip install '{requirement}')"
