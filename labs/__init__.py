"""gil-lab: the same workloads under every Python execution model, verified and timed."""

from labs.core.errors import RunError, RunTimeout, UsageError, VerificationError
from labs.core.lab import map_tasks

__all__ = ["RunError", "RunTimeout", "UsageError", "VerificationError", "map_tasks"]
