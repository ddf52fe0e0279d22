"""What the machine is, read without side effects: its static facts and what would steady its timings.

Names alone do not identify a host: two virtual machines cloned from one image share /etc/machine-id,
the CPU model string and the core count while running on different hardware (seen here: the same
id 2.5x slower from one day to the next, the kernel build string the only visible difference). So a
run records everything readable about the host (``static_facts``), and the speed fingerprint
(``labs.measure.fingerprint``) tells hosts apart by how fast they are.
"""

from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

CPU = Path("/sys/devices/system/cpu")
THRESHOLD = 0.10  # a fingerprint this much faster or slower: a disturbed run, or two runs not to compare


def _read(path: Path | str) -> str | None:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    fields: dict[str, str] = {}
    for line in (_read("/proc/cpuinfo") or "").splitlines():
        if not line.strip():
            break
        name, _, value = line.partition(":")
        fields[name.strip()] = value.strip()
    return fields


def _caches() -> str:
    """L1d/L1i/L2/L3 sizes of CPU 0, e.g. "L1d 32K, L1i 32K, L2 512K, L3 32768K"."""
    parts = []
    for index in sorted((CPU / "cpu0" / "cache").glob("index*")):
        level, kind, size = (_read(index / name) for name in ("level", "type", "size"))
        if level and size:
            suffix = {"Data": "d", "Instruction": "i"}.get(kind or "", "")
            parts.append(f"L{level}{suffix} {size}")
    return ", ".join(parts) or "unknown"


def _memory_bytes() -> int | None:
    for line in (_read("/proc/meminfo") or "").splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return None


def _virtualization(cpuinfo: dict[str, str]) -> str:
    if "hypervisor" in cpuinfo.get("flags", "").split():
        vendor = _read("/sys/class/dmi/id/sys_vendor") or _read("/sys/hypervisor/type")
        return f"virtual machine ({vendor})" if vendor else "virtual machine"
    return "none seen"


def static_facts() -> dict[str, Any]:
    """Everything readable about this host that does not change while it runs."""
    cpuinfo = _cpuinfo()
    flags = " ".join(sorted(cpuinfo.get("flags", "").split()))
    return {
        "cpu_model": cpuinfo.get("model name") or platform.processor() or platform.machine(),
        "cpu_family_model_stepping": "/".join(
            cpuinfo.get(name, "?") for name in ("cpu family", "model", "stepping")
        ),
        "cpu_flags_hash": hashlib.sha256(flags.encode()).hexdigest()[:12] if flags else "unknown",
        "caches": _caches(),
        "cpu_count": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
        "kernel": platform.release(),
        "virtualization": _virtualization(cpuinfo),
        "governor": _read(CPU / "cpu0" / "cpufreq" / "scaling_governor") or "not exposed",
    }


def static_id(facts: dict[str, Any]) -> str:
    """A short hash of the static facts: different ids are different hosts (the same id may not be)."""
    text = "|".join(f"{key}={facts.get(key)}" for key in sorted(facts))
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def steadiness() -> list[tuple[str, str, str]]:
    """(what, what it is here, advice) for what makes timings jitter; advice only, nothing changed."""
    isolated = _read(CPU / "isolated") or ""
    smt = _read(CPU / "smt" / "active")
    no_turbo = _read(CPU / "intel_pstate" / "no_turbo")
    boost = _read(CPU / "cpufreq" / "boost")
    governor = _read(CPU / "cpu0" / "cpufreq" / "scaling_governor")
    load = os.getloadavg()
    tune = "`python -m pyperf system tune` can change this (and `system reset` undoes it)"
    return [
        ("isolated CPUs", isolated or "none", "" if isolated else f"isolating CPUs steadies timings; {tune}"),
        ("governor", governor or "not exposed", "" if governor in (None, "performance") else tune),
        (
            "turbo",
            "off" if no_turbo == "1" or boost == "0" else "on" if no_turbo or boost else "not exposed",
            tune if no_turbo == "0" or boost == "1" else "",
        ),
        (
            "SMT",
            {"1": "on", "0": "off"}.get(smt or "", "not exposed"),
            "a sibling thread shares a core" if smt == "1" else "",
        ),
        (
            "load average",
            f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
            "others are using the CPUs: timings will be noisy" if load[0] > 0.5 else "",
        ),
    ]


def ratios(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, float] | None:
    """after / before seconds per kernel; None when the two were not taken by the same interpreter."""
    if before.get("python") != after.get("python"):
        return None
    old, new = before.get("seconds", {}), after.get("seconds", {})
    shared = sorted(name for name in old if name in new and old[name] > 0)
    return {name: new[name] / old[name] for name in shared} or None


def speed_ratio(before: Mapping[str, Any], after: Mapping[str, Any]) -> float | None:
    """The geometric mean of the kernels' after/before ratios: how much slower *after*'s host is."""
    found = ratios(before, after)
    if not found:
        return None
    product = 1.0
    for value in found.values():
        product *= value
    return product ** (1.0 / len(found))
