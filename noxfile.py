"""gil-lab sessions. `nox -l` lists them; options after `--` pass through to the lab."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from labs.core.runtime import ENGINES_NOTE  # noqa: E402
from labs.core.tag import RuntimeTag  # noqa: E402  (the lab's own, importable without installing)
from labs.plan import discovery  # noqa: E402

nox.options.sessions = ["tests", "lint"]
nox.options.default_venv_backend = "none"  # each matrix interpreter gets a venv made below


def _group(name: str) -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["dependency-groups"][name]


def _select(
    session: nox.Session, args: list[str]
) -> tuple[list[discovery.Interpreter], dict[str, str], list[str]]:
    """Interpreters from `--python TAG[,TAG]` (default: the matrix), why others are missing, the rest."""
    wanted, rest = list(discovery.MATRIX), []
    it = iter(args)
    for arg in it:
        if arg == "--python" or arg.startswith("--python="):
            value = arg.split("=", 1)[1] if "=" in arg else next(it, "")
            wanted = [tag for tag in value.split(",") if tag]
            bad = [tag for tag in wanted if tag not in discovery.MATRIX]
            if bad or not wanted:
                _usage_error(
                    f"unknown interpreter {','.join(bad) or value!r}; valid: {', '.join(discovery.MATRIX)}"
                )
        else:
            rest.append(arg)
    found, missing = discovery.discover(wanted)
    for tag, why in missing.items():
        session.log(f"skip {tag}: {why}")
    if not found:
        _usage_error(f"no interpreter of {', '.join(wanted)} found: {'; '.join(missing.values())}")
    return [found[tag] for tag in wanted if tag in found], missing, rest


def _usage_error(message: str) -> None:
    print(f"ERROR: {message}", file=sys.stderr)
    raise SystemExit(2)


def _venv(session: nox.Session, interpreter: discovery.Interpreter, purpose: str, *groups: str) -> str:
    """A venv for *interpreter* with the lab and *groups* installed; returns its python."""
    venv = ROOT / ".nox" / f"{purpose}-{interpreter.venv_name}"
    python = venv / "bin" / "python"
    if not python.exists():
        try:
            session.run(interpreter.path, "-m", "venv", str(venv), external=True, silent=True)
        except nox.command.CommandFailed:
            # Some distributions ship Python without its venv module; nox brings virtualenv.
            session.run(
                sys.executable,
                "-m",
                "virtualenv",
                "-q",
                "-p",
                interpreter.path,
                str(venv),
                external=True,
                silent=True,
            )
    requirements = [req for group in groups for req in _group(group)]
    session.run(
        str(python),
        "-m",
        "pip",
        "install",
        "-q",
        "--disable-pip-version-check",
        # A wheel of an older release beats building a new one from source (matplotlib on 3.13t
        # would need to download freetype, and nothing outside the package index is reachable).
        "--prefer-binary",
        str(ROOT),
        *requirements,
        external=True,
        silent=True,
    )
    if purpose in ("bench", "tests"):
        _install_engines(session, venv)
    return str(python)


def _install_engines(session: nox.Session, venv: Path) -> None:
    """The dask and celery models' packages, from wheels only (a runtime without them, such as a
    free-threaded build that some dependency has no wheel for, skips both models and says why)."""
    python, note = venv / "bin" / "python", venv / ENGINES_NOTE
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--only-binary=:all:",
         *_group("engines")],
        capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode == 0:
        note.unlink(missing_ok=True)
        return
    reason = _why_no_engines(done.stderr)
    note.write_text(reason + "\n", encoding="utf-8")
    session.log(f"engines (dask, celery) not installed in {venv.name}: {reason}")


def _why_no_engines(pip_stderr: str) -> str:
    """The package pip found no wheel for, where it says so; else its first error line."""
    missing = re.search(r"No matching distribution found for (\S+)", pip_stderr)
    if missing:
        return f"no wheel of {missing.group(1)} for this runtime"
    cause = re.search(r"The conflict is caused by:\s*\n\s*(.+)", pip_stderr)
    if cause:
        return f"no set of wheels fits this runtime: {cause.group(1).strip()}"
    errors = [line.strip() for line in pip_stderr.splitlines() if line.strip().startswith("ERROR")]
    return (errors[0] if errors else "pip failed").removeprefix("ERROR: ")


# The integration tier (tests that start processes, servers, engines or a browser: tests/tiers.py) runs on
# one GIL build and one free-threaded build, the first of each list found here; the fast tier, and the
# tests marked `interpreter`, run on every interpreter. `-- --all` runs everything everywhere.
INTEGRATION_ON = (("3.13", "3.14", "3.12", "3.15"), ("3.13t", "3.14t", "3.15t"))
FAST_TIER = "not integration or interpreter"
# Each interpreter's slowest tests, so that where the time goes stays visible; one pytest worker per CPU
# (pytest-xdist), which `-- -n 0` turns off.
PYTEST_OPTIONS = ("--durations=25", "-n", "auto")


def _integration_tags(found: dict[str, discovery.Interpreter]) -> set[str]:
    return {next((tag for tag in tags if tag in found), "") for tags in INTEGRATION_ON} - {""}


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """Every interpreter's tests session (tests-3.12, tests-3.13t, …), each reported on its own."""
    interpreters, missing, pytest_args = _select(session, list(session.posargs))
    wanted = {i.tag for i in interpreters} | set(missing)
    for tag in [tag for tag in discovery.MATRIX if tag in wanted]:  # a missing one says why it is skipped
        session.notify(f"tests-{tag}", pytest_args)


