"""Bad input to `labs compat`: one ERROR line, exit 2, and nothing created (no results, no venv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from labs.compat import index
from labs.plan import discovery


def _assert_refused(result, tmp_path: Path, *words: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    # Progress lines ("compat: ...") may come first, while the index is asked; then the one error
    lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("compat: ")]
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), result.stderr
    for word in words:
        assert word in lines[0]
    assert not (tmp_path / "results").exists()


def _any_runtime() -> str:
    found, _ = discovery.discover(("3.12", "3.13", "3.13t"))
    return next(iter(found), None) or pytest.skip("no matrix runtime installed")


def test_a_name_not_on_the_index_is_refused_before_anything_is_created(cli, tmp_path):
    scratch = tmp_path / "tmp"  # the command's own temporary folder: where its venvs would go
    scratch.mkdir()
    name = "labs-no-such-project-7f3a9c"
    result = cli(
        "compat",
        "numpy",
        name,
        "--python",
        _any_runtime(),
        "--results",
        str(tmp_path / "results"),
        env={"TMPDIR": str(scratch)},
        timeout=180,
    )
    _assert_refused(result, tmp_path, name, "not on the package index")
    assert list(scratch.glob("labs-compat-*")) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), ("name at least one package",)),
        (("--set", "unpopular"), ("unknown set 'unpopular'", "popular")),
        (("numpy", "--python", "2.7"), ("unknown runtime", "3.13t")),
        (("numpy", "--smoke", "numpy.("), ("--smoke", "not a Python expression")),
        (("numpy", "--timeout", "-3"), ("--timeout",)),
        (("numpy", "--install-timeout", "soon"), ("--install-timeout",)),
        (("not a name!",), ("not a package name",)),
        (("missing-0.1-py3-none-any.whl",), ("does not exist",)),
    ],
)
def test_bad_arguments_are_one_error_line_and_exit_2(cli, tmp_path, args, words):
    result = cli("compat", *args, "--results", str(tmp_path / "results"))
    _assert_refused(result, tmp_path, *words)


def test_a_requirements_file_with_pip_options_is_refused(cli, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("numpy  # arrays\n-e .\n")
    result = cli("compat", "-r", str(requirements), "--results", str(tmp_path / "results"))
    _assert_refused(result, tmp_path, "pip options", "-e .")


def test_an_unreadable_requirements_file_is_refused(cli, tmp_path):
    result = cli("compat", "-r", str(tmp_path / "absent.txt"), "--results", str(tmp_path / "results"))
    _assert_refused(result, tmp_path, "cannot read requirements file")


OFFLINE = {
    "PIP_CONFIG_FILE": "/dev/null",  # no configured mirrors or extra indexes
    "PIP_INDEX_URL": "http://127.0.0.1:9/simple",  # a closed local port: an index that cannot be reached
    "PIP_EXTRA_INDEX_URL": "",
    "PIP_FIND_LINKS": "",
    "PIP_RETRIES": "0",
}


def test_an_unreachable_index_is_unknown_not_a_missing_name(monkeypatch):
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    found, _ = discovery.discover(("3.13", "3.12"))
    interpreter = next(iter(found.values()), None) or pytest.skip("no matrix runtime installed")
    lookup = index.look_up(interpreter.path, "numpy")
    assert lookup.found is None
    assert "127.0.0.1" in lookup.detail or "connection" in lookup.detail.lower()


def test_offline_the_probe_says_so_and_records_why_nothing_installed(cli, tmp_path):
    result = cli(
        "compat", "six", "--python", _any_runtime(), "--results", str(tmp_path), env=OFFLINE, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert "index not reachable" in result.stderr
    (stored,) = tmp_path.glob("*/compat/*.json")
    assert "index not reachable" in stored.read_text()
