"""Which host each run ran on: names are not enough, so speed decides, judged once per session.

A session is the runs one ``nox -s bench`` (or one ``labs bench``) made: they record its id. Runs stored
before sessions were recorded are grouped the way nox made them: one run after another, each starting
within SESSION_GAP_SECONDS of the previous one's end, each on a runtime the session has not measured.

Runs of one machine id fall into hosts in two steps: what every run records of its host (kernel, CPU
model, core count: a different kernel build is already another host), then speed, judged per session
from every fingerprint its runs took (the median of each kernel): a session whose typical speed differs
from every host seen so far by more than SPEED_CLASS_MARGIN is a new host. One busy minute moves one
reading, not a session's median, so it never splits a session or makes a host; a host 2.5x slower is
another host. A run without a fingerprint keeps to its group, marked unverified.

``check`` is what ``labs compare`` asks before it compares: two runs of different hosts are refused
(their difference would be the hosts'), unless normalizing was asked for, which divides the other
run's times by the ratio of the two fingerprints and says so. ``newest_host`` is the report's rule:
the host of the newest session among the runs it reports.
"""

from __future__ import annotations

import copy
import math
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from labs.analyse.runs import Run
from labs.core import machine
from labs.core.errors import UsageError
from labs.plan.selection import DEFAULT_WORKLOADS, model_names


@dataclass(frozen=True)
class Host:
    """One host of a machine id: its group (kernel, CPU and core count, which every run records), its
    full static facts' id where recorded, and its speed class (0: no fingerprint, speed unverified)."""

    machine: str
    group: str
    static_id: str | None
    speed_class: int
    fingerprint: dict[str, Any] | None = field(compare=False)  # its first session's median: the reference

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


SESSION_GAP_SECONDS = 600.0
SPEED_CLASS_MARGIN = 0.25  # the geometric mean over kernels, session against host: beyond it, another host


def _moment(text: object) -> float | None:
    """Seconds since the epoch of a stamp the lab wrote ("2026-11-30T01-48-50Z" or ISO 8601)."""
    if not isinstance(text, str):
        return None
    for form in ("%Y-%m-%dT%H-%M-%SZ", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            moment = datetime.strptime(text, form)
        except ValueError:
            continue
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
    return None


def sessions(runs: list[Run]) -> list[list[Run]]:
    """*runs* grouped into sessions, each oldest first, in the order they started."""
    grouped: dict[str, list[Run]] = {}
    inferred: list[list[Run]] = []
    for run in sorted(runs, key=lambda r: (r.machine, r.started)):
        named = run.record.get("session")
        if isinstance(named, str) and named:
            grouped.setdefault(f"{run.machine}/{named}", []).append(run)
            continue
        last = inferred[-1] if inferred else None
        if last and _continues(last, run):
            last.append(run)
        else:
            inferred.append([run])
    return sorted([*grouped.values(), *inferred], key=lambda group: (group[0].machine, group[0].started))


def _continues(session: list[Run], run: Run) -> bool:
    previous = session[-1]
    ended, started = _moment(previous.record.get("finished")), _moment(run.started)
    return (
        previous.machine == run.machine
        and ended is not None
        and started is not None
        and 0 <= started - ended <= SESSION_GAP_SECONDS
        and run.tag not in {r.tag for r in session}
    )


def pooled_fingerprint(runs: list[Run]) -> dict[str, Any] | None:
    """The median of each kernel over every fingerprint the runs took (start and end) with the first
    reading's interpreter: one judgement of the host's speed from many readings."""
    readings = []
    for run in runs:
        taken = run.record.get("fingerprint")
        for moment in ("start", "end"):
            one = taken.get(moment) if isinstance(taken, dict) else None
            seconds = one.get("seconds") if isinstance(one, dict) else None
            if isinstance(seconds, dict):  # a stored file is untrusted: only positive, finite timings
                kept = {k: v for k, v in seconds.items() if _positive(v)}
                if kept:
                    readings.append({"python": one.get("python"), "seconds": kept})
    if not readings:
        return None
    readings = [r for r in readings if r.get("python") == readings[0].get("python")]
    kernels = set.intersection(*(set(r["seconds"]) for r in readings))
    seconds = {k: statistics.median(r["seconds"][k] for r in readings) for k in sorted(kernels)}
    return {"python": readings[0].get("python"), "seconds": seconds, "readings": len(readings)}


def _positive(value: object) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    )


def _same_speed(a: dict[str, Any], b: dict[str, Any]) -> bool | None:
    ratio = machine.speed_ratio(a, b)
    return None if ratio is None else max(ratio, 1 / ratio) <= 1 + SPEED_CLASS_MARGIN


