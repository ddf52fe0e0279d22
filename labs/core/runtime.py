"""Facts about the running interpreter. Reading them has no side effects."""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import sysconfig
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
    }
