"""One package on one runtime: the five checks, each a dict with a status and, unless ok, a reason.

Statuses: "ok" (green), "fail" (the package does not survive this), "built" (no wheel, compiled here),
"n/a" (the question does not arise on this build), "skip" (an earlier check failed, so this one could
not run; the reason says which). The checks run in order because each needs the one before: nothing
imports without an install, and the GIL and the threads are only worth asking about after an import.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs.compat import sets, steps

CHECKS = ("wheel", "import", "gil", "subinterpreter", "threads")
MAX_SUSPECTS = 150  # extension modules loaded one by one to find the culprit; pandas has about 50
THREADS = 4
ROUNDS = 25


@dataclass(frozen=True)
class Options:
    step_timeout: float = 120
    install_timeout: float = 600
    build: bool = False
    smoke: tuple[str, ...] = ()  # user expressions, run for every package probed
    threads: int = THREADS


@dataclass
class Runtime:
    tag: str
    version: str
    interpreter: str  # the base interpreter
    free_threaded: bool
    venv_python: str = ""
    folder: Path = field(default_factory=Path)
    pip_python: str = ""  # whose pip installs into the venv: the base interpreter's, the venv's, the lab's


def _skip(reason: str) -> dict[str, Any]:
    return {"status": "skip", "reason": reason}


def _first_line(text: str | None, limit: int = 160) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "no detail")[:limit]


def _gil_culprits(messages: list[str]) -> list[str]:
    return [m for text in messages for m in re.findall(r"module '([^']+)'", text)]


def find_culprits(runtime: Runtime, suspects: list[list[str]], options: Options) -> list[str]:
    """The extension modules that switch the GIL back on, each loaded alone in a fresh process."""
    culprits: list[str] = []
    for name, path in suspects[:MAX_SUSPECTS]:
        loaded = steps.run_step(
            runtime.venv_python, "load", {"name": name, "path": path}, options.step_timeout
        )
        if loaded.get("gil_enabled"):
            named = _gil_culprits(loaded.get("gil_warnings", [])) or [name]
            culprits += [n for n in named if n not in culprits]
    return culprits


def gil_check(
    runtime: Runtime, imported: dict[str, Any], names: dict[str, Any], options: Options
) -> dict[str, Any]:
    """On a free-threaded build: still off after the import? If not, which modules turned it on."""
    if not runtime.free_threaded:
        return {"status": "n/a", "reason": "GIL build"}
    if not imported.get("gil_enabled"):
        return {"status": "ok"}
    suspects = {path: [name, path] for name, path in [*names.get("extensions", []), *imported["extensions"]]}
    culprits = find_culprits(runtime, list(suspects.values()), options)
    culprits = culprits or _gil_culprits(imported.get("gil_warnings", []))
    named = ", ".join(culprits[:3]) + (f" and {len(culprits) - 3} more" if len(culprits) > 3 else "")
    return {
        "status": "fail",
        "reason": f"GIL re-enabled by {named or 'an unnamed module'}",
        "culprits": culprits,
    }


def _qualified(name: str, modules: list[str]) -> tuple[str, str]:
    """(full dotted name, " (its dependency X)" or ""): an extension names itself by its short
    PyModuleDef name (_psutil_linux), which is matched against the package's own modules."""
    own = [m for m in modules if m == name or m.endswith("." + name)]
    if own:
        return own[0], ""
    top = name.split(".")[0]
    if "." in name and top not in {m.split(".")[0] for m in modules}:
        return name, f" (its dependency {top})"
    return name, ""


