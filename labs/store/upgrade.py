"""Stored runs brought up to the current metadata schema on load: the one place that knows old records.

A record without ``lab_schema_version`` is version 1. Its benches may predate ``lab_key`` (the same facts
in separate ``lab_*`` fields), the mixed workload's ``lab_variant_of``/``lab_variant``, or call a transfer's
carrier ``lab_channel``. ``run`` rewrites each bench's metadata into the current form, so every reader
downstream (BenchKey.from_metadata, schema.Meta) sees one schema only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from labs.store import schema
from labs.workloads import mixed  # runs stored before benches recorded their variant were all mixed's

RENAMED = {"lab_channel": "lab_carrier"}  # before the carrier was called so
VERSION = schema.stored("schema_version")


def version(metadata: Mapping[str, Any]) -> int:
    """The schema version a bench's metadata was written in (1 when it says none)."""
    return schema.STORED[VERSION].read(metadata.get(VERSION)) or 1


def run(data: dict[str, Any]) -> dict[str, Any]:
    """A stored run's JSON with every bench's metadata in the current schema; *data* itself is kept.

    The file's common metadata (pyperf's, shared by every bench) is folded into each bench first:
    the same meaning for pyperf, and the facts an upgrade reads may sit in either."""
    common = data.get("metadata") or {}
    benchmarks = data.get("benchmarks") or []
    if all(version({**common, **b.get("metadata", {})}) >= schema.SCHEMA_VERSION for b in benchmarks):
        return data
    upgraded = [{**b, "metadata": bench({**common, **b.get("metadata", {})})} for b in benchmarks]
    return {**{k: v for k, v in data.items() if k != "metadata"}, "benchmarks": upgraded}


def bench(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """One bench's metadata (with its file's common metadata) in the current schema, as a new dict."""
    found = dict(metadata)
    if version(found) >= schema.SCHEMA_VERSION:
        return found
    for old, new in RENAMED.items():
        if old in found:
            value = found.pop(old)
            found.setdefault(new, value)
    key = schema.stored("key")
    if key not in found:
        try:
            found[key] = legacy_key(found)
        except ValueError:
            pass  # not a lab bench (a plain pyperf benchmark): it stays without a key
    variant = mixed.VARIANTS.get(str(found.get(schema.stored("workload"))))
    if schema.stored("variant_of") not in found and variant is not None:
        found.update(schema.checked(variant_of="mixed", variant=str(variant)))
    found[VERSION] = schema.SCHEMA_VERSION
    return found


def key_json(suite: str, workers: int = 0, params: Mapping[str, str] | None = None, **names: str) -> str:
    """A bench key's JSON, the one spelling (BenchKey.to_json writes through it; the store sits below
    the planner): sorted, compact, empty fields left out."""
    data: dict[str, Any] = {"suite": str(suite), **{k: v for k, v in names.items() if v}}
    if workers:
        data["workers"] = workers
    if params:
        data["params"] = dict(params)
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def legacy_key(md: Mapping[str, Any]) -> str:
    """The key JSON of a bench stored before ``lab_key``, from its separate ``lab_*`` fields;
    ValueError when they name no lab bench."""

    def text(name: str) -> str:
        return str(md.get(schema.PREFIX + name, ""))

    def number(name: str) -> int:
        value = md.get(schema.PREFIX + name, 0)
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ValueError(f"{schema.PREFIX}{name} is not an integer: {value!r:.80}") from None

    kind, name = text("kind"), str(md.get("name", ""))
    if kind in (schema.Kind.CPU, schema.Kind.IO):
        # capacity is the download workload with no added latency, stored under its own name
        suite = schema.Suite.CAPACITY if name.startswith("capacity/") else schema.Suite.MATRIX
        fields = {"workload": text("workload"), "model": text("model"), "pattern": text("pattern")}
        return key_json(suite, number("workers"), **fields)
    if kind == schema.Kind.STARTUP:
        return key_json(schema.Suite.STARTUP, number("workers"), model=text("model"))
    if kind == schema.Kind.TRANSFER:
        return key_json(
            schema.Suite.TRANSFER, params={"bytes": text("payload_bytes")}, subject=text("carrier")
        )
    if kind == schema.Kind.MEMORY:
        params = {"metric": text("metric")}
        return key_json(schema.Suite.MEMORY, number("workers"), params, model=text("model"))
    if kind == schema.Kind.LADDER:
        return key_json(schema.Suite.LADDER, subject=text("rung"))
    if kind == schema.Kind.RACE:
        return key_json(schema.Suite.RACE, number("threads"), subject=text("strategy"))
    raise ValueError(f"not a lab bench (lab_kind {kind or 'missing'!r})")
