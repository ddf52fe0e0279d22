"""BenchKey and RuntimeTag: the one place each identity is built and read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labs.core.tag import RuntimeTag
from labs.plan.key import BenchKey
from labs.store import runs, upgrade

ROOT = Path(__file__).resolve().parents[2]


def stored_benches():
    for path in runs.iter_run_files(ROOT / "results"):  # runs only: results/<machine>/compat/ holds probes
        data = json.loads(path.read_text())
        for bench in data["benchmarks"]:
            yield {**data.get("metadata", {}), **bench["metadata"]}


def test_every_committed_bench_decodes_to_the_key_of_its_name():
    """Runs stored before lab_key existed: the key that their separate lab_* fields get on load
    (labs.store.upgrade) gives back the exact name."""
    count = 0
    for metadata in stored_benches():
        key = BenchKey.from_metadata(upgrade.bench(metadata))
        assert key.name == metadata["name"]
        assert BenchKey.from_metadata(key.metadata()) == key  # and the structured form round-trips
        count += 1
    assert count > 100


@pytest.mark.parametrize(
    ("key", "name"),
    [
        (BenchKey("matrix", "nbody", "threads", "n-workers", 2), "nbody/threads/n-workers/w2"),
        (BenchKey("capacity", "download", "asyncio", "n-workers", 256), "capacity/asyncio/n-workers/w256"),
        (BenchKey("startup", model="processes-spawn", workers=1), "startup/processes-spawn/w1"),
        (BenchKey("transfer", subject="mp-pipe", params=(("bytes", "1024"),)), "transfer/mp-pipe/1024"),
        (BenchKey("race", subject="unsafe", workers=2), "race/unsafe/t2"),
        (BenchKey("race", subject="asyncio-locked", workers=100), "race/asyncio-locked/c100"),
        (BenchKey("dispatch", model="threads", params=(("side", "lab"),)), "dispatch/threads/lab"),
    ],
)
def test_names_come_from_keys(key, name):
    assert key.name == name
    assert BenchKey.from_json(key.to_json()) == key


def test_a_key_knows_its_serial_baseline_and_keeps_params_sorted():
    key = BenchKey("matrix", "fib", "interpreters-pool", "pipeline", 2)
    assert key.serial_baseline() == BenchKey("matrix", "fib", "serial", "n-workers", 1)
    memory = BenchKey("memory", model="threads", workers=2).with_params(metric="uss", a="1")
    assert memory.params == (("a", "1"), ("metric", "uss")) and memory.name == "memory/threads/w2/uss"


@pytest.mark.parametrize(
    "metadata",
    [{}, {"lab_kind": "nope"}, {"lab_key": "{not json"}, {"lab_key": "[1]"}, {"lab_key": '{"suite": "x"}'}],
)
def test_metadata_that_names_no_lab_bench_is_refused(metadata):
    with pytest.raises(ValueError):
        BenchKey.from_metadata(metadata)


def test_runtime_tags_parse_order_and_relate():
    tags = [RuntimeTag.parse(t) for t in ("3.13t-gil", "3.14", "3.12", "3.13t", "3.13")]
    assert [str(t) for t in sorted(tags)] == ["3.12", "3.13", "3.13t", "3.13t-gil", "3.14"]
    free = RuntimeTag.parse("3.13t")
    assert free.default_twin == RuntimeTag.parse("3.13") and str(free.gil_control) == "3.13t-gil"
    assert RuntimeTag.parse("3.13t-gil").build == free and free.version == "3.13"
    with pytest.raises(ValueError):
        RuntimeTag.parse("3.13").gil_control  # noqa: B018  (a default build has no -gil control)


@pytest.mark.parametrize("text", ["", "3", "3.13x", "3.13-gil", "py3.13", "3.13t-gil ", None])
def test_malformed_tags_are_refused(text):
    assert not RuntimeTag.is_valid(text)
    with pytest.raises(ValueError, match="not a runtime tag"):
        RuntimeTag.parse(text)
