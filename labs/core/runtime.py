"""Facts about the running interpreter. Reading them has no side effects."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import sysconfig
from pathlib import Path
from typing import Any

from labs.core import interpreters_api


def free_threaded_build() -> bool:
    """True on a build configured with --disable-gil (Py_GIL_DISABLED)."""
    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def gil_enabled() -> bool:
    """Whether the GIL is enabled right now (an extension module can switch it back on)."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    return True if is_enabled is None else bool(is_enabled())


def usable_cpus() -> int:
    """CPUs this process may run on (affinity), which is what a pool can actually use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_start_method() -> str:
    """The start method multiprocessing would use, read without fixing it (get_context() would)."""
    chosen = multiprocessing.get_start_method(allow_none=True)
    if chosen:
        return chosen
    default = getattr(multiprocessing.context._default_context, "_default_context", None)
    return default.get_start_method() if default else "unknown"


def cpu_model() -> str:
    """The CPU's model name, or the platform's processor string."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def tag() -> str:
    """Short runtime tag used in result paths: 3.13, 3.13t, or 3.13t-gil when PYTHON_GIL=1 forces it on."""
    base = f"{sys.version_info.major}.{sys.version_info.minor}"
    if free_threaded_build():
        base += "t"
        if gil_enabled():
            base += "-gil"
    return base


# Where each kind of managed install lives by default; the environment variables move them, as their
# tools (and .ci/provision-debian-sid.sh) do.
_PYENV_ROOT = ("PYENV_ROOT", Path.home() / ".pyenv")
_UV_ROOT = ("UV_PYTHON_INSTALL_DIR", Path.home() / ".local" / "share" / "uv" / "python")
BUILD_SOURCES = ("pyenv", "uv", "debian", "other")
# In a venv (sys.prefix): pip's reason, left by nox, why the optional engines group (dask, celery) is not
# installed there. The noxfile writes it and labs.models.engines reads it.
ENGINES_NOTE = "labs-engines-missing.txt"


def _root(setting: tuple[str, Path]) -> Path:
    return Path(os.environ.get(setting[0]) or setting[1])


def build_source(prefix: str | os.PathLike[str]) -> str:
    """Who built the interpreter installed at *prefix* (its ``sys.base_prefix``): pyenv, uv, debian or other.

    Read from where it lives, because nothing inside a build says who configured it: a pyenv build is a
    folder of pyenv's versions, uv's one of uv's installs, Debian's the /usr of a Debian system or a
    prefix unpacked from Debian's packages by .ci/provision-debian-sid.sh (``<root>/debian-<suite>/usr``).
    """
    path = Path(prefix)
    if path.parent == _root(_PYENV_ROOT) / "versions" or "/.pyenv/versions/" in f"{path}/":
        return "pyenv"
    if path.parent == _root(_UV_ROOT) or "/uv/python/cpython-" in f"{path}/":
        return "uv"
    if path.name == "usr" and path.parent.name.startswith("debian-"):
        return "debian"
    if str(path) == "/usr" and Path("/etc/debian_version").exists():
        return "debian"
    return "other"


def _flag(config_args: str, flag: str, source: str) -> str:
    """'yes'/'no' from CONFIG_ARGS; Debian's packaging applies PGO and LTO from its rules through make
    variables that sysconfig does not keep, so there the answer is the packaging's, not configure's."""
    if flag in config_args:
        return "yes"
    return "by Debian's packaging (not in CONFIG_ARGS)" if source == "debian" else "no"


def _home_relative(path: str) -> str:
    """*path* with the home folder written ~: a stored run names no user."""
    home = str(Path.home())
    return "~" + path[len(home) :] if home != "/" and (path == home or path.startswith(home + "/")) else path


def build_recipe() -> dict[str, Any]:
    """How this interpreter was built: who built it, with which compiler, configure arguments and
    optimisation flags. Two versions compared across recipes measure the recipe as much as the version."""
    config_args = str(sysconfig.get_config_var("CONFIG_ARGS") or "")
    source = build_source(sys.base_prefix)
    configured = str(sysconfig.get_config_var("prefix") or "")
    if source == "other" and configured and configured != sys.base_prefix:
        # A build moved from where it was configured (.ci/offline-bundle.sh): who built it is told by
        # the prefix it was configured for.
        source = build_source(configured)
    return {
        "build_source": source,
        "build_prefix": _home_relative(sys.base_prefix),
        "build_compiler": platform.python_compiler(),
        "build_cc": str(sysconfig.get_config_var("CC") or ""),
        "build_config_args": config_args,
        "build_cflags": str(sysconfig.get_config_var("PY_CFLAGS") or ""),
        "build_pgo": _flag(config_args, "--enable-optimizations", source),
        "build_lto": _flag(config_args, "--with-lto", source),
    }


def facts() -> dict[str, Any]:
    """Everything the lab records about this runtime."""
    api_source, api_missing = interpreters_api.source()
    return {
        "tag": tag(),
        "implementation": sys.implementation.name,
        "version": platform.python_version(),
        "hexversion": sys.hexversion,
        "free_threaded_build": free_threaded_build(),
        "gil_enabled": gil_enabled(),
        "PYTHON_GIL": os.environ.get("PYTHON_GIL"),
        "interpreters_api": api_source,
        "interpreters_api_missing": api_missing,
        "start_methods": multiprocessing.get_all_start_methods(),
        "default_start_method": default_start_method(),
        "usable_cpus": usable_cpus(),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "machine": platform.machine(),
        "os": f"{platform.system()} {platform.release()}",
        "compiler": platform.python_compiler(),
        **build_recipe(),
    }
