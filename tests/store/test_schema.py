"""The run record's lab_* metadata: each key declared once, writes checked, reads typed, old runs upgraded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labs.analyse.runs import parse_run
from labs.measure.harness import runtime_metadata
from labs.plan.key import BenchKey
from labs.store import runs, schema, upgrade
from labs.store.schema import Kind, Meta

ROOT = Path(__file__).resolve().parents[2]
RESULTS = (ROOT / "results", ROOT / "tests" / "data" / "results")
FIXTURES = ROOT / "tests" / "data" / "results" / "2cpu-3354490b"
BEFORE_KEYS = FIXTURES / "3.13" / "2026-11-26T15-04-13Z.json"  # no lab_key; mixed benches without variants
BEFORE_CARRIER = FIXTURES / "3.13" / "2026-11-26T15-29-28Z.json"  # transfer benches name lab_channel


def committed_runs():
    for root in RESULTS:
        loaded, problems = runs.load_all(root)
        assert not problems
        yield from loaded


def test_every_key_in_the_committed_results_is_declared_and_of_its_type():
    """The test that catches a key written without a declaration: every stored lab_* key, once loaded."""
    benches = 0
    for path, data in committed_runs():
        common = data.get("metadata", {})
        for bench in data["benchmarks"]:
            metadata = {**common, **bench["metadata"]}
            try:
                schema.check(metadata)
                for run in bench["runs"]:
                    schema.check(run.get("metadata", {}))
            except ValueError as exc:
                pytest.fail(f"{path}: {metadata.get('name')}: {exc}")
            assert Meta.of(metadata).schema_version == schema.SCHEMA_VERSION
            benches += 1
    assert benches > 1000


@pytest.mark.parametrize(
    "values",
    [{"nope": 1}, {"channel": "mp-pipe"}, {"tasks": "8"}, {"workers": True}, {"cv": "0.1"}, {"kind": "gpu"}],
    ids=["undeclared", "renamed", "str-for-int", "bool-for-int", "str-for-float", "unknown-kind"],
)
def test_an_undeclared_key_or_a_value_of_the_wrong_type_is_refused_on_write(values):
    with pytest.raises(ValueError, match="lab_"):
        schema.checked(**values)
    with pytest.raises(ValueError, match="lab_"):
        schema.check({f"{schema.PREFIX}{name}": value for name, value in values.items()})


def test_a_write_stores_plain_values_under_the_declared_names():
    written = schema.checked(kind=Kind.IO, tasks=8, cv=0, precision_reached="none")
    assert written == {"lab_kind": "io", "lab_tasks": 8, "lab_cv": 0, "lab_precision_reached": "none"}
    assert type(written["lab_kind"]) is str  # the enum's value, as stored today
    assert schema.check({"name": "x", "unit": "second", **written}) == {
        "name": "x",
        "unit": "second",
        **written,
    }
    assert runtime_metadata("m")[schema.stored("schema_version")] == schema.SCHEMA_VERSION
    with pytest.raises(ValueError):
        schema.stored("nope")


def test_a_read_is_typed_and_none_where_absent_or_of_another_type():
    meta = Meta.of({"lab_kind": "cpu", "lab_tasks": "8", "lab_cv": 1, "lab_workers": 2, "lab_suspect": 3})
    assert meta.kind is Kind.CPU and meta.workers == 2
    assert meta.cv == 1.0 and isinstance(meta.cv, float)  # a whole number is a float too
    assert meta.tasks is None and meta.suspect is None and meta.model is None
    assert Meta.of({"lab_kind": "gpu"}).kind is None


def test_every_key_is_declared_once_with_a_type_a_meaning_and_a_place():
    assert len(schema.KEYS) == len(schema.STORED) == len(Meta.__dataclass_fields__)
    for name, key in schema.KEYS.items():
        assert key.name == name and key.stored == f"lab_{name}"
        assert key.types and key.meaning and key.where in schema.Where


def test_an_old_record_loads_upgraded():
    raw = json.loads(BEFORE_KEYS.read_text())
    assert not any(
        "lab_key" in b["metadata"] or "lab_schema_version" in b["metadata"] for b in raw["benchmarks"]
    )
    data = runs.load_run(BEFORE_KEYS)
    mixed = 0
    for bench in data["benchmarks"]:
        meta = Meta.of(bench["metadata"])
        assert meta.schema_version == schema.SCHEMA_VERSION
        assert BenchKey.from_metadata(bench["metadata"]).name == bench["metadata"]["name"]
        if str(meta.workload).startswith("mixed-"):
            assert meta.variant_of == "mixed" and meta.workload == f"mixed-cpu{meta.variant}"
            mixed += 1
    assert mixed
    assert json.loads(BEFORE_KEYS.read_text()) == raw  # the file is only read
    view = parse_run(BEFORE_KEYS, raw)  # a run handed to the analysis side directly is upgraded too
    assert all(bench.key is not None and bench.meta.schema_version == 2 for bench in view.benches.values())


def test_an_old_transfer_bench_names_its_carrier():
    data = runs.load_run(BEFORE_CARRIER)
    transfers = [b["metadata"] for b in data["benchmarks"] if b["metadata"].get("lab_kind") == "transfer"]
    assert transfers and all("lab_channel" not in m and Meta.of(m).carrier for m in transfers)


def test_a_built_old_record_is_upgraded_and_a_current_one_kept():
    old = {"name": "race/unsafe/t2", "lab_kind": "race", "lab_strategy": "unsafe", "lab_threads": 2}
    upgraded = upgrade.bench(old)
    assert BenchKey.from_metadata(upgraded) == BenchKey("race", subject="unsafe", workers=2)
    assert "lab_key" not in old  # the caller's mapping is left alone
    plain = upgrade.bench({"name": "a plain pyperf bench"})
    assert "lab_key" not in plain and upgrade.version(plain) == schema.SCHEMA_VERSION
    current = {"version": "1.0", "benchmarks": [{"metadata": {"lab_schema_version": 2, "lab_channel": "x"}}]}
    assert upgrade.run(current) is current  # nothing to do: not even copied


def test_the_enums_hold_the_strings_stored():
    assert [str(m) for m in schema.Mode] == ["quick", "default", "rigorous"]
    assert [str(s) for s in schema.RunSuite] == ["matrix", "costs"]
    assert {str(k) for k in Kind} == {"cpu", "io", "startup", "transfer", "memory", "ladder", "race"}
    kinds, suites, modes, run_suites = set(), set(), set(), set()
    for _, data in committed_runs():
        modes.add(data["labs"]["mode"])
        run_suites.update(data["labs"].get("suites", []))
        for bench in data["benchmarks"]:
            kinds.add(bench["metadata"].get("lab_kind"))
            suites.add(BenchKey.from_metadata(bench["metadata"]).suite)
    kinds.discard(None)  # the benches that record no kind (dispatch, fingerprint)
    assert kinds <= set(Kind) and suites <= set(schema.Suite)
    assert modes <= set(schema.Mode) and run_suites <= set(schema.RunSuite)
    assert kinds and suites and modes
