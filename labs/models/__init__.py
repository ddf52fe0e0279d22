"""Model registry. A model is one module here exposing ``MODELS`` (one class, or declared variants)."""

from __future__ import annotations

from labs.core.errors import UsageError
from labs.models import asyncio_loop, interpreters_pool, interpreters_raw, processes, serial, threads
from labs.models.base import Model

__all__ = ["Model", "available", "get", "names"]

# Registry: adding a model is one module plus one entry here.
_REGISTRY: dict[str, type[Model]] = {
    cls.name: cls
    for module in (serial, threads, asyncio_loop, processes, interpreters_pool, interpreters_raw)
    for cls in module.MODELS
}


def names() -> list[str]:
    return list(_REGISTRY)


def get(name: str) -> type[Model]:
    """The model class called *name*, or a UsageError listing the valid names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UsageError(f"unknown model {name!r}; valid: {', '.join(_REGISTRY)}") from None


def available(name: str) -> type[Model]:
    """Like get(), but a model that cannot run on this runtime is a UsageError saying why."""
    cls = get(name)
    why = cls.unavailable_reason()
    if why:
        raise UsageError(f"model {name!r} is unavailable on this runtime: {why}")
    return cls
