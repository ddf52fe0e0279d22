"""Find the matrix's interpreters where pyenv and uv install them, without the user editing PATH.

pyenv's shims only answer for versions that PYENV_VERSION (or ``pyenv global``) lists, so the
version folders are searched directly; uv's managed interpreters likewise. When a default and a
free-threaded build of the same minor version are both present, the same patch version is preferred
for both, so that single-thread comparisons between them are fair.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from labs.core.tag import RuntimeTag

MATRIX = ("3.12", "3.13", "3.13t", "3.14", "3.14t", "3.15", "3.15t")
_PROBE = (
    "import platform, sys, sysconfig; "
    "print(platform.python_version(), int(bool(sysconfig.get_config_var('Py_GIL_DISABLED'))), sys.executable)"
)


@dataclass(frozen=True)
class Interpreter:
    tag: str  # "3.13t"
    version: str  # exact, "3.13.5"
    path: str
    free_threaded: bool


def split_tag(tag: str) -> tuple[str, bool]:
    """ "3.13t" -> ("3.13", True): a matrix tag names an interpreter binary, so no -gil control here."""
    parsed = RuntimeTag.parse(tag)
    if parsed.gil_forced:
        raise ValueError(f"not an interpreter tag: {tag!r} (a -gil control runs the {parsed.build} binary)")
    return parsed.version, parsed.free_threaded


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def candidate_paths(tag: str) -> list[str]:
    """Executables that may be *tag*: pyenv and uv installs, then PATH (minus pyenv's shims)."""
    minor, free_threaded = split_tag(tag)
    executable = f"python{minor}{'t' if free_threaded else ''}"
    suffix = "t" if free_threaded else ""
    found: list[str] = []
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for folder in glob.glob(str(pyenv_root / "versions" / f"{minor}.*")):
        if re.fullmatch(rf"{re.escape(minor)}\.\d+{suffix}", Path(folder).name):
            found.append(str(Path(folder) / "bin" / executable))
    uv_root = Path(
        os.environ.get("UV_PYTHON_INSTALL_DIR", Path.home() / ".local" / "share" / "uv" / "python")
    )
    pattern = f"cpython-{minor}.*{'+freethreaded' if free_threaded else ''}-*"
    for folder in glob.glob(str(uv_root / pattern)):
        if free_threaded or "+freethreaded" not in folder:
            found.append(str(Path(folder) / "bin" / executable))
    path_dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if "shims" not in Path(d).parts]
    on_path = shutil.which(executable, path=os.pathsep.join(path_dirs))
    if on_path:
        found.append(on_path)
    return [p for p in dict.fromkeys(found) if os.access(p, os.X_OK)]


def probe(path: str) -> tuple[str, bool] | None:
    """(exact version, free-threaded build) of the interpreter at *path*, or None if it does not run."""
    try:
        out = subprocess.run(
            [path, "-c", _PROBE], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    version, free_threaded, _ = out.split(maxsplit=2)
    return version, free_threaded == "1"


def _found(tag: str) -> list[Interpreter]:
    minor, free_threaded = split_tag(tag)
    result = []
    for path in candidate_paths(tag):
        facts = probe(path)
        if facts and facts[1] == free_threaded and facts[0].startswith(minor + "."):
            result.append(Interpreter(tag, facts[0], path, free_threaded))
    return sorted(result, key=lambda i: _version_key(i.version), reverse=True)


def discover(tags: tuple[str, ...] | list[str] = MATRIX) -> tuple[dict[str, Interpreter], dict[str, str]]:
    """(interpreters found by tag, reasons for the tags not found)."""
    found = {tag: _found(tag) for tag in tags}
    chosen: dict[str, Interpreter] = {}
    missing: dict[str, str] = {}
    for tag in tags:
        options = found[tag]
        if not options:
            missing[tag] = "not installed (looked in pyenv, uv and PATH; try `nox -s provision`)"
            continue
        parsed = RuntimeTag.parse(tag)
        twin_tag = str(parsed.default_twin if parsed.free_threaded else parsed.free_threaded_twin)
        twin_versions = (
            {i.version for i in found.get(twin_tag) or _found(twin_tag)} if twin_tag in MATRIX else set()
        )
        same_patch = [i for i in options if i.version in twin_versions]
        chosen[tag] = (same_patch or options)[0]
    return chosen, missing
