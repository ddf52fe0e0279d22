"""The I/O workloads' server options, shared by `run` and `bench`."""

from __future__ import annotations

import argparse
import os

from labs.core import limits


def apply(args: argparse.Namespace) -> None:
    """--latency-ms / --payload: checked, then passed to the server and the workers in the environment."""
    from labs.workloads.io import local_server

    latency = limits.parse_int("latency-ms", args.latency_ms) if args.latency_ms is not None else None
    payload = limits.parse_int("payload", args.payload) if args.payload is not None else None
    default_latency, default_payload = local_server.settings()
    local_server.check_settings(
        default_latency if latency is None else latency, default_payload if payload is None else payload
    )
    if latency is not None:
        os.environ[local_server.LATENCY_ENV] = str(latency)
    if payload is not None:
        os.environ[local_server.PAYLOAD_ENV] = str(payload)
