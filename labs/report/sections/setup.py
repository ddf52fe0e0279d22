"""Setup: the machine, each runtime in the view, its mode and the files it comes from."""

from __future__ import annotations

from labs.analyse import hosts, noise
from labs.report import markdown
from labs.report.section import Section, section
from labs.report.view import MachineView, RuntimeView

HEADER = [
    "runtime",
    "Python",
    "build",
    "GIL",
    "PYTHON_GIL",
    "interpreters API",
    "default start method",
    "mode",
    "pyperf options",
    "benches / failed",
    "runs",
]


def _known(fact: object, yes: str, no: str) -> str:
    return yes if fact is True else no if fact is False else "unknown"


def setup(view: MachineView) -> Section:
    first = next(iter(view.runtimes.values()))
    facts = first.facts
    lines = [
        f"Machine `{view.machine}`: {facts.get('cpu_model', '?')}, {facts.get('cpu_count', '?')} CPUs, "
        f"{facts.get('usable_cpus', '?')} usable by the lab (affinity), {facts.get('os', '?')}. "
        f"Every runtime below is read from its {view.mode}-mode runs only.",
        "",
    ]
    lines += markdown.table(HEADER, [_row(str(tag), runtime) for tag, runtime in view.runtimes.items()])
    files = [  # the lab's commit where the run recorded it (runs before 2026-11-30 did not)
        [str(tag), f"`{source}`", commit]
        for tag, runtime in view.runtimes.items()
        for source, commit in zip(runtime.sources, runtime.commits, strict=True)
    ]
    lines += ["", _read_from(view), ""]
    lines += markdown.table(["runtime", "file", "lab commit"], files)
    lines += [
        "",
        "Every processes result names its start method (processes-fork, -spawn, -forkserver); the default "
        "start method column says which of them code that does not choose gets on each runtime "
        "(forkserver from 3.14 on Linux).",
    ]
    for default, free in view.twins():
        versions = (view.runtimes[default].version, view.runtimes[free].version)
        if versions[0] != versions[1]:
            lines += [
                "",
                f"**Warning:** {default} is {versions[0]} but {free} is {versions[1]}: "
                "single-thread comparisons between them mix two patch releases.",
            ]
    if view.normalized:
        lines += [
            "",
            "Normalized (`labs report --normalize`): runs of this machine from another speed class, kept "
            "with their times scaled to this report's host; cross-run time ratios built on them carry that "
            "scaling, speedups (timed within one run) do not:",
            "",
            *[f"- {line}" for line in view.normalized],
        ]
    noise_line = (
        f"Noise profile of this host (`{noise.FILE}` beside this report): {view.noise.describe()}. A "
        "quantity that compares two runs measured apart in time (two sessions) moves by that much beyond "
        "its runs' own intervals, and `labs compare` adds it to such comparisons; runs of one session, "
        "their processes alternating, share the host's drift and need none."
    )
    return section("Setup", [*lines, "", noise_line, *_hosts(view)])


def _row(tag: str, runtime: RuntimeView) -> list[str]:
    facts = runtime.facts
    return [
        tag,
        runtime.version,
        _known(facts.get("free_threaded_build"), "free-threaded", "default"),
        _known(facts.get("gil_enabled"), "on", "off"),  # a plain pyperf file does not say
        str(facts.get("PYTHON_GIL") or "unset"),
        str(facts.get("interpreters_api") or "unavailable"),
        str(facts.get("default_start_method") or "unknown"),
        runtime.mode,
        " ".join(runtime.record.get("pyperf_options", [])),
        f"{len(runtime.benches)} / {len(runtime.failed)}",
        str(len(runtime.sources)),
    ]


def _read_from(view: MachineView) -> str:
    if view.session:
        return (
            f"The runs each runtime is read from: session `{view.session}` alone, the newest complete "
            "session of this host (its runtimes measured in the same minutes; older sessions are named "
            "under Left out, and `labs report --all-sessions` merges them):"
        )
    return (
        "The runs each runtime is read from, every session merged (`--all-sessions`, `--normalize`, or no "
        "session that asked the whole default question and finished: a newer run's bench replaces an "
        "older one's, so one table may hold numbers measured days apart):"
    )


def _fingerprint(host: hosts.Host) -> str:
    if not host.fingerprint:
        return "none recorded"
    seconds = host.fingerprint.get("seconds", {})
    return ", ".join(f"{name} {value * 1e3:.0f} ms" for name, value in seconds.items())


def _hosts(view: MachineView) -> list[str]:
    """Every host seen under this machine id (told apart by speed), which one this report reads, and
    the runs whose speed moved while they ran."""
    seen: dict[hosts.Host, list[str]] = {}
    for run in sorted(view.all_runs, key=lambda r: r.started):
        seen.setdefault(view.host_of[run], []).append(run.started)
    rows = [
        [
            host.label + (" **(this report)**" if view.host and hosts.same_host(host, view.host) else ""),
            str(len(started)),
            f"{started[0]} .. {started[-1]}",
            _fingerprint(host),
        ]
        for host, started in seen.items()
    ]
    disturbed = [
        f"{run.tag}/{run.path.name} (speed moved {run.record['fingerprint'].get('drift', 0):.0%})"
        for run in view.all_runs
        if isinstance(run.record.get("fingerprint"), dict) and run.record["fingerprint"].get("disturbed")
    ]
    lines = [
        "",
        "Hosts seen under this machine id: one name can hide several hosts, so runs are grouped by "
        "kernel and CPU, then by speed: a fingerprint (integer, float, memory and system-call kernels) "
        "is taken at both ends of every run, and each session's host is judged from the median of all "
        "its readings, another host when its typical speed differs by more than "
        f"{hosts.SPEED_CLASS_MARGIN:.0%} (a busy minute moves one reading, not a session). Only this "
        "report's host, the newest session's, is read; runs from before fingerprints are marked speed "
        "unverified.",
        "",
        *markdown.table(["host", "runs", "started (UTC)", "fingerprint (seconds per kernel)"], rows),
    ]
    if disturbed:
        lines += ["", "Disturbed runs (the machine's speed moved during the run): " + "; ".join(disturbed)]
    return lines
