"""python -m labs compat: check the input, probe every package on every runtime, store the results.

Everything that can be wrong with the input is found before anything is created: the package names
(asked of the index through pip), the runtimes, the smoke expressions, the numbers. Then each runtime
gets one throwaway venv, the packages are probed one by one, and the file is written once at the end
(or, on Ctrl-C, with what was probed so far and "interrupted": true).

Progress goes to stderr, one line as each step starts or ends, so stdout holds the result alone. A
runtime the lab cannot set up (no venv, no pip that runs there) is one line for that runtime, the
lab's failure, never a row per package as if the packages had failed.
"""

from __future__ import annotations

import argparse
import datetime
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labs.compat import index, probe, sets, steps, store, table
from labs.core.errors import RunError, UsageError
from labs.plan import discovery
from labs.store import runs

NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")


def say(text: str) -> None:
    """One progress line on stderr."""
    print(f"compat: {text}", file=sys.stderr, flush=True)


@dataclass
class Progress:
    """The "(3/12)" of the progress lines: one step per package on each runtime."""

    total: int
    done: int = 0

    def next(self, runtime: str, name: str) -> str:
        self.done += 1
        return f"{runtime} {name} ({self.done}/{self.total})"


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
    # The whole matrix, found as nox's sessions find it, so that a message names what is here
    found, missing = discovery.discover()
    absent = {t: missing.get(t, "not installed") for t in wanted if t not in found}
    if text and absent:
        named = ", ".join(f"{t} ({why})" for t, why in absent.items())
        raise UsageError(f"runtime not installed here: {named}; found: {', '.join(found) or 'none'}")
    chosen = [found[t] for t in wanted if t in found]
    if not chosen:
        raise UsageError(f"no runtime of {', '.join(wanted)} found; try `nox -s provision`")
    return [probe.Runtime(i.tag, i.version, i.path, i.free_threaded) for i in chosen], absent


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


def index_python(runtimes: list[probe.Runtime]) -> str:
    """Whose pip asks the index: the lab's own, else the first runtime's with a pip (a distribution's
    Python often has none, and its missing pip must not read as an unreachable index)."""
    candidates = list(dict.fromkeys([sys.executable, *(r.interpreter for r in runtimes)]))
    return next((p for p in candidates if not steps.pip_runs([p, "-m", "pip"])), sys.executable)


def check_names(python: str, packages: list[tuple[str, str]]) -> str:
    """'reachable', or why the index could not be reached; UsageError for a name it does not have."""
    on_index = [name for spec, name in packages if not spec.endswith(".whl")]
    if on_index:
        say(f"asking the index about {len(on_index)} name(s)...")
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
    python = index_python(runtimes)
    index_state = check_names(python, packages)
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
        "index_wheels": index_wheels(python, packages, index_state),
        "cells": [],
    }
    progress = Progress(len(runtimes) * len(packages))
    try:
        for runtime in runtimes:
            probe_runtime(runtime, packages, options, document, progress)
    except KeyboardInterrupt:
        document["interrupted"] = True
        _finish(root, document)
        raise
    path = _finish(root, document)
    if not document["cells"]:
        raise RunError(f"nothing could be probed; see {path}")
    return 0


def index_wheels(python: str, packages: list[tuple[str, str]], index_state: str) -> dict[str, Any]:
    """package -> whether its newest release on the index has a free-threaded wheel for this platform."""
    found: dict[str, Any] = {}
    for spec, name in packages:
        if spec.endswith(".whl"):
            found[name] = {"status": "n/a", "reason": "a local wheel file"}
        elif index_state != "reachable":  # each question would only wait for its timeout
            found[name] = {"status": "skip", "reason": "index not reachable"}
    asked = [name for _, name in packages if name not in found]
    if asked:
        say(f"asking the index for free-threaded wheels of {len(asked)} package(s)...")
    count = iter(range(1, len(asked) + 1))

    def done(name: str, answer: dict[str, Any]) -> None:
        say(f"index: {name} ({next(count)}/{len(asked)}): {table.describe_index(answer)}")

    found.update(index.free_threaded_all(python, asked, done))
    return {name: found[name] for _, name in packages}


def set_up(runtime: probe.Runtime, folder: Path) -> str:
    """The runtime's venv and the pip that installs into it; '' when ready, else why not."""
    say(f"{runtime.tag}: making a venv with {runtime.interpreter}...")
    try:
        runtime.venv_python = steps.make_venv(runtime.interpreter, folder / "venv")
    except OSError as exc:
        return str(exc)
    say(f"{runtime.tag}: finding a pip that runs on {runtime.version}...")
    pip_python, no_pip = steps.pip_owner(runtime.interpreter, runtime.venv_python)
    runtime.pip_python = pip_python or ""
    return no_pip


def probe_runtime(
    runtime: probe.Runtime,
    packages: list[tuple[str, str]],
    options: probe.Options,
    document: dict,
    progress: Progress,
) -> None:
    """Every package on one runtime, in one throwaway venv; each cell told as it is done."""
    start, first = time.monotonic(), progress.done
    with tempfile.TemporaryDirectory(prefix=f"labs-compat-{runtime.tag}-") as folder:
        runtime.folder = Path(folder)
        failure = set_up(runtime, Path(folder))
        for spec, name in [] if failure else packages:
            say(f"{progress.next(runtime.tag, name)}...")
            cell = _without(probe.probe_package(runtime, spec, name, options), folder, "<probe-venv>")
            if cell["wheel"].get("pip_broke"):  # pip itself broke: no package can be told apart
                failure = cell["wheel"]["reason"]
                break
            document["cells"].append(cell)
            checks = "; ".join(f"{c} {table.describe(cell, c)}" for c in probe.CHECKS)
            say(f"{runtime.tag} {name} [{cell['seconds']:.1f} s]: {checks}")
    info = document["runtimes"][runtime.tag]
    info["seconds"] = time.monotonic() - start
    if failure:
        info["error"] = _without(failure, folder, "<probe-venv>")
        progress.done = first + len(packages)  # the packages left are not counted as probed
        say(f"could not test on {runtime.tag}: {info['error']}")
    else:
        info["pip"] = {runtime.interpreter: "its own", runtime.venv_python: "ensurepip's"}.get(
            runtime.pip_python, "the lab's"
        )


def not_tested(document: dict[str, Any]) -> list[str]:
    """One line per runtime the lab could not set up: its failure, not the packages'."""
    return [
        f"could not test on {tag}: {info['error']}"
        for tag, info in document["runtimes"].items()
        if info.get("error")
    ]


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
    rows = table.rows(cells, document["packages"], document["index_wheels"])
    headers = table.headers(index_column=True)
    failures = not_tested(document)
    # The rendered table beside the data, for readers of the results folder (derived: safe to replace)
    rendered = [
        f"# Extension compatibility, {document['started']}",
        "",
        *table.markdown_table(headers, rows),
        *(["", *[f"- {line}" for line in failures]] if failures else []),
    ]
    path.with_suffix(".md").write_text("\n".join(rendered) + "\n", encoding="utf-8")
    print()
    for line in [*(table.text_table(headers, rows) if rows else []), *failures]:
        print(line)
    print(f"\nsaved {path} and its table {path.with_suffix('.md').name}")
    return path
