"""gil-lab: the same workloads under every Python execution model, verified and timed."""

from __future__ import annotations

from typing import Any

from labs.core.errors import RunError, RunTimeout, UsageError, VerificationError

__all__ = ["RunError", "RunTimeout", "UsageError", "VerificationError", "map_tasks"]


def __getattr__(name: str) -> Any:
    # map_tasks brings the models with it; loaded on first use, so that `import labs.core.tag` (the
    # noxfile's, on whatever Python runs nox) stays light and needs no newer syntax than its own.
    if name == "map_tasks":
        from labs.execute.lab import map_tasks

        return map_tasks
    raise AttributeError(f"module 'labs' has no attribute {name!r}")
