"""Where the PEP 734 interpreters API comes from on this runtime.

Python 3.14+ ships it as ``concurrent.interpreters`` with ``InterpreterPoolExecutor`` in
``concurrent.futures``; on 3.12/3.13 the ``interpreters-pep-734`` backport mirrors that layout under
``interpreters_backport``. Everything else in the lab goes through this module, so the two sources
are interchangeable.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any

STDLIB = "stdlib concurrent.interpreters"
BACKPORT = "interpreters_backport (interpreters-pep-734)"


def source() -> tuple[str | None, str | None]:
    """Return (source, None) when the API is importable, else (None, why not)."""
    if sys.implementation.name != "cpython":
        return None, f"needs CPython, this is {sys.implementation.name}"
    if sys.version_info >= (3, 14):
        try:
            import concurrent.interpreters  # noqa: F401
        except ImportError as exc:
            return None, f"concurrent.interpreters failed to import: {exc}"
        return STDLIB, None
    try:
        import interpreters_backport.interpreters  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("interpreters_backport"):
            return None, "needs Python 3.14+, or Python 3.12/3.13 with interpreters-pep-734 installed"
        return None, f"interpreters-pep-734 does not load on Python {sys.version.split()[0]}: {exc}"
    except ImportError as exc:
        return None, f"interpreters-pep-734 does not load on Python {sys.version.split()[0]}: {exc}"
    return BACKPORT, None


def unavailable_reason() -> str | None:
    """None when subinterpreters can run here, else why not (as a model or channel says it)."""
    found, why = source()
    return None if found else f"interpreters: {why}"


def interpreters() -> ModuleType:
    """The high-level interpreters module (create, create_queue, Interpreter, ...)."""
    if sys.version_info >= (3, 14):
        import concurrent.interpreters as module
    else:
        import interpreters_backport.interpreters as module
    return module


def pool_executor_class() -> Any:
    """InterpreterPoolExecutor from the stdlib (3.14+) or the backport."""
    if sys.version_info >= (3, 14):
        from concurrent.futures import InterpreterPoolExecutor
    else:
        from interpreters_backport.concurrent.futures import InterpreterPoolExecutor
    return InterpreterPoolExecutor


def put(queue: Any, obj: Any, *, shared: bool) -> None:
    """Put *obj* on an interpreters queue, shared as it is (``shared``: bytes, str, memoryview, tuples
    of them) or pickled. The backport asks for the choice per call; 3.14 shares what is shareable."""
    if sys.version_info >= (3, 14):
        queue.put(obj)
    else:
        queue.put(obj, syncobj=shared)
