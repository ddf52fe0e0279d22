"""python -m labs compat: check the input, probe every package on every runtime, store the results.

Everything that can be wrong with the input is found before anything is created: the package names
(asked of the index through pip), the runtimes, the smoke expressions, the numbers. Then each runtime
gets one throwaway venv, the packages are probed one by one, and the file is written once at the end
(or, on Ctrl-C, with what was probed so far and "interrupted": true).
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from labs.compat import index, probe, sets, steps, store, table
from labs.core.errors import RunError, UsageError
from labs.plan import discovery
from labs.store import runs

NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def _spec_name(spec: str) -> str:
    """The project name of a requirement ("numpy>=2" -> "numpy") or of a local wheel file."""
    if spec.endswith(".whl"):
        if not Path(spec).is_file():
            raise UsageError(f"wheel file {spec!r} does not exist")
        return Path(spec).name.split("-", 1)[0]
    match = NAME.match(spec.strip())
    rest = spec.strip()[match.end() :].strip() if match else spec
    if not match or (rest and rest[0] not in "<>=!~[;@ "):
        raise UsageError(f"{spec!r} is not a package name or requirement (e.g. numpy, 'numpy>=2', a .whl)")
    return match.group(0)


def _requirements(path: str) -> list[str]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read requirements file {path!r}: {exc}") from None
    specs = [line.split("#", 1)[0].strip() for line in lines]
    options = [s for s in specs if s.startswith("-")]
    if options:
        raise UsageError(f"{path}: pip options are not probed ({options[0]!r}); list one requirement a line")
    return [s for s in specs if s]


def packages_of(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(spec, name) of every package asked for, in order, each once."""
    specs = list(args.packages or [])
    for path in args.requirements or []:
        specs += _requirements(path)
    for name in args.set or []:
        if name not in sets.SETS:
            raise UsageError(f"unknown set {name!r}; valid: {', '.join(sets.SETS)}")
        specs += sets.SETS[name]
    if not specs:
        raise UsageError("name at least one package, or use --requirements FILE or --set popular")
    found = {_key(spec): spec for spec in reversed(specs)}
    return [(spec, name) for name, spec in reversed(found.items())]


def _key(spec: str) -> str:
    """The name pip compares: case and '_' vs '-' do not matter."""
    return _spec_name(spec).lower().replace("_", "-")


def runtimes_of(text: str | None) -> tuple[list[probe.Runtime], dict[str, str]]:
    """The runtimes asked for (default: every matrix runtime here) and why the others are absent."""
    wanted = [t for t in (text or "").split(",") if t] if text else list(discovery.MATRIX)
    bad = [t for t in wanted if t not in discovery.MATRIX]
    if bad or not wanted:
        raise UsageError(f"unknown runtime {','.join(bad) or text!r}; valid: {', '.join(discovery.MATRIX)}")
    found, missing = discovery.discover(wanted)
    if text and missing:
        absent = ", ".join(f"{t} ({why})" for t, why in missing.items())
        raise UsageError(f"runtime not installed here: {absent}; found: {', '.join(found) or 'none'}")
    if not found:
        raise UsageError(f"no runtime of {', '.join(wanted)} found; try `nox -s provision`")
    chosen = [found[t] for t in wanted if t in found]
    return [probe.Runtime(i.tag, i.version, i.path, i.free_threaded) for i in chosen], missing


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1
    if not 0 < value <= 86400:
        raise UsageError(f"{what} must be a number of seconds in (0, 86400], not {text!r}")
    return value


def options_of(args: argparse.Namespace) -> probe.Options:
    for expr in args.smoke or []:
        try:
            compile(expr, "--smoke", "eval")
        except SyntaxError as exc:
            raise UsageError(f"--smoke {expr!r} is not a Python expression: {exc.msg}") from None
    return probe.Options(
        step_timeout=_number(args.timeout, "--timeout"),
        install_timeout=_number(args.install_timeout, "--install-timeout"),
        build=args.build,
        smoke=tuple(args.smoke or ()),
    )


