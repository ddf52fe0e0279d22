"""The lab's commit and dirty flag, checked against real git in a throw-away checkout."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from labs.store import source

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(cwd, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=lab", "-c", "user.email=lab@example.invalid", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A git checkout holding a two-file lab, which `source` takes for the running lab."""
    lab = tmp_path / "repo" / "labs"
    lab.mkdir(parents=True)
    (lab / "__init__.py").write_text('"""lab"""\n')
    (lab / "work.py").write_text("X = 1\n")
    (lab / "notes.txt").write_text("not shipped\n")
    git(lab.parent, "init", "-q")
    git(lab.parent, "add", ".")
    git(lab.parent, "commit", "-q", "-m", "one")
    monkeypatch.setattr(source, "PACKAGE", lab)
    monkeypatch.chdir(tmp_path)
    return lab


def test_blob_id_is_what_git_computes(tmp_path):
    data = b"any bytes\x00\xff\n"
    (tmp_path / "f").write_bytes(data)
    assert source.blob_id(data) == git(tmp_path, "hash-object", "f")


def test_a_lab_equal_to_its_commit_is_clean(checkout):
    described = source.describe()
    assert described["commit"] == git(checkout.parent, "rev-parse", "HEAD")
    assert described["dirty"] is False and described["changed"] == []
    assert source.label(described) == described["commit"][:7]


def test_an_edited_file_makes_the_run_dirty_and_is_named(checkout):
    (checkout / "work.py").write_text("X = 2\n")
    (checkout / "notes.txt").write_text("edited, but not shipped: no matter\n")
    described = source.describe()
    assert described["dirty"] is True and described["changed"] == ["labs/work.py"]
    assert source.label(described).endswith("(dirty)")


@pytest.mark.parametrize("change", ["added", "removed"])
def test_a_file_added_or_removed_makes_the_run_dirty(checkout, change):
    if change == "added":
        (checkout / "extra.py").write_text("")
    else:
        (checkout / "work.py").unlink()
    assert source.describe()["dirty"] is True


def test_a_lab_beside_no_checkout_says_so(tmp_path, monkeypatch):
    lab = tmp_path / "copy" / "labs"
    lab.mkdir(parents=True)
    monkeypatch.setattr(source, "PACKAGE", lab)
    monkeypatch.chdir(lab)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never find a checkout above tmp_path
    described = source.describe()
    assert described["commit"] is None and described["dirty"] is None and described["why"]
    assert source.label(described) == "unknown"


def test_a_stamped_copy_far_from_its_checkout_keeps_its_commit(checkout, tmp_path, monkeypatch):
    stamped = source.stamp()
    far = tmp_path / "far" / "labs"
    shutil.copytree(checkout, far, ignore=shutil.ignore_patterns(".git"))
    monkeypatch.setattr(source, "PACKAGE", far)
    monkeypatch.chdir(far)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    described = source.describe()
    assert described["commit"] == stamped["commit"] and described["dirty"] is False
    assert "installed" in described["why"]
