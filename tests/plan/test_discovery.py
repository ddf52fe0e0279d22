"""Discovery finds pyenv, uv and Debian-prefix installs with no PATH edit, and keeps each tag's choice
within one build recipe. Fake installs (a script answering the probe) make each case exact, for any
version the machine does or does not have (3.14t, 3.15t)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from labs.plan import discovery


def fake_python(path: Path, version: str, free_threaded: bool = False) -> Path:
    """An executable that answers discovery's probe as *version* would."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version} {int(free_threaded)} {path}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """Empty pyenv, uv and Debian roots, and a PATH with nothing on it."""
    paths = {name: tmp_path / name for name in ("pyenv", "uv", "debian")}
    monkeypatch.setenv("PYENV_ROOT", str(paths["pyenv"]))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(paths["uv"]))
    monkeypatch.setenv("LABS_DEBIAN_ROOT", str(paths["debian"]))
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    monkeypatch.delenv("LABS_BUILD_SOURCE", raising=False)
    return paths


def test_free_threaded_314_and_315_from_pyenv_and_uv(roots):
    pyenv = fake_python(roots["pyenv"] / "versions" / "3.14.2t" / "bin" / "python3.14t", "3.14.2", True)
    uv = fake_python(
        roots["uv"] / "cpython-3.15.1+freethreaded-linux-x86_64-gnu" / "bin" / "python3.15t", "3.15.1", True
    )
    # A default build in uv's folder of the same version is not taken for the free-threaded tag.
    fake_python(roots["uv"] / "cpython-3.15.1-linux-x86_64-gnu" / "bin" / "python3.15", "3.15.1")
    found, missing = discovery.discover(["3.14t", "3.15t", "3.15"])
    assert found["3.14t"] == discovery.Interpreter("3.14t", "3.14.2", str(pyenv), True, "pyenv")
    assert found["3.15t"] == discovery.Interpreter("3.15t", "3.15.1", str(uv), True, "uv")
    assert found["3.15"].source == "uv" and not found["3.15"].free_threaded
    assert missing == {}


def test_a_build_that_answers_with_the_wrong_build_or_version_is_not_taken(roots):
    fake_python(roots["pyenv"] / "versions" / "3.14.2t" / "bin" / "python3.14t", "3.14.2", False)
    fake_python(roots["pyenv"] / "versions" / "3.15.0" / "bin" / "python3.15", "3.13.5")
    found, missing = discovery.discover(["3.14t", "3.15"])
    assert found == {}
    assert set(missing) == {"3.14t", "3.15"} and "try `nox -s provision`" in missing["3.15"]


def test_debian_prefixes_are_found_without_path_and_tagged_debian(roots):
    sid = fake_python(roots["debian"] / "debian-sid" / "usr" / "bin" / "python3.14", "3.14.10")
    trixie = fake_python(roots["debian"] / "debian-trixie" / "usr" / "bin" / "python3.13", "3.13.5")
    found, _ = discovery.discover(["3.13", "3.14"])
    assert found["3.14"] == discovery.Interpreter("3.14", "3.14.10", str(sid), False, "debian")
    assert found["3.13"].path == str(trixie) and found["3.13"].venv_name == "3.13-debian"


def test_pyenv_is_preferred_and_the_twin_stays_within_its_source(roots, monkeypatch):
    """With a pyenv 3.13.5/3.13.5t pair and Debian's 3.13.5, 3.13 is pyenv's (same recipe as 3.13t);
    LABS_BUILD_SOURCE=debian asks for Debian's, and 3.13t (Debian has none) stays pyenv's."""
    pyenv = fake_python(roots["pyenv"] / "versions" / "3.13.5" / "bin" / "python3.13", "3.13.5")
    fake_python(roots["pyenv"] / "versions" / "3.13.9" / "bin" / "python3.13", "3.13.9")
    fake_python(roots["pyenv"] / "versions" / "3.13.5t" / "bin" / "python3.13t", "3.13.5", True)
    debian = fake_python(roots["debian"] / "debian-trixie" / "usr" / "bin" / "python3.13", "3.13.5")
    found, _ = discovery.discover(["3.13", "3.13t"])
    assert found["3.13"].path == str(pyenv), "the patch release of the free-threaded twin, from pyenv"
    assert found["3.13"].venv_name == "3.13"
    monkeypatch.setenv("LABS_BUILD_SOURCE", "debian")
    found, _ = discovery.discover(["3.13", "3.13t"])
    assert found["3.13"].path == str(debian)
    assert found["3.13t"].source == "pyenv"


def test_an_unknown_build_source_is_refused_naming_the_valid_ones(roots, monkeypatch):
    monkeypatch.setenv("LABS_BUILD_SOURCE", "conda")
    with pytest.raises(ValueError, match="valid: a comma list of pyenv, uv, debian, other"):
        discovery.discover(["3.13"])


def test_debian_provides_only_the_default_builds_it_packages():
    assert [t for t in discovery.MATRIX if discovery.debian_provides(t)] == ["3.13", "3.14", "3.15"]


def test_the_running_interpreter_is_found_by_its_real_probe(roots):
    """The probe itself, on a real interpreter placed where pyenv keeps its builds."""
    major, minor, micro = sys.version_info[:3]
    free_threaded = bool(__import__("sysconfig").get_config_var("Py_GIL_DISABLED"))
    suffix = "t" if free_threaded else ""
    folder = roots["pyenv"] / "versions" / f"{major}.{minor}.{micro}{suffix}" / "bin"
    folder.mkdir(parents=True)
    (folder / f"python{major}.{minor}{suffix}").symlink_to(getattr(sys, "_base_executable", sys.executable))
    found, _ = discovery.discover([f"{major}.{minor}{suffix}"])
    assert found[f"{major}.{minor}{suffix}"].version == f"{major}.{minor}.{micro}"
    assert found[f"{major}.{minor}{suffix}"].source == "pyenv"