def assign(runs: list[Run]) -> dict[Run, Host]:
    """Each run's host: one per session (oldest first, so speed classes number in the order seen)."""
    hosts: dict[Run, Host] = {}
    seen: dict[tuple[str, str], list[Host]] = {}
    for session in sessions(runs):
        for group in {group_of(run) for run in session}:
            members = [run for run in session if group_of(run) == group]
            first = members[0]
            static, taken = static_id_of(first), pooled_fingerprint(members)
            known = seen.setdefault((first.machine, group), [])
            host = Host(first.machine, group, static, 0, None)
            if taken is not None:
                same = (h for h in known if h.static_id == static and _same_speed(h.fingerprint, taken))
                host = next(same, None) or Host(first.machine, group, static, len(known) + 1, taken)
                if host not in known:
                    known.append(host)
            hosts.update(dict.fromkeys(members, host))
    return hosts


def same_host(a: Host, b: Host) -> bool:
    """Whether two runs' numbers may be set side by side: one host, or one group where the speeds
    cannot be compared (a run from before fingerprints, or fingerprints taken by two interpreters)."""
    same_group = (a.machine, a.group) == (b.machine, b.group)
    if not same_group:
        return False
    if a == b or not a.fingerprint or not b.fingerprint:
        return True
    return _same_speed(a.fingerprint, b.fingerprint) is None


def check(
    chosen: list[Run], normalize: bool = False, among: list[Run] | None = None
) -> tuple[list[Run], list[str]]:
    """The runs to compare (normalized copies when asked) and lines to print; UsageError, one line,
    when two runs ran on different hosts, or on one host at speeds more than machine.THRESHOLD apart
    (their sessions' fingerprints: compare's 5% threshold would flag the host's speed that day), and
    normalizing was not asked for or is impossible. *among*: every stored run, so that each chosen run
    is judged with its session (a chosen run's stored file counts once)."""
    paths = {run.path for run in chosen}
    everything = [*chosen, *(r for r in among or [] if r.path not in paths)]
    hosts, speed = assign(everything), _session_speeds(everything)
    base, notes, result = chosen[0], [], [chosen[0]]
    for other in chosen[1:]:
        a, b = hosts[base], hosts[other]
        apart = machine.speed_ratio(speed[base], speed[other]) if speed[base] and speed[other] else None
        if same_host(a, b) and (apart is None or abs(apart - 1) <= machine.THRESHOLD):
            if a != b:
                unverified = "same host facts, speed unverified (no fingerprint)"
                notes.append(f"note: {other.label} and {base.label}: {unverified}")
            result.append(other)
            continue
        ratio = apart if same_host(a, b) else _speed_ratio(a, b)
        if not normalize or ratio is None:
            how = f"its fingerprint is {ratio:.2f}x the other's" if ratio else "its host facts differ"
            where = "at another speed on the same host" if same_host(a, b) else "on another host"
            raise UsageError(
                f"{other.label} ran {where} than {base.label} ({b.label} vs {a.label}: {how}); "
                "a difference would be the host's, not the code's"
                + (
                    "; pass --normalize to divide by the fingerprint ratio, or use --speedups"
                    if ratio
                    else ""
                )
            )
        result.append(normalized(other, 1.0 / ratio))
        notes.append(
            f"note: {other.label} NORMALIZED: its times divided by {ratio:.3f}, its host's speed ratio"
        )
    return result, notes


def _session_speeds(runs: list[Run]) -> dict[Run, dict[str, Any] | None]:
    """Each run's session's pooled fingerprint."""
    speeds: dict[Run, dict[str, Any] | None] = {}
    for group in sessions(runs):
        speeds.update(dict.fromkeys(group, pooled_fingerprint(group)))
    return speeds


def newest_host(runs: list[Run], found: dict[Run, Host]) -> Host | None:
    """A report's host: the newest session's among *runs* (``found``: every run's host, from
    ``assign``; a session has one host, so its newest run's is the session's)."""
    newest = max(runs, key=lambda r: r.started, default=None)
    return found[newest] if newest is not None else None


def complete(session: list[Run]) -> bool:
    """Whether *session* asked the whole default question (every default workload and model, the matrix
    and the costs, the default worker counts, start-up) and every run of it finished, none interrupted."""
    return all(_whole(run.record.get("selection")) for run in session) and all(
        run.record.get("finished") and not run.record.get("interrupted") for run in session
    )


def _whole(selection: object) -> bool:
    if not isinstance(selection, dict):
        return False

    def asked(field: str) -> set[str]:
        return set(selection.get(field) or ())

    return (
        set(DEFAULT_WORKLOADS) <= asked("workloads")
        and set(model_names()) <= asked("models")
        and {"matrix", "costs"} <= asked("suites")
        and "n-workers" in asked("patterns")
        and not selection.get("workers")
        and not selection.get("kind")
        and selection.get("startup") is not False
    )


def newest_complete_session(runs: list[Run]) -> list[Run] | None:
    """The newest complete session among *runs* (of one host); None when there is none."""
    done = [session for session in sessions(runs) if complete(session)]
    return max(done, key=lambda session: session[-1].started) if done else None


def session_id(run: Run) -> str:
    """The session a run names, else the first run of the session it was grouped with (older runs)."""
    named = run.record.get("session")
    return named if isinstance(named, str) and named else f"started {run.started}"


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
