"""Which code of the lab made a run: the git commit, and whether the code that ran differs from it.

The lab usually runs from a copy installed in a venv (nox installs the checkout, not in editable mode),
so "dirty" cannot be asked of git alone: the checkout may be clean while the venv holds older code, or
the reverse. Instead every file of the lab that is running is hashed the way git hashes a blob and
checked against the commit's tree. ``dirty`` is True when any file differs, is missing or is extra:
the numbers then came from code that no commit holds.

The checkout is the one the running lab lives in (an editable install or ``python -m labs`` from the
checkout), else the working directory's (nox runs every bench from the checkout). A copy installed far
from any checkout (the offline bundle of .ci/offline-bundle.sh) answers with what
``python -m labs.store.source --stamp`` recorded beside it when it was installed. Else commit and dirty
are None and ``why`` says so.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1]  # labs/
PACKAGED_SUFFIXES = (".py", ".css", ".js")  # what pyproject ships of labs/: the code and the report's assets
GIT_SECONDS = 10
STAMP = "source.json"  # in the package folder of an installed copy: describe() at install time


def _git(checkout: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(checkout), *args], capture_output=True, text=True, timeout=GIT_SECONDS
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _checkout() -> Path | None:
    for start in (PACKAGE.parent, Path.cwd()):
        top = _git(start, "rev-parse", "--show-toplevel")
        if top and (Path(top.strip()) / "labs" / "__init__.py").is_file():
            return Path(top.strip())
    return None


def blob_id(data: bytes) -> str:
    """The id git gives a file with these bytes (``git hash-object``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _running_files() -> dict[str, str]:
    files = {}
    for path in PACKAGE.rglob("*"):
        if path.is_file() and path.suffix in PACKAGED_SUFFIXES and "__pycache__" not in path.parts:
            files[f"labs/{path.relative_to(PACKAGE).as_posix()}"] = blob_id(path.read_bytes())
    return files


def _committed_files(checkout: Path, commit: str) -> dict[str, str] | None:
    listing = _git(checkout, "ls-tree", "-r", commit, "--", "labs")
    if listing is None:
        return None
    files = {}
    for line in listing.splitlines():
        meta, _, path = line.partition("\t")
        kind, blob = meta.split()[1:3]
        if kind == "blob" and path.endswith(PACKAGED_SUFFIXES):
            files[path] = blob
    return files


def describe() -> dict[str, Any]:
    """{"commit": full id or None, "dirty": bool or None, "changed": up to 5 differing files, "why": ...}."""
    checkout = _checkout()
    if checkout is None:
        try:
            stamped = json.loads((PACKAGE / STAMP).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"commit": None, "dirty": None, "why": "not running from or beside a git checkout"}
        return {**stamped, "why": "recorded when this copy of the lab was installed"}
    commit = (_git(checkout, "rev-parse", "HEAD") or "").strip() or None
    committed = _committed_files(checkout, commit) if commit else None
    if commit is None or committed is None:
        return {"commit": commit, "dirty": None, "why": "git could not read the checkout's commit"}
    running = _running_files()
    changed = sorted(
        path for path in running.keys() | committed.keys() if running.get(path) != committed.get(path)
    )
    return {"commit": commit, "dirty": bool(changed), "changed": changed[:5]}


def label(source: Any) -> str:
    """ "abc1234", "abc1234 (dirty)" or "unknown", for a run's stored ``source``."""
    if not isinstance(source, dict) or not isinstance(source.get("commit"), str):
        return "unknown"
    short = source["commit"][:7]
    dirty = source.get("dirty")
    return short if dirty is False else f"{short} (dirty)" if dirty else f"{short} (not checked)"


def stamp() -> dict[str, Any]:
    """Record describe() beside the running copy, for when it later runs far from any checkout."""
    described = describe()
    if described["commit"] is None or described.get("why"):
        raise SystemExit(f"ERROR: nothing to stamp: {described.get('why')}")
    (PACKAGE / STAMP).write_text(json.dumps(described) + "\n", encoding="utf-8")
    return described


if __name__ == "__main__":  # python -m labs.store.source [--stamp], from the checkout the lab came from
    if sys.argv[1:] not in ([], ["--stamp"]):
        print(
            f"ERROR: unknown arguments {' '.join(sys.argv[1:])!r}; valid: none, or --stamp", file=sys.stderr
        )
        raise SystemExit(2)
    print(json.dumps(stamp() if sys.argv[1:] else describe()))
