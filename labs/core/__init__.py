"""The lab's core: call references, the pool-side worker, patterns, execute and verify, runtime, errors."""
