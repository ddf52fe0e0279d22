"""Will the dependencies survive? The extension-compatibility table from results/<machine>/compat/."""

from __future__ import annotations

from typing import Any

from labs.compat import store, table
from labs.report import markdown
from labs.report.section import Section, section
from labs.report.view import MachineView

TITLE = "Will your dependencies survive? Extension compatibility"
LEGEND = (
    "✓ passed, ✗ failed, ⚠ no wheel (compiled here), – does not apply, · not run (an earlier check failed)"
)


def _findings(cells: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """One sentence per kind of breakage, naming the packages and the culprit modules."""
    kinds = {
        "gil": "re-enable the GIL on a free-threaded build",
        "subinterpreter": "refuse to load in a subinterpreter with its own GIL",
    }
    # The sample size, as every finding of the report states one: probes of packages on runtimes
    packages, runtimes = len({p for p, _ in cells}), len({r for _, r in cells})
    sample = f"n={len(cells)} probes of {packages} packages on {runtimes} runtimes"
    findings = []
    for check, what in kinds.items():
        hits = sorted(
            {
                f"{package} ({', '.join(cell[check].get('culprits', [])[:2]) or 'culprit unnamed'})"
                for (package, _), cell in cells.items()
                if cell.get(check, {}).get("status") == "fail"
            }
        )
        if hits:
            findings.append(f"{len(hits)} probed package(s) {what}: {', '.join(hits)} ({sample}).")
    no_wheel = sorted(
        {
            f"{package} on {runtime}"
            for (package, runtime), cell in cells.items()
            if cell.get("wheel", {}).get("status") in ("fail", "built")
            and "wheel" in str(cell["wheel"].get("reason"))
        }
    )
    if no_wheel:
        findings.append(f"No wheel, so a compiler is needed: {', '.join(no_wheel)} ({sample}).")
    return findings


def compatibility(view: MachineView) -> Section:
    cells = store.latest_cells(view.compat)
    if not cells:
        return section(TITLE, ["No compatibility probe stored (`python -m labs compat --set popular`)."])
    sources = sorted({d["source"] for d in view.compat})
    order = [p for d in view.compat for p in d.get("packages", [])]
    lines = [
        "Each package in a throwaway venv per runtime: installed from a wheel (its tags), imported (the "
        "time), the GIL read after the import with `PYTHON_GIL` unset (free-threaded builds; the module "
        "that turned it back on is found by loading each extension module alone), imported in a "
        "subinterpreter with its own GIL, and a known call checked from 4 threads against one thread.",
        "",
        f"Legend: {LEGEND}. Probe s: the seconds the probe took for that package on that runtime, "
        "install included.",
        "",
        *markdown.table(list(table.HEADERS), table.rows(cells, order)),
        "",
        f"From {', '.join(f'`{s}`' for s in sources)}; the newest probe of a package and runtime wins.",
    ]
    interrupted = [d["source"] for d in view.compat if d.get("interrupted")]
    left_out = [f"{s}: the probe was interrupted; its table is partial" for s in interrupted]
    return section(TITLE, lines, _findings(cells), left_out=left_out)
