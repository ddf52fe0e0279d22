"""gil-lab: the same workloads under every Python execution model, verified and timed."""

from labs.errors import RunError, RunTimeout, UsageError, VerificationError
from labs.lab import map_tasks

__all__ = ["RunError", "RunTimeout", "UsageError", "VerificationError", "map_tasks"]
