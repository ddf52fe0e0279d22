"""The costs suite at its smallest settings, for real: start-up, transfer, memory, ladder, races."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyperf
import pytest
from labtest import lab_command

from labs import models
from labs.core import interpreters_api, limits
from labs.core.errors import UsageError
from labs.measure.costs import memory

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def costs_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    done = lab_command(
        "bench",
        "--no-fingerprint",
        "--suite",
        "costs",
        "--quick",
        "--payload-sizes",
        "1,1K",
        # Every model but the engines: their task carriers start a cluster in every process (2 of the
        # suite's 2.5 minutes here), and tests/core/test_engines.py runs the engines for real.
        "-m",
        ",".join(m for m in models.names() if m not in ("dask", "celery")),
        "--results",
        str(root),
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = sorted(root.glob("*/*/*.json"))
    return done.stdout, path, pyperf.BenchmarkSuite.load(str(path))


def _interpreters_here() -> bool:
    return models.get("interpreters-pool").unavailable_reason() is None


def test_every_cost_bench_ran_or_was_skipped_with_a_reason(costs_run):
    _stdout, path, suite = costs_run
    names = set(suite.get_benchmark_names())
    expected = {
        "startup/asyncio-task/w1",
        "transfer/thread-queue/1",
        "transfer/mp-pipe/1024",
        "transfer/shared-memory/1024",
        "transfer/mp-queue/1",
        "ladder/dict-hit",
        "ladder/fsync-write",
        "ladder/tcp-loopback",
        "ladder/thread-handoff",
        "ladder/process-round-trip",
        "race/unsafe/t2",
        "race/lock/t2",
        "memory/threads/w2/uss",
        "memory/processes-spawn/w2/pss",
    }
    assert expected <= names
    notes = json.loads(path.read_text())["labs"]["notes"]
    if interpreters_api.unavailable_reason() is None:
        assert {"transfer/interp-pickle/1", "ladder/subinterpreter-round-trip"} <= names
    else:
        assert any(n.startswith("transfer/interp-bytes/1 skipped: interpreters:") for n in notes)
    # 3.12's backport has subinterpreters but no executor, and pickles what it queues (not a memoryview).
    if interpreters_api.memoryview_unavailable_reason() is None:
        assert "transfer/interp-memoryview/1024" in names
    else:
        assert any(n.startswith("transfer/interp-memoryview/1024 skipped: ") for n in notes)
    if _interpreters_here():
        assert "memory/interpreters-pool/w2/rss" in names
    else:
        assert any(n.startswith("memory/interpreters-pool skipped: interpreters:") for n in notes)


def test_cost_metadata_and_units(costs_run):
    _, _, suite = costs_run
    trip = suite.get_benchmark("transfer/mp-pipe/1024")
    assert trip.get_metadata()["lab_payload_bytes"] == 1024 and trip.get_unit() == "second"
    uss = suite.get_benchmark("memory/processes-spawn/w2/uss")
    assert uss.get_unit() == "byte" and uss.get_metadata()["lab_memory_source"] == memory.SOURCE
    # A spawned process carries a whole interpreter; a thread only a stack.
    assert uss.mean() > 1 << 20 > suite.get_benchmark("memory/threads/w2/uss").mean()
    race = suite.get_benchmark("race/lock/t2")
    lost = [
        run.get_metadata().get("lab_lost", race.get_metadata().get("lab_lost")) for run in race.get_runs()
    ]
    assert lost and all(value == 0 for value in lost)
    rung = suite.get_benchmark("ladder/dict-hit")
    assert rung.mean() < 1e-5  # one lookup, not a thousand
    assert rung.get_metadata()["lab_classic"] == "L2 cache reference"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "out of range: 1 B .. 64 MiB"),
        ("65M", "out of range"),
        ("lots", "is not a size like 1, 4K or 16M"),
    ],
)
def test_payload_sizes_out_of_range_are_refused(tmp_path, text, message):
    done = lab_command(
        "bench",
        "--no-fingerprint",
        "--suite",
        "costs",
        "--payload-sizes",
        text,
        "--results",
        str(tmp_path),
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().startswith(f"ERROR: payload size {text!r}") and message in done.stderr
    assert not list(tmp_path.iterdir())


def test_parse_size_units():
    assert [limits.parse_size(t) for t in ("1", "4K", "4KiB", "16M", "64M")] == [
        1,
        4096,
        4096,
        16 << 20,
        64 << 20,
    ]


def test_more_memory_than_the_machine_has_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 100 << 20)
    with pytest.raises(UsageError, match=r"needs about 384 MiB in flight but only 100 MiB are available"):
        limits.check_memory(64 << 20)
    limits.check_memory(1 << 20)


def test_memory_of_this_process_reads_proc():
    if memory.unavailable_reason():
        pytest.skip(memory.unavailable_reason())
    mine = memory.process_memory(os.getpid())
    assert mine["rss"] >= mine["pss"] >= mine["uss"] > 0


def test_race_cli_prints_every_strategy(tmp_path):
    done = lab_command("race", "--threads", "2", "--increments", "20000", timeout=60)
    assert done.returncode == 0, done.stderr
    for strategy in ("unsafe", "lock", "per-thread", "itertools-count"):
        assert strategy in done.stdout
    assert "leave -200 unlocked, 40 with a Lock" in done.stdout
