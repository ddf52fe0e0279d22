"""The journal as untrusted input and as the only copy: unique names, a fallback from the first line,
and a resume that refuses what the lab would not have written."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from labs.core.errors import UsageError
from labs.plan.selection import Selection
from labs.store import journal

BENCH = {
    "metadata": {"name": "fib/serial/n-workers/w1", "unit": "second"},
    "runs": [{"values": [0.5, 0.6], "metadata": {}}],
}


def record(started: str = "2026-12-07T18-00-00Z") -> dict:
    selection = {"mode": "quick", "workloads": ["fib"], "models": ["serial"], "patterns": ["n-workers"]}
    selection |= {"workers": None, "suites": ["matrix"], "startup": False, "kind": None}
    return {"started": started, "runtime": {"tag": "3.13"}, "failed": [], "selection": selection}


@pytest.fixture
def rescue(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return tmp_path / "tmp" / "gil-lab-rescued"


def test_runs_started_in_the_same_second_each_get_a_journal(tmp_path):
    folder = tmp_path / "results" / "machine" / "3.13"
    logs = [journal.Journal.start(folder, record()) for _ in range(3)]
    assert all(log.path is not None and not log.problem for log in logs)
    assert len({log.path for log in logs}) == 3
    assert folder / "2026-12-07T18-00-00Z.journal.jsonl" in {log.path for log in logs}


def test_a_folder_that_refuses_the_journal_sends_it_to_the_fallback_from_the_first_line(tmp_path, rescue):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the results folder should be")
    log = journal.Journal.start(blocked / "machine" / "3.13", record())
    assert log.path is not None and log.path.is_relative_to(rescue), log.path
    assert "journal not written" in log.problem and str(log.path) in log.problem
    log.add([BENCH], "1.0")
    assert journal.recover(log.path).benchmarks == [BENCH]


def test_a_journal_that_stops_taking_writes_moves_whole_to_the_fallback(tmp_path, rescue):
    results = tmp_path / "results"
    log = journal.Journal.start(results / "machine" / "3.13", record())
    log.add([BENCH], "1.0")
    log.fail("nbody/serial/n-workers/w1", "boom")
    shutil.rmtree(results)  # the folder vanishes under the run
    log.add([BENCH], "1.0")
    assert log.path is not None and log.path.is_relative_to(rescue)
    assert "journal stopped" in log.problem and "continued in" in log.problem
    recovered = journal.recover(log.path)
    assert recovered.benchmarks == [BENCH, BENCH]
    assert recovered.record["runtime"] == {"tag": "3.13"}


def _write_journal(path: Path, *lines: object) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([{"record": {**record(), "runtime": "x"}}], "the journal has no run record"),
        (
            [{"record": record()}, {"benchmarks": [1, 2, 3], "version": "1.0"}],
            "benchmark #1 must be an object",
        ),
        ([{"record": record()}, '{"benchmarks": [{"runs": [{"values": [NaN]}]}]}'], "non-finite number NaN"),
        ([{"record": {**record(), "runtime": {"tag": 3}}}], "names no runtime tag"),
        (["[" * 100_000], "while decoding a JSON array"),  # 3.14+ says "Stack overflow"
    ],
    ids=["runtime-not-an-object", "benchmarks-not-objects", "nan", "tag-not-a-string", "deep-nesting"],
)
def test_a_hostile_journal_is_refused_in_one_line(tmp_path, lines, message):
    path = _write_journal(tmp_path / f"x{journal.SUFFIX}", *lines)
    with pytest.raises(UsageError, match="cannot resume from") as refused:
        journal.recover(path)
    assert message in str(refused.value) and len(str(refused.value)) < 500


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workers": [0, 99999]}, "workers must be between 1 and 1024"),
        ({"workers": ["2"]}, "the stored workers are not a list of counts"),
        ({"models": ["serial", "nope"]}, "unknown model 'nope'"),
        ({"mode": "fast"}, "the stored mode 'fast' is not one of"),
        ({"budget_minutes": float("inf")}, "--budget must be minutes"),
    ],
)
def test_a_journaled_selection_is_held_to_the_rules_of_the_command_line(change, message):
    with pytest.raises(UsageError, match=message):
        Selection.stored({**record()["selection"], **change})


def test_a_journaled_selection_that_follows_the_rules_comes_back():
    selection = Selection.stored({**record()["selection"], "workers": [2, 1], "budget_minutes": 3})
    assert selection.workers == (1, 2) and selection.budget_minutes == 3.0 and selection.models == ("serial",)
