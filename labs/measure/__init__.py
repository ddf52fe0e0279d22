"""Measurement: the pyperf harness, the matrix job, the costs suite, and the driver that runs each bench."""
