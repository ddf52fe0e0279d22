"""The results store: runs written atomically, never overwritten, scrubbed, loadable by pyperf."""
