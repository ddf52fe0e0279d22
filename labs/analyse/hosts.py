"""Which host each run ran on: names are not enough, so speed decides.

Runs of one machine id fall into hosts in two steps: what every run records of its host (kernel, CPU
model, core count: a different kernel build is already another host), then speed: a run whose
fingerprint differs by more than the threshold on any kernel from every host seen so far, or whose
full static facts differ, is a new host. A run without a fingerprint (older runs) keeps to its group,
marked unverified.

``check`` is what ``labs compare`` asks before it compares: two runs of different hosts are refused
(their difference would be the hosts'), unless normalizing was asked for, which divides the other
run's times by the ratio of the two fingerprints and says so.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from labs.analyse.runs import Run
from labs.core import machine
from labs.core.errors import UsageError


@dataclass(frozen=True)
class Host:
    """One host of a machine id: its group (kernel, CPU and core count, which every run records), its
    full static facts' id where recorded, and its speed class (0: no fingerprint, speed unverified)."""

    machine: str
    group: str
    static_id: str | None
    speed_class: int
    fingerprint: dict[str, Any] | None = field(compare=False)  # the first run's: the class's reference

    @property
    def label(self) -> str:
        speed = f"speed class {self.speed_class}" if self.speed_class else "speed unverified"
        return f"{self.machine}/{self.group} ({speed})"


def group_of(run: Run) -> str:
    """What every run, old or new, says of its host: kernel, CPU model and core count, hashed."""
    facts = run.record.get("runtime", {})
    return machine.static_id({k: facts.get(k) for k in ("os", "cpu_model", "cpu_count")})


def static_id_of(run: Run) -> str | None:
    host = run.record.get("host")
    return (
        host.get("static_id") if isinstance(host, dict) and isinstance(host.get("static_id"), str) else None
    )


def fingerprint_of(run: Run) -> dict[str, Any] | None:
    taken = run.record.get("fingerprint")
    start = taken.get("start") if isinstance(taken, dict) else None
    return start if isinstance(start, dict) and isinstance(start.get("seconds"), dict) else None


def assign(runs: list[Run]) -> dict[Run, Host]:
    """Each run's host (oldest first, so speed classes number in the order seen)."""
    hosts: dict[Run, Host] = {}
    seen: dict[tuple[str, str], list[Host]] = {}
    for run in sorted(runs, key=lambda r: (r.machine, r.started)):
        group, static, taken = group_of(run), static_id_of(run), fingerprint_of(run)
        known = seen.setdefault((run.machine, group), [])
        host = Host(run.machine, group, static, 0, None)
        if taken is not None:
            same = (
                h for h in known if h.static_id == static and machine.differ(h.fingerprint, taken) is False
            )
            host = next(same, None) or Host(run.machine, group, static, len(known) + 1, taken)
            if host not in known:
                known.append(host)
        hosts[run] = host
    return hosts


def same_host(a: Host, b: Host) -> bool:
    """Whether two runs' numbers may be set side by side: one host, or one group where the speeds
    cannot be compared (a run from before fingerprints, or fingerprints taken by two interpreters)."""
    same_group = (a.machine, a.group) == (b.machine, b.group)
    if not same_group:
        return False
    if a == b or not a.fingerprint or not b.fingerprint:
        return True
    return machine.differ(a.fingerprint, b.fingerprint) is None


def check(chosen: list[Run], normalize: bool = False) -> tuple[list[Run], list[str]]:
    """The runs to compare (normalized copies when asked) and lines to print; UsageError, one line,
    when two runs ran on different hosts and normalizing was not asked for or is impossible."""
    hosts = assign(chosen)
    base, notes, result = chosen[0], [], [chosen[0]]
    for other in chosen[1:]:
        a, b = hosts[base], hosts[other]
        if same_host(a, b):
            if a != b:
                unverified = "same host facts, speed unverified (no fingerprint)"
                notes.append(f"note: {other.label} and {base.label}: {unverified}")
            result.append(other)
            continue
        ratio = machine.speed_ratio(a.fingerprint, b.fingerprint) if a.fingerprint and b.fingerprint else None
        if not normalize or ratio is None:
            how = f"its fingerprint is {ratio:.2f}x the other's" if ratio else "its host facts differ"
            raise UsageError(
                f"{other.label} ran on another host than {base.label} ({b.label} vs {a.label}: {how}); "
                "a difference would be the host's, not the code's"
                + ("; pass --normalize to divide by the fingerprint ratio" if ratio else "")
            )
        result.append(normalized(other, 1.0 / ratio))
        notes.append(
            f"note: {other.label} NORMALIZED: its times divided by {ratio:.3f}, its host's speed ratio"
        )
    return result, notes


def newest_host(runs: list[Run], found: dict[Run, Host]) -> Host | None:
    """A report's host: the newest run's (``found``: every run's host, from ``assign``)."""
    newest = max(runs, key=lambda r: r.started, default=None)
    return found[newest] if newest is not None else None


def on_host(run: Run, host: Host | None, found: dict[Run, Host], normalize: bool) -> tuple[Run | None, str]:
    """*run* as a report of *host* may use it, and a line saying what was done: the run itself (no line)
    on the same host; with *normalize*, a copy with its times divided by the speed ratio when the hosts
    differ by speed alone (same machine group); else None and why it is left out."""
    other = found[run]
    if host is None or same_host(other, host):
        return run, ""
    ratio = _speed_ratio(host, other) if normalize else None
    if ratio is None:
        return None, f"{run.tag}/{run.path.name}: ran on another host ({other.label})"
    return normalized(run, 1.0 / ratio), (
        f"{run.tag}/{run.path.name} ({other.label}): times divided by {ratio:.3f}, its "
        "fingerprint's speed ratio to this report's host"
    )


def _speed_ratio(host: Host, other: Host) -> float | None:
    """How much slower *other* ran than *host*, when they differ by speed alone (same machine group)."""
    if (host.machine, host.group) != (other.machine, other.group):
        return None
    if not host.fingerprint or not other.fingerprint:
        return None
    return machine.speed_ratio(host.fingerprint, other.fingerprint)


def normalized(run: Run, factor: float) -> Run:
    """A copy of *run* with every time scaled by *factor* (non-time units untouched), labelled."""
    scaled = copy.deepcopy(run)
    scaled.tag = f"{run.tag}(normalized)"
    for bench in scaled.benches.values():
        if bench.metadata.get("unit", "second") == "second":
            bench.processes = [[v * factor for v in values] for values in bench.processes]
            bench.values = [v * factor for v in bench.values]
    return scaled
