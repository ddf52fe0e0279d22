"""The probe's processes: a throwaway venv, a wheel-only install, and each check in its own subprocess.

Every process runs in a session of its own with a timeout; on timeout the whole session is killed, so a
hung import (or a build it started) cannot outlive its step. What went wrong comes back as a reason
string, never as an exception: a failing install or a crashing import is a result of the probe.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labs.compat import child

CHILD = Path(child.__file__).resolve()
PIP_QUIET = ["--disable-pip-version-check", "--no-input"]


@dataclass(frozen=True)
class Finished:
    returncode: int | None  # None: killed at the timeout
    output: str
    seconds: float


def clean_env() -> dict[str, str]:
    """The environment of every probed process: PYTHON_GIL unset, so a free-threaded build keeps the
    GIL off unless an imported module turns it back on (which is what is being asked)."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHON_GIL", "PYTHONPATH", "PYTHONHOME")}


def run_process(command: list[str], timeout: float, cwd: Path | None = None) -> Finished:
    start = time.monotonic()
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
        env=clean_env(),
        cwd=cwd,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
        return Finished(process.returncode, output, time.monotonic() - start)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        return Finished(None, output or "", time.monotonic() - start)
    except BaseException:  # Ctrl-C: leave no process of the probe behind
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def ended(finished: Finished, timeout: float) -> str:
    """Why a process gave no answer, in one line."""
    if finished.returncode is None:
        return f"hung: no answer within {timeout:.0f} s"
    if finished.returncode < 0:
        try:
            name = signal.Signals(-finished.returncode).name
        except ValueError:
            name = f"signal {-finished.returncode}"
        return f"crashed ({name})"
    tail = [line for line in finished.output.strip().splitlines() if line.strip()]
    return f"exit code {finished.returncode}: {tail[-1][:160] if tail else 'no output'}"


def run_step(python: str, step: str, args: dict[str, Any], timeout: float) -> dict[str, Any]:
    """One check of child.py in a fresh process: its JSON answer, or ok=False with why there was none."""
    finished = run_process([python, "-I", str(CHILD), step, json.dumps(args)], timeout)
    for line in reversed(finished.output.splitlines()):
        if line.startswith(child.MARKER):
            return {**json.loads(line[len(child.MARKER) :]), "step_seconds": finished.seconds}
    return {"ok": False, "error": ended(finished, timeout), "step_seconds": finished.seconds}


def make_venv(interpreter: str, folder: Path, timeout: float = 120) -> str:
    """A venv without pip (pip is run from outside with --python where it can be): quick to make,
    thrown away after."""
    finished = run_process([interpreter, "-m", "venv", "--without-pip", str(folder)], timeout)
    python = folder / "bin" / "python"
    if finished.returncode != 0 or not python.exists():
        raise OSError(f"venv for {interpreter} failed: {ended(finished, timeout)}")
    return str(python)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _installed_file(report: dict[str, Any], name: str) -> str | None:
    for item in report.get("install", []):
        if canonical(item.get("metadata", {}).get("name", "")) == canonical(name):
            return str(item.get("download_info", {}).get("url", "")).rsplit("/", 1)[-1] or None
    return None


def _why_no_wheel(pip: list[str], spec: str, timeout: float) -> str:
    """Ask pip's verbose log why no wheel of *spec* fits: only sources, or no release for this Python."""
    dry = run_process(
        [*pip, "install", "--dry-run", "--no-deps", "-vv", "--only-binary", ":all:", spec], timeout
    )
    log = dry.output
    if "No sources permitted" in log:
        return "no wheel for this interpreter: sdist only"
    if "Requires-Python" in log or "requires a different Python" in log:
        return "no release supports this Python version"
    if "Could not fetch URL" in log or "connection error" in log:
        return "index not reachable, and no usable wheel in pip's reach"
    return "no wheel for this interpreter"


