"""Loading stored runs: every corruption of a result file is refused with its reason, never a traceback;
and `compare TAG TAG` picks runs of the same mode and suites on both sides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from labtest import lab_command

from labs.analyse import runs as analysis
from labs.core.errors import UsageError
from labs.plan.key import BenchKey
from labs.store import runs as results

MACHINE = "2cpu-test"
ROOT = Path(__file__).resolve().parents[2]


def suite(keys: list[BenchKey], mode: str = "default", processes: int = 3, **record: object) -> dict:
    benchmarks = [
        {
            "metadata": {"name": key.name, "unit": "second", **key.metadata()},
            "runs": [{"values": [0.1 + 0.001 * p, 0.1]} for p in range(processes)],
        }
        for key in keys
    ]
    return {"version": "1.0", "benchmarks": benchmarks, "labs": {"machine": MACHINE, "mode": mode, **record}}


def write(root: Path, tag: str, stamp: str, document: object) -> Path:
    folder = root / MACHINE / tag
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stamp}.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


MATRIX = [
    BenchKey("matrix", "fib", "serial", "n-workers", 1),
    BenchKey("startup", model="threads", workers=1),
]
COSTS = [
    BenchKey("transfer", subject="thread-queue", params=(("bytes", "1"),)),
    BenchKey("ladder", subject="x"),
]
VALUES = '{"version": "1.0", "benchmarks": [{"runs": [{"values": %s}]}]}'  # one run's values, as JSON text
LABS = '{"version": "1.0", "benchmarks": [], "labs": %s}'  # the lab's record, as JSON text


def test_the_stored_results_all_load():
    runs, problems = analysis.load(ROOT / "results")
    assert problems == [] and len(runs) >= 12  # the re-measured runs of every runtime here
    assert all(bench.key is not None for run in runs for bench in run.benches.values())


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"version": "1.0", "benchmarks": "oops"}', "benchmarks must be a list, got str"),
        (VALUES % '["0.1"]', "value '0.1' is not a number"),
        (VALUES % "[true]", "value True is not a number"),
        (VALUES % "[NaN]", "non-finite number NaN"),
        (VALUES % "[Infinity]", "non-finite number Infinity"),
        (VALUES % "[1e999]", "value 'inf' is not finite"),
        (VALUES % f"[1{'0' * 400}]", "value '10000000000000000000' is not finite"),
        (VALUES % f"[1{'0' * 5000}]", "Exceeds the limit"),
        (VALUES % '[0.1], "warmups": [[1, 1e999]]', "warmups must"),
        (VALUES % "[0.0]", "time value 0.0 is not positive"),
        (VALUES % "[-0.1]", "time value -0.1 is not positive"),
        (VALUES % "0.1", "values must be a list of numbers"),
        ('{"version": "1.0", "benchmarks": [{"runs": {"values": [0.1]}}]}', "runs must be a list, got dict"),
        ('{"version": "1.0", "benchmarks": ["x"]}', "benchmark #1 must be an object, got str"),
        ('{"version": "1.0", "benchmarks": [{"metadata": []}]}', "benchmark #1: metadata must be an object"),
        ('{"version": "1.0", "benchmarks": [{"metadata": {"name": 3}}]}', "name must be a string, got 3"),
        ('{"version": "1.0", "benchmarks": [], "metadata": "x"}', "metadata must be an object"),
        (LABS % '"x"', "'labs' must be an object, got str"),
        (LABS % '{"machine": "../../x"}', "labs.machine '../../x' is not a"),
        (LABS % '{"machine": "a/b"}', "labs.machine 'a/b' is not a safe"),
        (LABS % '{"machine": ".."}', "labs.machine '..' is not a safe"),
        (LABS % '{"started": 5}', "labs.started must be a string"),
        (LABS % '{"runtime": []}', "labs.runtime must be an object"),
        ('{"version": 1, "benchmarks": []}', "version must be a string, got 1"),
        ("[]", "not a pyperf BenchmarkSuite file"),
        ('{"version": "1.0", "benchm', "not readable JSON"),
        ("[" * 100_000, "not readable JSON"),
        (VALUES % '[0.1], "warmups": [1]', "warmups must"),
    ],
)
def test_a_corrupt_file_is_left_out_with_its_reason(tmp_path, text, reason):
    write(tmp_path, "3.13", "2026-01-01T00-00-00Z", suite(MATRIX))
    bad = write(tmp_path, "3.13", "2026-01-02T00-00-00Z", text)
    runs, problems = analysis.load(tmp_path)
    assert [r.started for r in runs] == ["2026-01-01T00-00-00Z"]
    (problem,) = problems
    assert problem.startswith(f"{bad}: ") and reason in problem, problem


def test_memory_values_may_be_zero_but_not_negative(tmp_path):
    document = suite(MATRIX)
    document["benchmarks"][0]["metadata"]["unit"] = "byte"
    document["benchmarks"][0]["runs"] = [{"values": [0, 4096]}]
    path = write(tmp_path, "3.13", "a", document)
    assert results.load_run(path)["benchmarks"][0]["runs"][0]["values"] == [0, 4096]
    document["benchmarks"][0]["runs"] = [{"values": [-1]}]
    write(tmp_path, "3.13", "a", document)
    with pytest.raises(ValueError, match=r"value -1 \(byte\) is negative"):
        results.load_run(path)


def test_compare_warns_about_a_corrupt_file_and_goes_on(tmp_path):
    write(tmp_path, "3.13", "2026-01-01T00-00-00Z", suite(MATRIX))
    write(tmp_path, "3.14", "2026-01-01T00-00-00Z", suite(MATRIX))
    bad = write(tmp_path, "3.14", "2026-01-02T00-00-00Z", '{"version": "1.0", "benchmarks": [], "labs": "x"}')
    done = lab_command("compare", "--results", str(tmp_path), "3.13", "3.14", timeout=60)
    assert "Traceback" not in done.stderr
    assert f"warning: left out {bad}: 'labs' must be an object, got str" in done.stderr
    assert done.returncode == 0, done.stderr


def test_tags_resolve_to_runs_of_the_same_mode_and_suites(tmp_path):
    write(tmp_path, "3.13", "2026-01-01T10-00-00Z", suite(MATRIX))
    write(tmp_path, "3.13", "2026-01-01T11-00-00Z", suite(COSTS))
    write(tmp_path, "3.13", "2026-01-01T12-00-00Z", suite(MATRIX + COSTS, mode="quick", processes=1))
    write(tmp_path, "3.13t", "2026-01-01T09-00-00Z", suite(MATRIX))
    write(tmp_path, "3.13t", "2026-01-01T13-00-00Z", suite(COSTS))
    runs, _ = analysis.load(tmp_path)
    # Each tag's newest run alone would be a quick run against a costs run: nothing comparable.
    assert [r.started for r in (analysis.resolve("3.13", runs), analysis.resolve("3.13t", runs))] == [
        "2026-01-01T12-00-00Z", "2026-01-01T13-00-00Z",
    ]  # fmt: skip
    base, other = analysis.resolve_all(["3.13", "3.13t"], runs)
    assert (base.started, other.started) == ("2026-01-01T11-00-00Z", "2026-01-01T13-00-00Z")
    assert base.kind == other.kind == ("default", frozenset({"transfer", "ladder"}))
    matrix_file = str(tmp_path / MACHINE / "3.13t" / "2026-01-01T09-00-00Z.json")
    base, other = analysis.resolve_all([f"{MACHINE}/3.13", matrix_file], runs)
    assert (base.started, other.started) == ("2026-01-01T10-00-00Z", "2026-01-01T09-00-00Z")


def test_the_suites_a_run_lists_win_over_its_benches(tmp_path):
    write(tmp_path, "3.13", "a", suite(MATRIX, suites=["matrix"]))
    (run,), _ = analysis.load(tmp_path)
    assert run.suites == frozenset({"matrix"})


def test_no_runs_of_a_shared_kind_is_a_clear_error(tmp_path):
    write(tmp_path, "3.13", "2026-01-01T10-00-00Z", suite(MATRIX, mode="quick"))
    write(tmp_path, "3.13t", "2026-01-01T11-00-00Z", suite(MATRIX))
    runs, _ = analysis.load(tmp_path)
    with pytest.raises(UsageError) as error:
        analysis.resolve_all(["3.13", "3.13t"], runs)
    assert str(error.value) == (
        "no runs of the same mode and suites to compare "
        "(3.13: quick matrix+startup; 3.13t: default matrix+startup)"
    )
