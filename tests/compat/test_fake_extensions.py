"""The probe on real compiled extensions: a GIL re-enabler and a single-phase module, installed from
wheels built in the test, each detected for what it is and named as the culprit."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from labs.compat import probe, steps
from labs.plan import discovery

pytestmark = pytest.mark.interpreter  # each build loads extensions its own way

FREE_THREADED = ("3.13t", "3.14t")
ALL = ("3.12", "3.13", "3.13t", "3.14", "3.14t")


def _probe(interpreter, wheel: Path, module: str, smoke: tuple[str, ...] = (), timeout: float = 60) -> dict:
    with tempfile.TemporaryDirectory(prefix="labs-compat-test-") as folder:
        runtime = probe.Runtime(
            interpreter.tag, interpreter.version, interpreter.path, interpreter.free_threaded
        )
        runtime.folder = Path(folder)
        runtime.venv_python = steps.make_venv(interpreter.path, Path(folder) / "venv")
        runtime.pip_python = steps.pip_owner(interpreter.path, runtime.venv_python)[0] or ""
        options = probe.Options(step_timeout=timeout, install_timeout=120, smoke=smoke)
        return probe.probe_package(runtime, str(wheel), module, options)


@pytest.mark.parametrize("tag", ALL)
def test_a_module_without_py_mod_gil_is_named_for_reenabling_the_gil(fake_wheels, tag):
    interpreter, wheel = fake_wheels(tag, "fakegil")
    if not interpreter.free_threaded:
        pytest.skip(f"{tag} is a GIL build: there is no GIL to re-enable")
    cell = _probe(interpreter, wheel, "fakegil", smoke=("fakegil.add(2, 3)",))
    assert cell["wheel"]["status"] == "ok"
    assert "t-" in cell["wheel"]["tags"]  # a free-threaded wheel tag, e.g. cp313-cp313t-linux_x86_64
    assert cell["import"]["status"] == "ok"
    assert cell["gil"]["status"] == "fail"
    assert cell["gil"]["culprits"] == ["fakegil"]
    assert "fakegil" in cell["gil"]["reason"]
    assert cell["subinterpreter"]["status"] == "ok"  # it fails in one way only
    assert cell["threads"]["status"] == "ok"


@pytest.mark.parametrize("tag", ALL)
def test_a_single_phase_module_is_refused_by_an_own_gil_subinterpreter(fake_wheels, tag):
    interpreter, wheel = fake_wheels(tag, "fakesingle")
    cell = _probe(interpreter, wheel, "fakesingle", smoke=("fakesingle.add(2, 3)",))
    assert cell["import"]["status"] == "ok"
    assert cell["subinterpreter"]["status"] == "fail"
    assert cell["subinterpreter"]["culprits"] == ["fakesingle"]
    assert "does not support loading in subinterpreters" in cell["subinterpreter"]["reason"]
    assert cell["gil"]["status"] == ("ok" if interpreter.free_threaded else "n/a")
    assert cell["threads"]["status"] == "ok"


def test_a_wrong_smoke_result_or_error_fails_the_threads_check(fake_wheels):
    interpreter, wheel = fake_wheels("3.13", "fakesingle")
    cell = _probe(interpreter, wheel, "fakesingle", smoke=("fakesingle.add(2, 'x')",))
    assert cell["threads"]["status"] == "fail"
    assert "TypeError" in cell["threads"]["reason"]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("import ctypes\nctypes.string_at(0)\n", "crashed (SIGSEGV)"),
        ("while True:\n    pass\n", "hung: no answer within 3 s"),
        ("raise RuntimeError('broken on purpose')\n", "RuntimeError: broken on purpose"),
    ],
)
def test_a_crashing_hanging_or_failing_import_is_a_cell_with_its_reason(pure_wheel, code, reason):
    found, _ = discovery.discover(("3.13", "3.12", "3.13t"))
    interpreter = next(iter(found.values()), None) or pytest.skip("no matrix runtime installed")
    wheel = pure_wheel("fakebroken", code)
    cell = _probe(interpreter, wheel, "fakebroken", timeout=3)
    assert cell["wheel"]["status"] == "ok"
    assert cell["import"] == {"status": "fail", "reason": reason}
    assert [cell[c]["status"] for c in ("gil", "subinterpreter", "threads")] == ["skip"] * 3


def test_the_command_probes_a_wheel_and_stores_the_result(cli, fake_wheels, tmp_path):
    tag = next((t for t in FREE_THREADED if t in _found()), None) or pytest.skip("no free-threaded build")
    _, wheel = fake_wheels(tag, "fakegil")
    result = cli("compat", str(wheel), "--python", tag, "--results", str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stderr
    (stored,) = tmp_path.glob("*/compat/*.json")
    document = json.loads(stored.read_text())
    (cell,) = document["cells"]
    assert (cell["package"], cell["runtime"], cell["gil"]["culprits"]) == ("fakegil", tag, ["fakegil"])
    assert "GIL re-enabled by fakegil" in result.stdout
    assert str(Path.home()) not in stored.read_text()


def _found() -> set[str]:
    return set(discovery.discover(FREE_THREADED)[0])
