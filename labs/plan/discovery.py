"""Find the matrix's interpreters where pyenv, uv and the Debian provisioning install them, without
the user editing PATH.

pyenv's shims only answer for versions that PYENV_VERSION (or ``pyenv global``) lists, so the
version folders are searched directly; uv's managed interpreters likewise, and the prefixes that
.ci/provision-debian-sid.sh unpacks Debian's packages into (``$LABS_DEBIAN_ROOT/debian-<suite>``).

One interpreter is chosen per tag. Builds by different recipes (pyenv, uv, Debian) time differently
for reasons that are not the version, so the choice keeps to one source: the first of LABS_BUILD_SOURCE
(a comma list, e.g. ``debian``) that has the tag, else pyenv, uv, other (PATH), Debian. Within it, when a
default and a free-threaded build of the same minor version are both present, the same patch version
is preferred for both, so that single-thread comparisons between them are fair.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from labs.core import runtime
from labs.core.tag import RuntimeTag

MATRIX = ("3.12", "3.13", "3.13t", "3.14", "3.14t", "3.15", "3.15t")
_PROBE = (
    "import platform, sys, sysconfig; "
    "print(platform.python_version(), int(bool(sysconfig.get_config_var('Py_GIL_DISABLED'))), sys.executable)"
)


# The interpreters .ci/provision-debian-sid.sh takes from each Debian suite.
DEBIAN_SUITES = {"sid": ("3.14", "3.15"), "trixie": ("3.13",)}
_SOURCE_ORDER = ("pyenv", "uv", "other", "debian")  # the last resort last: a fallback, another recipe


@dataclass(frozen=True)
class Interpreter:
    tag: str  # "3.13t"
    version: str  # exact, "3.13.5"
    path: str
    free_threaded: bool
    source: str = "other"  # who built it: runtime.BUILD_SOURCES

    @property
    def venv_name(self) -> str:
        """The tag, plus the source for a Debian build: a venv per binary, so that a Debian 3.13 and a
        pyenv 3.13 never share one (and the usual builds keep the venvs they have)."""
        return self.tag if self.source != "debian" else f"{self.tag}-{self.source}"


def split_tag(tag: str) -> tuple[str, bool]:
    """ "3.13t" -> ("3.13", True): a matrix tag names an interpreter binary, so no -gil control here."""
    parsed = RuntimeTag.parse(tag)
    if parsed.gil_forced:
        raise ValueError(f"not an interpreter tag: {tag!r} (a -gil control runs the {parsed.build} binary)")
    return parsed.version, parsed.free_threaded


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def debian_root() -> Path:
    """Where .ci/provision-debian-sid.sh keeps its per-suite prefixes."""
    return Path(os.environ.get("LABS_DEBIAN_ROOT") or Path.home() / ".cache" / "gil-lab")


def source_of(path: str) -> str:
    """Who built the interpreter at *path* (``<prefix>/bin/python3.X``): pyenv, uv, debian or other."""
    return runtime.build_source(Path(path).parent.parent)


def source_order() -> tuple[str, ...]:
    """Sources in the order discovery prefers them: LABS_BUILD_SOURCE's first, then the usual order."""
    asked = [s.strip() for s in os.environ.get("LABS_BUILD_SOURCE", "").split(",") if s.strip()]
    bad = [s for s in asked if s not in runtime.BUILD_SOURCES]
    if bad:
        valid = ", ".join(runtime.BUILD_SOURCES)
        raise ValueError(f"LABS_BUILD_SOURCE has {', '.join(bad)}; valid: a comma list of {valid}")
    return tuple(dict.fromkeys([*asked, *_SOURCE_ORDER]))


def candidate_paths(tag: str) -> list[str]:
    """Executables that may be *tag*: pyenv, uv and Debian-prefix installs, then PATH (minus pyenv's
    shims)."""
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
    found.extend(sorted(glob.glob(str(debian_root() / "debian-*" / "usr" / "bin" / executable))))
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
            result.append(Interpreter(tag, facts[0], path, free_threaded, source_of(path)))
    rank = {source: index for index, source in enumerate(source_order())}
    return sorted(
        result, key=lambda i: (rank.get(i.source, len(rank)), [-n for n in _version_key(i.version)])
    )


def discover(tags: tuple[str, ...] | list[str] = MATRIX) -> tuple[dict[str, Interpreter], dict[str, str]]:
    """(interpreters found by tag, reasons for the tags not found)."""
    found = {tag: _found(tag) for tag in tags}
    chosen: dict[str, Interpreter] = {}
    missing: dict[str, str] = {}
    for tag in tags:
        options = found[tag]
        if not options:
            missing[tag] = (
                "not installed (looked in pyenv, uv, Debian prefixes and PATH; try `nox -s provision`)"
            )
            continue
        source = options[0].source  # the preferred source that has this tag; the choice stays within it
        options = [i for i in options if i.source == source]
        parsed = RuntimeTag.parse(tag)
        twin_tag = str(parsed.default_twin if parsed.free_threaded else parsed.free_threaded_twin)
        twins = (found.get(twin_tag) or _found(twin_tag)) if twin_tag in MATRIX else []
        twin_versions = {i.version for i in twins if i.source == source}
        same_patch = [i for i in options if i.version in twin_versions]
        chosen[tag] = (same_patch or options)[0]
    return chosen, missing


def debian_provides(tag: str) -> bool:
    """Whether .ci/provision-debian-sid.sh installs *tag* (Debian ships no free-threaded builds)."""
    parsed = RuntimeTag.parse(tag)
    return not parsed.free_threaded and any(parsed.version in v for v in DEBIAN_SUITES.values())