def check_names(python: str, packages: list[tuple[str, str]]) -> str:
    """'reachable', or why the index could not be reached; UsageError for a name it does not have."""
    on_index = [name for spec, name in packages if not spec.endswith(".whl")]
    lookups = index.look_up_all(python, on_index)
    unknown = [lookup.package for lookup in lookups if lookup.found is False]
    if unknown:
        raise UsageError(
            f"not on the package index: {', '.join(unknown)} "
            "(check the spelling; valid: a project on pip's index, a requirement or a .whl file)"
        )
    unreachable = [lookup for lookup in lookups if lookup.found is None]
    if unreachable:
        note = f"index not reachable ({unreachable[0].detail}); probing with what pip can reach"
        print(f"note: {note}", file=sys.stderr)
        return note
    return "reachable"


def run(args: argparse.Namespace) -> int:
    packages = packages_of(args)
    options = options_of(args)
    runtimes, missing = runtimes_of(args.python)
    root = Path(args.results)
    index_state = check_names(runtimes[0].interpreter, packages)
    runs.check_writable(root)
    started = runs.utc_stamp()
    document: dict[str, Any] = {
        "kind": store.KIND,
        "format": store.FORMAT,
        "machine": runs.machine_id(),
        "started": started,
        "index": index_state,
        "packages": [name for _, name in packages],
        "runtimes": {r.tag: {"version": r.version, "free_threaded": r.free_threaded} for r in runtimes},
        "missing_runtimes": missing,
        "cells": [],
    }
    try:
        for runtime in runtimes:
            probe_runtime(runtime, packages, options, document)
    except KeyboardInterrupt:
        document["interrupted"] = True
        _finish(root, document)
        raise
    path = _finish(root, document)
    if not document["cells"]:
        raise RunError(f"nothing could be probed; see {path}")
    return 0


def probe_runtime(
    runtime: probe.Runtime, packages: list[tuple[str, str]], options: probe.Options, document: dict
) -> None:
    """Every package on one runtime, in one throwaway venv; each cell printed as it is done."""
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"labs-compat-{runtime.tag}-") as folder:
        try:
            runtime.folder = Path(folder)
            runtime.venv_python = steps.make_venv(runtime.interpreter, Path(folder) / "venv")
            pip_python, no_pip = steps.pip_owner(runtime.interpreter, runtime.venv_python)
            runtime.pip_python = pip_python or ""
        except OSError as exc:
            document["runtimes"][runtime.tag]["error"] = str(exc)
            print(f"{runtime.tag}: {exc}", file=sys.stderr)
            return
        for spec, name in packages:
            if no_pip:
                cell = probe.unprobed(runtime, spec, name, no_pip)
            else:
                cell = _without(probe.probe_package(runtime, spec, name, options), folder, "<probe-venv>")
            document["cells"].append(cell)
            checks = "; ".join(f"{c} {table.describe(cell, c)}" for c in probe.CHECKS)
            print(f"{runtime.tag} {name} [{cell['seconds']:.1f} s]: {checks}", flush=True)
    document["runtimes"][runtime.tag]["seconds"] = time.monotonic() - start


def _without(value: Any, text: str, stand_in: str) -> Any:
    """*value* with *text* (the throwaway folder, gone after the probe) replaced wherever it is quoted."""
    if isinstance(value, dict):
        return {k: _without(v, text, stand_in) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, text, stand_in) for v in value]
    return value.replace(text, stand_in) if isinstance(value, str) else value


def _finish(root: Path, document: dict[str, Any]) -> Path:
    document["finished"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    path = store.save(root, document)
    cells = {(c["package"], c["runtime"]): c for c in document["cells"]}
    rows = table.rows(cells, document["packages"])
    # The rendered table beside the data, for readers of the results folder (derived: safe to replace)
    rendered = [
        f"# Extension compatibility, {document['started']}",
        "",
        *table.markdown_table(table.HEADERS, rows),
    ]
    path.with_suffix(".md").write_text("\n".join(rendered) + "\n", encoding="utf-8")
    print()
    for line in table.text_table(table.HEADERS, rows):
        print(line)
    print(f"\nsaved {path} and its table {path.with_suffix('.md').name}")
    return path
