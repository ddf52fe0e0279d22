"""Setup: the machine, each runtime in the view, its mode and the files it comes from."""

from __future__ import annotations

from labs.report import markdown
from labs.report.section import Section, section
from labs.report.view import MachineView

HEADER = [
    "runtime",
    "Python",
    "build",
    "GIL",
    "PYTHON_GIL",
    "interpreters API",
    "mode",
    "pyperf options",
    "benches / failed",
    "files",
]


def setup(view: MachineView) -> Section:
    first = next(iter(view.runtimes.values()))
    facts = first.facts
    lines = [
        f"Machine `{view.machine}`: {facts.get('cpu_model', '?')}, {facts.get('cpu_count', '?')} CPUs, "
        f"{facts.get('usable_cpus', '?')} usable by the lab (affinity), {facts.get('os', '?')}. "
        f"Every runtime below is read from its {view.mode}-mode runs only.",
        "",
    ]
    rows = []
    for tag, runtime in view.runtimes.items():
        rt = runtime.facts
        rows.append(
            [
                str(tag),
                runtime.version,
                "free-threaded" if rt.get("free_threaded_build") else "default",
                "on" if rt.get("gil_enabled") else "off",
                str(rt.get("PYTHON_GIL") or "unset"),
                str(rt.get("interpreters_api") or "unavailable"),
                runtime.mode,
                " ".join(runtime.record.get("pyperf_options", [])),
                f"{len(runtime.benches)} / {len(runtime.failed)}",
                ", ".join(f"`{source}`" for source in runtime.sources),
            ]
        )
    lines += markdown.table(HEADER, rows)
    for default, free in view.twins():
        versions = (view.runtimes[default].version, view.runtimes[free].version)
        if versions[0] != versions[1]:
            lines += [
                "",
                f"**Warning:** {default} is {versions[0]} but {free} is {versions[1]}: "
                "single-thread comparisons between them mix two patch releases.",
            ]
    return section("Setup", lines)
