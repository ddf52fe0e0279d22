"""Where the PEP 734 interpreters API comes from on this runtime.

Python 3.14+ ships it as ``concurrent.interpreters`` with ``InterpreterPoolExecutor`` in
``concurrent.futures``. On 3.12/3.13 two backports exist, and neither covers both versions whole:

- ``interpreters-pep-734`` (``interpreters_backport``) has the module *and* InterpreterPoolExecutor,
  but does not load on 3.12 (it needs a ``_interpreters`` module 3.12 lacks).
- ``backports-interpreters`` (``backports.interpreters``) mirrors the 3.14 module and loads on 3.12
  and 3.13, free-threaded included, but has no InterpreterPoolExecutor, and its ``Interpreter.call``
  ships a function's code rather than a reference, so an executor cannot be built on it cheaply.

So interpreters-pep-734 serves where it loads (3.13, 3.13t: the pool, the raw model and their queues
all from one package, as the stored 3.13 runs were measured), and backports-interpreters where it does
not (3.12: the raw model and the transfer costs; no pool). LABS_INTERPRETERS_API
(``interpreters_backport`` or ``backports.interpreters``) forces one, to compare the two. Everything
else in the lab goes through this module, so the sources are interchangeable.
"""

from __future__ import annotations

import importlib
import os
import sys
from types import ModuleType
from typing import Any

STDLIB = "stdlib concurrent.interpreters"
BACKPORT = "backports.interpreters (backports-interpreters)"
PEP_734 = "interpreters_backport (interpreters-pep-734)"
# name shown in the facts -> (module to import, package that provides it)
_BACKPORTS = {
    BACKPORT: ("backports.interpreters", "backports-interpreters"),
    PEP_734: ("interpreters_backport.interpreters", "interpreters-pep-734"),
}
_CHOICE = {"backports.interpreters": BACKPORT, "interpreters_backport": PEP_734}


def _load(name: str) -> tuple[ModuleType | None, str | None]:
    """(the backport's interpreters module, None), or (None, why it does not load here)."""
    module, package = _BACKPORTS[name]
    try:
        return importlib.import_module(module), None
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None, f"{package} is not installed"
        return None, f"{package} does not load on Python {sys.version.split()[0]}: {exc}"
    except Exception as exc:  # a backport that fails while loading is as absent as a missing one
        return None, f"{package} does not load on Python {sys.version.split()[0]}: {exc}"


def _candidates() -> list[str]:
    """The backports to try, in order: LABS_INTERPRETERS_API's alone, else interpreters-pep-734 first."""
    asked = os.environ.get("LABS_INTERPRETERS_API")
    if asked:
        if asked not in _CHOICE:
            raise ValueError(f"LABS_INTERPRETERS_API={asked!r}; valid: {', '.join(_CHOICE)}")
        return [_CHOICE[asked]]
    return [PEP_734, BACKPORT]


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
    reasons = []
    for name in _candidates():
        module, why = _load(name)
        if module is not None:
            return name, None
        reasons.append(str(why))
    return None, f"needs Python 3.14+, or a backport on 3.12/3.13: {'; '.join(reasons)}"


def unavailable_reason() -> str | None:
    """None when subinterpreters can run here, else why not (as a model or channel says it)."""
    found, why = source()
    return None if found else f"interpreters: {why}"


def interpreters() -> ModuleType:
    """The high-level interpreters module (create, create_queue, Interpreter, ...)."""
    if sys.version_info >= (3, 14):
        import concurrent.interpreters as module

        return module
    found, why = source()
    if found is None:
        raise ImportError(why)
    module = _load(found)[0]
    assert module is not None  # source() just loaded it
    return module


def pool_unavailable_reason() -> str | None:
    """None when an InterpreterPoolExecutor exists here, else why not."""
    found, why = source()
    if found is None:
        return f"interpreters: {why}"
    if found == BACKPORT:
        return (
            "interpreters: InterpreterPoolExecutor needs Python 3.14+ or interpreters-pep-734 "
            f"(Python 3.13); backports-interpreters, used on Python {sys.version.split()[0]}, has none"
        )
    return None


def pool_executor_class() -> Any:
    """InterpreterPoolExecutor from the stdlib (3.14+) or interpreters-pep-734 (3.13)."""
    if sys.version_info >= (3, 14):
        from concurrent.futures import InterpreterPoolExecutor
    else:
        from interpreters_backport.concurrent.futures import InterpreterPoolExecutor
    return InterpreterPoolExecutor


def memoryview_unavailable_reason() -> str | None:
    """None when a memoryview crosses an interpreters queue (shared, not copied), else why not:
    backports-interpreters pickles every item on 3.12, and a memoryview does not pickle."""
    found, why = source()
    if found is None:
        return f"interpreters: {why}"
    if found == BACKPORT and sys.version_info < (3, 13):
        return "backports-interpreters pickles every queue item on Python 3.12; a memoryview does not pickle"
    return None


def put(queue: Any, obj: Any, *, shared: bool) -> None:
    """Put *obj* on an interpreters queue, shared as it is (``shared``: bytes, str, memoryview, tuples
    of them) or pickled. interpreters-pep-734 asks for the choice per call; 3.14 and
    backports.interpreters share what is shareable."""
    if type(queue).__module__.startswith("interpreters_backport"):
        queue.put(obj, syncobj=shared)
    else:
        queue.put(obj)
