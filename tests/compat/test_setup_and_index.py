"""The probe's own machinery: runtimes found as nox finds them, a runtime the lab cannot set up told once
(not as a failed row per package), pip's own crash told apart from a package's result, and the index's
free-threaded wheels read from the file names pip's resolver picks."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from labs.compat import index, probe, runner, steps, store, table
from labs.core.errors import UsageError
from labs.plan import discovery

NUMPY_313T = "numpy-2.3.0-cp313-cp313t-manylinux_2_28_x86_64.whl"
# What pip 25 printed when the lab's pip was run under Python 3.15 with --python
PIP_ON_315 = """Traceback (most recent call last):
  File "/venv/lib/python3.13/site-packages/pip/__pip-runner__.py", line 49, in <module>
  File "/venv/lib/python3.13/site-packages/pip/_vendor/typing_extensions.py", line 3398, in <module>
    no_type_check_decorator = typing.no_type_check_decorator
AttributeError: module 'typing' has no attribute 'no_type_check_decorator'
"""


@pytest.mark.parametrize(
    ("filename", "version", "free"),
    [
        (NUMPY_313T, "2.3.0", ["cp313t"]),
        ("numpy-2.3.0-cp313-cp313-manylinux_2_28_x86_64.whl", "2.3.0", []),
        ("six-1.17.0-py2.py3-none-any.whl", "1.17.0", []),
        ("msgpack-1.1.1-cp314-cp314t-musllinux_1_2_aarch64.whl", "1.1.1", ["cp314t"]),
        ("pkg-1.0-2-cp313-cp313t.cp314t-linux_x86_64.whl", "1.0", ["cp313t", "cp314t"]),  # a build tag
    ],
)
def test_a_wheel_file_name_gives_its_version_and_free_threaded_abis(filename, version, free):
    found = index.wheel_abis(filename)
    assert found is not None and found[0] == version
    assert index.free_threaded(found[1]) == free


@pytest.mark.parametrize("filename", ["numpy-2.3.0.tar.gz", "numpy-2.3.0-cp313.whl", ""])
def test_anything_but_a_wheel_file_name_has_no_tags(filename):
    assert index.wheel_abis(filename) is None


def test_the_newest_release_decides_whether_a_free_threaded_wheel_is_there():
    older_313t = NUMPY_313T.replace("2.3.0", "2.2.0")
    newest_314t = NUMPY_313T.replace("cp313", "cp314")
    ok = index.summarize("2.3.0", {"cp313t": NUMPY_313T, "cp314t": newest_314t})
    assert (ok["status"], ok["abis"], ok["older"]) == ("ok", ["cp313t", "cp314t"], [])
    mixed = index.summarize("2.3.0", {"cp313t": older_313t, "cp314t": newest_314t})
    assert (mixed["abis"], mixed["older"]) == (["cp314t"], ["cp313t up to 2.2.0"])
    stale = index.summarize("2.3.0", {"cp313t": older_313t, "cp314t": None})
    assert stale["status"] == "fail" and stale["reason"] == "none in 2.3.0 (cp313t up to 2.2.0)"
    none = index.summarize("1.0", {"cp313t": None, "cp314t": None})
    assert (none["status"], none["reason"]) == ("fail", "none for this platform")
    pure = index.summarize("1.17.0", dict.fromkeys(("cp313t", "cp314t"), "six-1.17.0-py2.py3-none-any.whl"))
    assert pure["status"] == "n/a" and "pure Python" in pure["reason"]
    unknown = index.summarize(None, {"cp313t": None, "cp314t": None}, "index not reachable (x)")
    assert unknown["status"] == "skip"
    assert json.loads(json.dumps(ok)) == ok  # stored as it is


def test_a_dry_run_report_gives_the_file_pip_would_fetch():
    url = f"https://files.example/packages/ab/cd/{NUMPY_313T}"
    report = json.dumps({"install": [{"download_info": {"url": url}, "metadata": {"version": "2.3.0"}}]})
    assert index.file_from_report(0, report, "") == (NUMPY_313T, "")
    missing = "ERROR: No matching distribution found for orjson\n"
    assert index.file_from_report(1, "", missing) == (None, "")
    offline = "WARNING: Retrying after connection broken by 'NewConnectionError(Failed to establish a new'\n"
    file, why = index.file_from_report(1, "", offline + missing)
    assert file is None and why.startswith("index not reachable")
    assert index.file_from_report(0, "not json", "") == (None, "pip's report was unreadable")


def _cell(package: str, runtime: str) -> dict:
    checks = {c: {"status": "ok"} for c in probe.CHECKS}
    return {"package": package, "runtime": runtime, "seconds": 1.0, **checks}


def test_the_probe_table_has_the_index_column_and_the_report_keeps_its_own():
    cells = {("numpy", "3.13"): _cell("numpy", "3.13"), ("numpy", "3.14"): _cell("numpy", "3.14")}
    wheels = {"numpy": index.summarize("2.3.0", {"cp313t": NUMPY_313T, "cp314t": None})}
    headers = table.headers(index_column=True)
    body = table.rows(cells, ["numpy"], wheels)
    assert headers[3] == table.INDEX_HEADER and len(headers) == len(table.HEADERS) + 1
    assert [row[3] for row in body] == ["✓ cp313t"] * 2
    assert all(len(row) == len(headers) for row in body)
    assert all(len(row) == len(table.HEADERS) for row in table.rows(cells, ["numpy"]))  # the report's
    assert table.describe_index(None) == "· not asked"


def test_stored_index_wheels_are_checked_like_the_cells():
    document = {"kind": store.KIND, "started": "x", "cells": [_cell("numpy", "3.13")]}
    store.check({**document, "index_wheels": {"numpy": {"status": "ok", "abis": ["cp313t"]}}})
    store.check(document)  # files written before the column existed
    with pytest.raises(ValueError, match="index_wheels"):
        store.check({**document, "index_wheels": {"numpy": "yes"}})


def _interpreter(tag: str) -> discovery.Interpreter:
    version, free = discovery.split_tag(tag)
    return discovery.Interpreter(tag, f"{version}.1", f"/x/python{tag}", free, "pyenv")


def test_runtimes_are_found_as_nox_finds_them_and_a_missing_one_names_those_found(monkeypatch):
    calls = []

    def fake_discover(tags=discovery.MATRIX):
        calls.append(tuple(tags))
        found = {t: _interpreter(t) for t in tags if t in ("3.12", "3.13")}
        return found, {t: "not installed (looked in pyenv)" for t in tags if t not in found}

    monkeypatch.setattr(discovery, "discover", fake_discover)
    with pytest.raises(UsageError) as refused:
        runner.runtimes_of("3.13t")
    assert "3.13t (not installed (looked in pyenv))" in str(refused.value)
    assert str(refused.value).endswith("found: 3.12, 3.13")
    chosen, missing = runner.runtimes_of(None)
    assert [r.tag for r in chosen] == ["3.12", "3.13"] and "3.15" in missing
    assert calls == [discovery.MATRIX] * 2  # the whole matrix, the call nox's sessions make


def _document(*tags: str) -> dict:
    runtimes = {tag: {"version": f"{tag}.0", "free_threaded": False} for tag in tags}
    return {"runtimes": runtimes, "cells": [], "packages": ["a", "b", "c"]}


PACKAGES = [("a", "a"), ("b", "b"), ("c", "c")]


def test_a_runtime_the_lab_cannot_set_up_is_one_line_not_a_row_per_package(monkeypatch, capsys):
    why = "no pip runs on this Python (the lab's: AttributeError: module 'typing' has no attribute 'x')"
    monkeypatch.setattr(runner, "set_up", lambda runtime, folder: why)
    document, progress = _document("3.15"), runner.Progress(3)
    runtime = probe.Runtime("3.15", "3.15.0", "/x/python3.15", False)
    runner.probe_runtime(runtime, PACKAGES, probe.Options(), document, progress)
    assert document["cells"] == []
    assert document["runtimes"]["3.15"]["error"] == why
    assert runner.not_tested(document) == [f"could not test on 3.15: {why}"]
    err = capsys.readouterr().err.splitlines()
    assert [line for line in err if "could not test" in line] == [f"compat: could not test on 3.15: {why}"]
    assert progress.done == 3


def test_pip_crashing_on_the_first_package_ends_the_runtime_once(monkeypatch, capsys):
    monkeypatch.setattr(runner, "set_up", lambda runtime, folder: "")
    crashed = {"status": "fail", "reason": "pip itself failed: AttributeError: x", "pip_broke": True}
    monkeypatch.setattr(probe, "probe_package", lambda *args: {**_cell(args[2], "3.15"), "wheel": crashed})
    document = _document("3.15")
    runtime = probe.Runtime("3.15", "3.15.0", "/x/python3.15", False)
    runner.probe_runtime(runtime, PACKAGES, probe.Options(), document, runner.Progress(3))
    assert document["cells"] == []
    assert document["runtimes"]["3.15"]["error"] == crashed["reason"]
    assert capsys.readouterr().err.count("could not test on 3.15") == 1


def test_progress_goes_to_stderr_and_the_table_to_stdout(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(runner, "set_up", lambda runtime, folder: "")
    monkeypatch.setattr(probe, "probe_package", lambda runtime, spec, name, options: _cell(name, runtime.tag))
    document = {
        **_document("3.13"),
        "kind": store.KIND,
        "machine": "m",
        "started": "2026-01-01T00-00-00Z",
        "index_wheels": {n: {"status": "n/a", "reason": "pure Python: any build runs it"} for n in "abc"},
    }
    runtime = probe.Runtime("3.13", "3.13.0", "/x/python3.13", False)
    runner.probe_runtime(runtime, PACKAGES, probe.Options(), document, runner.Progress(3))
    runner._finish(tmp_path, document)
    out, err = capsys.readouterr()
    assert "compat: 3.13 b (2/3)..." in err.splitlines()
    assert all(line.startswith("compat: ") for line in err.splitlines())
    assert "compat:" not in out and table.INDEX_HEADER in out and "pure Python" in out


def test_pips_own_crash_is_told_apart_from_a_packages_result(monkeypatch, tmp_path):
    assert (
        steps.pip_crashed(PIP_ON_315)
        == "AttributeError: module 'typing' has no attribute 'no_type_check_decorator'"
    )
    assert steps.pip_crashed("ERROR: No matching distribution found for orjson\n") is None
    build = "error: subprocess-exited-with-error\nTraceback (most recent call last):\n  pip/_vendor/x.py\n"
    assert steps.pip_crashed(build) is None  # a package's build script: the package's result
    monkeypatch.setattr(steps, "run_process", lambda command, timeout: steps.Finished(2, PIP_ON_315, 0.1))
    found = steps.install(["pip"], "six", "six", tmp_path, 60, build=False)
    assert found["pip_broke"] and "no_type_check_decorator" in found["reason"]


def test_pip_runs_under_the_venv_as_it_is_or_pointed_at_it():
    assert steps.pip_for("/v/bin/python", "/v/bin/python")[:3] == ["/v/bin/python", "-m", "pip"]
    assert "--python" not in steps.pip_for("/v/bin/python", "/v/bin/python")
    assert steps.pip_for("/base/python", "/v/bin/python")[3:5] == ["--python", "/v/bin/python"]


# Integration: real interpreters, venvs and pip


def test_the_default_runtimes_are_noxs():
    found, _ = discovery.discover()
    chosen, _ = runner.runtimes_of(None)
    assert [(r.tag, r.interpreter) for r in chosen] == [(i.tag, i.path) for i in found.values()]


@pytest.mark.interpreter
def test_a_pip_is_found_that_runs_on_the_newest_python_here():
    found, missing = discovery.discover(("3.15", "3.14"))
    interpreter = next(iter(found.values()), None) or pytest.skip(f"no 3.14 or 3.15 here: {missing}")
    with tempfile.TemporaryDirectory(prefix="labs-compat-test-") as folder:
        venv = steps.make_venv(interpreter.path, Path(folder) / "venv")
        owner, why = steps.pip_owner(interpreter.path, venv)
        assert owner is not None, why
        assert steps.pip_runs(steps.pip_for(owner, venv)) == ""


@pytest.mark.integration
def test_the_index_is_asked_for_free_threaded_wheels_through_pip():
    answer = index.free_threaded_wheels(sys.executable, "six")
    if answer["status"] == "skip":
        pytest.skip(f"the index is not reachable here: {answer['reason']}")
    assert answer["status"] == "n/a" and answer["newest"]  # six is pure Python
    assert all(str(f).endswith("-none-any.whl") for f in answer["wheels"].values())