def subinterpreter_check(runtime: Runtime, modules: list[str], options: Options) -> dict[str, Any]:
    answer = steps.run_step(runtime.venv_python, "subinterpreter", {"modules": modules}, options.step_timeout)
    if not answer.get("ok"):
        return {"status": "fail", "reason": _first_line(answer.get("error"))}
    if answer.get("error"):
        refused = re.search(r"module (\S+) does not support loading in subinterpreters", answer["error"])
        if refused:  # the extension that lacks multi-phase init, wherever in the chain it is named
            culprit, via = _qualified(refused.group(1), modules)
            reason = f"{culprit}: does not support loading in subinterpreters{via}"
            return {"status": "fail", "reason": reason, "culprits": [culprit], "api": answer["api"]}
        return {"status": "fail", "reason": _first_line(answer["error"]), "api": answer["api"]}
    return {"status": "ok", "seconds": answer["seconds"], "api": answer["api"]}


def threads_check(runtime: Runtime, package: str, modules: list[str], options: Options) -> dict[str, Any]:
    known = sets.smoke_for(package)
    tests = [(known.imports, known.expr)] if known else []
    tests += [(tuple(modules), expr) for expr in options.smoke]
    if not tests:
        return {"status": "n/a", "reason": "no smoke test known (give one with --smoke EXPR)"}
    for imports, expr in tests:
        args = {"modules": list(imports), "expr": expr, "threads": options.threads, "rounds": ROUNDS}
        answer = steps.run_step(runtime.venv_python, "threads", args, options.step_timeout)
        if not answer.get("ok"):
            return {"status": "fail", "reason": f"{expr[:40]}: {_first_line(answer.get('error'))}"}
        if answer["errors"] or answer["wrong"]:
            why = answer["errors"][0] if answer["errors"] else f"{answer['wrong']} of {answer['calls']} wrong"
            return {"status": "fail", "reason": f"{options.threads} threads: {why}"[:160]}
    return {"status": "ok", "calls": answer["calls"], "seconds": answer["seconds"]}


def probe_package(runtime: Runtime, spec: str, name: str, options: Options) -> dict[str, Any]:
    """The five checks of one package on one runtime (its venv already made)."""
    start = time.monotonic()
    cell: dict[str, Any] = {"package": name, "runtime": runtime.tag, "spec": spec}
    pip = steps.pip_for(runtime.pip_python or runtime.interpreter, runtime.venv_python)
    cell["wheel"] = steps.install(pip, spec, name, runtime.folder, options.install_timeout, options.build)
    if cell["wheel"]["status"] not in ("ok", "built"):
        for check in CHECKS[1:]:
            cell[check] = _skip("not installed")
        return {**cell, "seconds": time.monotonic() - start}
    names = steps.run_step(runtime.venv_python, "names", {"distribution": name}, options.step_timeout)
    cell["version"] = names.get("version")
    if names.get("tags") and cell["wheel"]["status"] == "ok":
        cell["wheel"]["tags"] = ".".join(names["tags"])
    found = list(sets.import_names(name) or names.get("modules") or [name.replace("-", "_")])
    known = sets.smoke_for(name)  # its modules are where the compiled code is (lxml.etree, not lxml)
    modules = list(dict.fromkeys([*found, *(known.imports if known else ())]))
    cell["modules"] = modules
    extras = [dotted for dotted, _ in names.get("extensions", []) if dotted not in modules][:MAX_SUSPECTS]
    args = {"modules": modules, "extras": extras}
    imported = steps.run_step(runtime.venv_python, "import", args, options.step_timeout)
    if not imported.get("ok"):
        cell["import"] = {"status": "fail", "reason": _first_line(imported.get("error"))}
        for check in CHECKS[2:]:
            cell[check] = _skip("import failed")
        return {**cell, "seconds": time.monotonic() - start}
    cell["import"] = {"status": "ok", "seconds": imported["seconds"], "extras": len(imported["extras"])}
    if imported["extras_failed"]:
        cell["import"]["extras_failed"] = imported["extras_failed"]
    cell["gil"] = gil_check(runtime, imported, names, options)
    cell["subinterpreter"] = subinterpreter_check(runtime, [*modules, *imported["extras"]], options)
    cell["threads"] = threads_check(runtime, name, modules, options)
    return {**cell, "seconds": time.monotonic() - start}