def _tests_on(tag: str) -> None:
    def run(session: nox.Session) -> None:
        args = list(session.posargs)
        everything = "--all" in args
        args = [arg for arg in args if arg != "--all"]
        found, missing = discovery.discover()
        if tag not in found:
            session.skip(f"{tag}: {missing.get(tag, 'not found')}")
        interpreter = found[tag]
        integration = everything or tag in _integration_tags(found)
        tier = [] if integration else ["-m", FAST_TIER]
        what = "every tier" if integration else "the fast tier and the interpreter-dependent tests"
        session.log(f"tests on {tag} ({interpreter.version}, {interpreter.path}): {what}")
        python = _venv(session, interpreter, "tests", "test")
        session.run(python, "-m", "pytest", *PYTEST_OPTIONS, *tier, *args, external=True)

    run.__doc__ = f"pytest on {tag}: the fast tier, or every tier where integration runs (`-- --all`)."
    nox.session(name=f"tests-{tag}", python=False, default=False)(run)


for _tag in discovery.MATRIX:
    _tests_on(_tag)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    """Ruff over the lab, its tests and this file."""
    session.run(sys.executable, "-m", "pip", "install", "-q", *_group("lint"), external=True, silent=True)
    session.run(sys.executable, "-m", "ruff", "check", "labs", "tests", "noxfile.py", external=True)
    session.run(
        sys.executable, "-m", "ruff", "format", "--check", "labs", "tests", "noxfile.py", external=True
    )


OUTCOME = {0: "ok", 1: "some benches failed", 129: "hung up", 130: "interrupted", 143: "terminated"}
# A bare `nox -s bench` fits this many minutes for every runtime together (LABS_BENCH_MINUTES to change;
# `-- --budget M` sets each run's own): every run gets its share, core questions first.
TOTAL_MINUTES = 30.0
# Each runtime's time outside the --budget: two speed fingerprints (~10 s), the plan, saving, and the
# last process's overrun (a process is never cut: ~5 s measured).
RUN_OVERHEAD_SECONDS = 20.0


