"""Model registry. A model is one module here exposing ``MODELS`` (one class, or declared variants).

The modules are imported on first use of the registry, not with the package: they bring asyncio,
multiprocessing and the interpreters API with them, and a command must be able to set up its signal
handling (labs.cli.signals) before that much is imported.
"""

from __future__ import annotations

import functools
import importlib

from labs.core.errors import UsageError
from labs.core.plugin import Registry
from labs.models.base import Model

__all__ = ["Model", "available", "get", "names"]

# Registry: adding a model is one module plus one entry here.
MODULES = (
    "serial",
    "threads",
    "asyncio_loop",
    "processes",
    "interpreters_pool",
    "interpreters_raw",
    "dask_cluster",
    "celery_workers",
)


@functools.cache
def _registry() -> Registry[type[Model]]:
    classes = [cls for module in MODULES for cls in importlib.import_module(f"labs.models.{module}").MODELS]
    return Registry("model", *classes)


def names() -> list[str]:
    return list(_registry().names())


def get(name: str) -> type[Model]:
    """The model class called *name*, or a UsageError listing the valid names."""
    return _registry().get(name)


def available(name: str) -> type[Model]:
    """Like get(), but a model that cannot run on this runtime is a UsageError saying why."""
    cls = get(name)
    why = cls.unavailable_reason()
    if why:
        raise UsageError(f"model {name!r} is unavailable on this runtime: {why}")
    return cls