def install(
    base_pip: list[str], spec: str, name: str, folder: Path, timeout: float, build: bool
) -> dict[str, Any]:
    """Install *spec* into the venv from a wheel (dependencies may come as anything); the check's record."""
    report = folder / f"install-{canonical(name)}.json"
    options = ["-q", "--report", str(report), spec]
    # Wheels for the whole tree: a dependency that must be compiled breaks a compiler-less install too
    finished = run_process([*base_pip, "install", "--only-binary", ":all:", *options], timeout)
    if finished.returncode == 0:
        # None when an earlier package brought it in already: its WHEEL file gives the tags then
        file = _installed_file(json.loads(report.read_text()), name)
        return {"status": "ok", "file": file, "seconds": finished.seconds}
    crashed = pip_crashed(finished.output)
    if crashed:  # the lab's tool broke, not the package: the runner reports it once for the runtime
        return {"status": "fail", "reason": f"pip itself failed: {crashed}", "pip_broke": True}
    missing = re.findall(r"No matching distribution found for ([A-Za-z0-9._-]+)", finished.output)
    if not missing:
        return {"status": "fail", "reason": f"install failed: {ended(finished, timeout)}"}
    reason = _why_no_wheel(
        base_pip, spec if canonical(missing[0]) == canonical(name) else missing[0], timeout
    )
    if canonical(missing[0]) != canonical(name):
        reason = f"its dependency {missing[0]}: {reason}"
    if not build:
        return {"status": "fail", "reason": reason, "seconds": finished.seconds}
    built = run_process([*base_pip, "install", *options], timeout)
    if built.returncode != 0:
        return {"status": "fail", "reason": f"{reason}; the build failed: {ended(built, timeout)}"}
    return {"status": "built", "reason": f"{reason}; compiled here", "seconds": built.seconds}


def pip_crashed(output: str) -> str | None:
    """pip's own failure (its code raised: too new a Python for it, say), as opposed to its verdict
    on a package; the last line of the traceback, or None."""
    if "subprocess-exited-with-error" in output:  # a package's build script failed: the package's result
        return None
    if "Traceback (most recent call last)" not in output:
        return None
    if not re.search(r"pip[/\\]_(?:internal|vendor)[/\\]", output):
        return None
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else "pip raised"


def pip_runs(command: list[str]) -> str:
    """'' when `pip --version` runs, else why not in one line."""
    finished = run_process([*command, "--version"], timeout=60)
    return "" if finished.returncode == 0 else ended(finished, 60)


def pip_owner(interpreter: str, venv_python: str, timeout: float = 180) -> tuple[str | None, str]:
    """(the interpreter whose pip installs into the venv, or None; why none). In order: the base
    interpreter's own pip; the venv's own, from the interpreter's ensurepip (a distribution's Python
    often has no pip, but its ensurepip's pip is the one made for it); the lab's pip, run by `--python`
    under the target (so the tags are right) -- which a too-new Python may refuse, as pip re-runs its
    own code there."""
    own = pip_runs(pip_for(interpreter, venv_python))
    if not own:
        return interpreter, ""
    bootstrap = run_process([venv_python, "-m", "ensurepip", "--default-pip"], timeout)
    venv_pip = pip_for(venv_python, venv_python)
    venv_own = ended(bootstrap, timeout) if bootstrap.returncode else pip_runs(venv_pip)
    if not venv_own:
        return venv_python, ""
    lab = pip_runs(pip_for(sys.executable, venv_python))
    if not lab:
        return sys.executable, ""
    return None, f"no pip runs on this Python (its own: {own}; ensurepip's: {venv_own}; the lab's: {lab})"


def pip_for(interpreter: str, venv_python: str) -> list[str]:
    """The pip command installing into the venv with the venv's own tags: the venv's pip as it is, or
    another interpreter's pointed at the venv with --python."""
    if interpreter == venv_python:
        return [venv_python, "-m", "pip", *PIP_QUIET]
    return [interpreter, "-m", "pip", "--python", venv_python, *PIP_QUIET]