def _minutes_from_env(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        minutes = float(value) if value else default
    except ValueError:
        minutes = float("nan")
    if not 1 <= minutes <= 24 * 60:  # NaN fails too
        _usage_error(f"{name}={value!r} is not a number of minutes; valid: 1 to 1440")
    return minutes


def _run_keeping_results(command: list[str], env: dict[str, str]) -> int:
    """Run the lab's bench and return its exit code. On Ctrl-C the lab (which got the signal too)
    saves what it measured: wait for it rather than kill it."""
    process = subprocess.Popen(command, env={**os.environ, **env})
    try:
        return process.wait()
    except KeyboardInterrupt:
        try:
            return process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            return 130


@nox.session(python=False)
def bench(session: nox.Session) -> None:
    """The pyperf-timed matrix on every interpreter, side by side (3.13t with PYTHON_GIL=1 too): results/."""
    started = time.monotonic()
    total_seconds = _minutes_from_env("LABS_BENCH_MINUTES", TOTAL_MINUTES) * 60
    interpreters, missing, bench_args = _select(session, list(session.posargs))
    # The I/O workloads' HTTP server runs on a host interpreter, never on the one under test: the newest
    # default build found (the lab is installed in its bench venv, h11 included).
    found, _ = discovery.discover()
    hosts = sorted((i for i in found.values() if not i.free_threaded), key=lambda i: RuntimeTag.parse(i.tag))
    host_python = _venv(session, hosts[-1], "bench") if hosts else None
    # The same interpreter serves pages and takes every run's speed fingerprint, so fingerprints compare.
    server_env = {"LABS_SERVER_PYTHON": host_python, "LABS_FINGERPRINT_PYTHON": host_python} if hosts else {}
    # Every venv first, so that their set-up (minutes in a fresh checkout) comes out of the total.
    pythons = [_venv(session, interpreter, "bench") for interpreter in interpreters]
    if not pythons:
        session.error("no matrix interpreter to bench: " + "; ".join(f"{t}: {w}" for t, w in missing.items()))
    run_args = list(bench_args)
    if not any(arg == "--budget" or arg.startswith("--budget=") for arg in bench_args):
        runs = len(pythons) + sum(1 for i in interpreters if RuntimeTag.parse(i.tag).free_threaded)
        left = total_seconds - (time.monotonic() - started) - RUN_OVERHEAD_SECONDS * runs
        run_args += ["--budget", f"{max(1.0, left / 60):.2f}"]
    # One session, one driver: every runtime's measuring processes alternate within the same minutes
    # (labs.measure.together), so a comparison between runtimes is paired in time.
    server_env["LABS_SESSION"] = f"nox-{time.strftime('%Y-%m-%dT%H-%M-%SZ', time.gmtime())}-{os.getpid()}"
    command = [pythons[0], "-m", "labs", "bench", "--interpreters", ",".join(pythons), "--with-gil-controls"]
    session.log(f"bench side by side on {', '.join(i.tag for i in interpreters)}: {' '.join(run_args)}")
    # Run directly: nox's session.run does not hand back the exit code, which tells failed
    # benches (1) from bad input (2) and a stop signal (128 + its number).
    code = _run_keeping_results([*command, *run_args], server_env)
    if code == 2:
        raise SystemExit(2)  # bad input: the lab printed the one line that says why
    outcomes = [f"{i.tag}: side by side" for i in interpreters]
    outcomes += [f"{tag}: skipped, {why}" for tag, why in missing.items()]
    session.log(f"summary: {OUTCOME.get(code, f'exit code {code}')}; " + "; ".join(outcomes))
    if code:
        session.error(
            "some benches failed or were interrupted; see the lines above and each run's 'labs' record"
        )


@nox.session(python=False, default=False)
def provision(session: nox.Session) -> None:
    """Install missing matrix interpreters (uv, else pyenv, else Debian packages); say what is missing."""
    wanted = [tag for tag in session.posargs if tag in discovery.MATRIX] or list(discovery.MATRIX)
    found, missing = discovery.discover(wanted)
    for tag, interpreter in found.items():
        session.log(f"{tag}: present, {interpreter.version} at {interpreter.path}")
    uv = shutil.which("uv")
    pyenv = shutil.which("pyenv") or str(
        Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "bin" / "pyenv"
    )
    for tag in missing:
        parsed = RuntimeTag.parse(tag)
        minor, free_threaded = parsed.version, parsed.free_threaded
        if uv:
            request = str(parsed)
            if subprocess.run([uv, "python", "install", request]).returncode == 0:
                session.log(f"{tag}: installed with uv")
                continue
        if os.access(pyenv, os.X_OK):
            # Newest patch release pyenv knows for this minor version and build.
            listing = subprocess.run([pyenv, "install", "--list"], capture_output=True, text=True).stdout
            suffix = "t" if free_threaded else ""
            versions = [
                v.strip()
                for v in listing.splitlines()
                if re.fullmatch(rf"{re.escape(minor)}\.\d+{suffix}", v.strip())
            ]
            if versions and subprocess.run([pyenv, "install", "-s", versions[-1]]).returncode == 0:
                session.log(f"{tag}: installed {versions[-1]} with pyenv")
                continue
        # Last resort: Debian's binary packages (sid's 3.14/3.15; trixie's 3.13 for a same-recipe ladder).
        if discovery.debian_provides(tag):
            if subprocess.run(["bash", str(ROOT / ".ci" / "provision-debian-sid.sh")]).returncode == 0:
                session.log(f"{tag}: installed from Debian's binary packages under {discovery.debian_root()}")
                continue
        session.log(
            f"{tag}: still missing (no download site reachable or no build definition); "
            "3.13.5/3.13.5t build offline with .ci/provision-3.13.5.sh"
        )
    _, still = discovery.discover(wanted)
    session.log(f"missing after provisioning: {', '.join(still) or 'none'}")


def _analysis_python(session: nox.Session) -> str:
    """Analysis reads stored JSON only: any matrix interpreter will do; the newest one found is used."""
    found, _ = discovery.discover()
    if not found:
        _usage_error("no matrix interpreter found to run the analysis; try `nox -s provision`")
    newest = max(
        found.values(), key=lambda i: (RuntimeTag.parse(i.tag).build.default_twin, not i.free_threaded)
    )
    return _venv(session, newest, "analysis", "plot")


@nox.session(python=False, default=False)
def report(session: nox.Session) -> None:
    """Write results/<machine>/REPORT.md and its plots from the stored results."""
    session.run(_analysis_python(session), "-m", "labs", "report", *session.posargs, external=True)


@nox.session(python=False, default=False)
def compare(session: nox.Session) -> None:
    """Compare stored runs bench by bench: `nox -s compare -- 3.13 3.13t --table` (exit 1 on a regression)."""
    session.run(_analysis_python(session), "-m", "labs", "compare", *session.posargs, external=True)


@nox.session(python=False, default=False)
def compat(session: nox.Session) -> None:
    """Will packages survive free-threading and subinterpreters? `nox -s compat -- --set popular`."""
    session.run(_analysis_python(session), "-m", "labs", "compat", *session.posargs, external=True)
