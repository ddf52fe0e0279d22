"""The build recipe in each run's runtime facts: who built the interpreter, and how."""

from __future__ import annotations

import json
import sys
import sysconfig
from pathlib import Path

import pytest

from labs.core import runtime


@pytest.fixture
def roots(tmp_path, monkeypatch):
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "pyenv"))
    monkeypatch.setenv("UV_PYTHON_INSTALL_DIR", str(tmp_path / "uv"))
    return tmp_path


@pytest.mark.parametrize(
    ("prefix", "source"),
    [
        ("pyenv/versions/3.13.5t", "pyenv"),
        ("uv/cpython-3.14.0+freethreaded-linux-x86_64-gnu", "uv"),
        ("gil-lab/debian-sid/usr", "debian"),
        ("gil-lab/debian-trixie/usr", "debian"),
        ("opt/python3.14", "other"),
        ("gil-lab/debian-sid", "other"),  # the prefix's root is not an interpreter's prefix
    ],
)
def test_the_source_is_read_from_where_the_build_lives(roots, prefix, source):
    assert runtime.build_source(roots / prefix) == source


def test_the_default_pyenv_and_uv_locations_are_recognised_without_their_variables(monkeypatch):
    monkeypatch.delenv("PYENV_ROOT", raising=False)
    monkeypatch.delenv("UV_PYTHON_INSTALL_DIR", raising=False)
    assert runtime.build_source(Path.home() / ".pyenv" / "versions" / "3.12.1") == "pyenv"
    assert runtime.build_source("/home/ci/.local/share/uv/python/cpython-3.14.0-linux-x86_64-gnu") == "uv"


def test_this_interpreters_recipe_is_in_its_facts():
    facts = runtime.facts()
    config_args = sysconfig.get_config_var("CONFIG_ARGS") or ""
    assert facts["build_source"] == runtime.build_source(sys.base_prefix)
    assert facts["build_source"] in runtime.BUILD_SOURCES
    assert facts["build_config_args"] == config_args
    assert facts["build_cflags"] == (sysconfig.get_config_var("PY_CFLAGS") or "")
    assert facts["build_compiler"] == facts["compiler"]
    if facts["build_source"] != "debian":
        assert facts["build_pgo"] == ("yes" if "--enable-optimizations" in config_args else "no")
        assert facts["build_lto"] == ("yes" if "--with-lto" in config_args else "no")
    assert not facts["build_prefix"].startswith(str(Path.home()) + "/"), "a stored run names no user"
    json.dumps(facts)


def test_debian_builds_say_their_optimisation_comes_from_the_packaging():
    args = "'--enable-shared' '--prefix=/usr'"
    assert runtime._flag(args, "--enable-optimizations", "debian").startswith("by Debian's packaging")
    assert runtime._flag(args + " '--enable-optimizations'", "--enable-optimizations", "pyenv") == "yes"
    assert runtime._flag(args, "--with-lto", "pyenv") == "no"


def test_a_build_moved_from_where_it_was_configured_keeps_its_builder(roots, monkeypatch):
    configured = str(roots / "pyenv" / "versions" / "3.13.5")
    real = sysconfig.get_config_var
    monkeypatch.setattr(sys, "base_prefix", str(roots / "unpacked" / "python-3.13.5"))
    monkeypatch.setattr(sysconfig, "get_config_var", lambda key: configured if key == "prefix" else real(key))
    assert runtime.build_recipe()["build_source"] == "pyenv"
