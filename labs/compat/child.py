"""One step of the compatibility probe, run by the interpreter under test inside its throwaway venv.

This file is executed as a script (``python child.py STEP ARGS_JSON``) by an interpreter that does not
have the lab installed, so it uses the standard library only. Each step runs in a fresh process so that
a crash, a hang or a GIL switched back on by one step cannot leak into the next; the step's answer is
one JSON line after ``MARKER`` on stdout, because an imported package may print on stdout itself.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.metadata
import importlib.util
import json
import sys
import sysconfig
import threading
import time
import warnings
from pathlib import Path
from typing import Any

MARKER = "@@labs-compat@@"
GIL_WARNING = "global interpreter lock"


def _gil_enabled() -> bool | None:
    """None on a default build, where the question does not arise."""
    if not sysconfig.get_config_var("Py_GIL_DISABLED"):
        return None
    return bool(sys._is_gil_enabled())


def _extension_file(module: object) -> str | None:
    origin = getattr(getattr(module, "__spec__", None), "origin", None) or getattr(module, "__file__", None)
    if isinstance(origin, str) and origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
        return origin
    return None


def _third_party(path: str) -> bool:
    """Extension files of installed packages, not of the interpreter's own standard library."""
    return "site-packages" in Path(path).parts


def _gil_messages(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if GIL_WARNING in str(w.message)]


def step_names(args: dict[str, Any]) -> dict[str, Any]:
    """The distribution's top-level import names and its own extension modules (dotted name, file)."""
    dist = importlib.metadata.distribution(args["distribution"])
    top = (dist.read_text("top_level.txt") or "").split()
    extensions, packages = [], []
    root = Path(dist.locate_file(""))
    for file in dist.files or ():
        parts = Path(str(file)).parts
        stem = parts[-1].split(".", 1)[0] if parts else ""
        # Only importable paths: this also leaves out .dist-info, bin/ and vendored libfoo-1a2b.so
        if not parts or not all(part.isidentifier() for part in (*parts[:-1], stem)):
            continue
        if parts[-1].endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)):
            extensions.append([".".join([*parts[:-1], stem]), str(root / file)])
        if parts[-1].endswith((".py", *importlib.machinery.EXTENSION_SUFFIXES)) and stem != "__init__":
            packages.append(parts[0] if len(parts) > 1 else stem)
        elif len(parts) > 1:
            packages.append(parts[0])
    found = [n for n in top if n and not n.startswith("_")] or [
        p for p in dict.fromkeys(packages) if not p.startswith("_")
    ]
    wheel = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    return {
        "modules": found or sorted(set(packages)),
        "extensions": extensions,
        "version": dist.version,
        "tags": tags,
    }


def step_import(args: dict[str, Any]) -> dict[str, Any]:
    """Import the modules, timing it; the GIL's state afterwards and the extensions the import loaded."""
    before = set(sys.modules)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        for name in args["modules"]:
            importlib.import_module(name)
        seconds = time.perf_counter() - start
        # The package's other compiled modules, which `import pkg` may load lazily or never: the
        # later checks must cover them too. One that fails alone here is noted, not fatal.
        extras, failed = [], {}
        for name in args.get("extras", []):
            try:
                importlib.import_module(name)
                extras.append(name)
            except BaseException as exc:
                failed[name] = f"{type(exc).__name__}: {exc}"[:200]
    loaded = []
    for name in sorted(set(sys.modules) - before):
        path = _extension_file(sys.modules[name])
        if path and _third_party(path):
            loaded.append([name, path])
    return {
        "seconds": seconds,
        "gil_enabled": _gil_enabled(),
        "gil_warnings": _gil_messages(caught),
        "extensions": loaded,
        "extras": extras,
        "extras_failed": failed,
    }


def step_load(args: dict[str, Any]) -> dict[str, Any]:
    """Load one extension module from its file alone, its package's other modules not imported first,
    so that a GIL switched back on can be blamed on this module."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        error = None
        try:
            spec = importlib.util.spec_from_file_location(args["name"], args["path"])
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[args["name"]] = module
            spec.loader.exec_module(module)
        except BaseException as exc:  # the module's own failure is data
            error = f"{type(exc).__name__}: {exc}"
    return {"gil_enabled": _gil_enabled(), "gil_warnings": _gil_messages(caught), "error": error}


def _interpreter_api() -> tuple[str, Any]:
    """(what was used, a function running code in a new interpreter with its own GIL -> error or None)."""
    try:
        from concurrent import interpreters  # type: ignore[attr-defined]  # 3.14+
    except ImportError:
        pass
    else:

        def run_stdlib(code: str) -> str | None:
            interp = interpreters.create()
            try:
                interp.exec(code)
            except interpreters.ExecutionFailed as exc:
                return str(exc.excinfo.formatted if hasattr(exc, "excinfo") else exc)
            finally:
                interp.close()
            return None

        return "concurrent.interpreters", run_stdlib
    try:
        import _interpreters as low  # type: ignore[import-not-found]  # 3.13, what the backport wraps
    except ImportError:
        import _xxsubinterpreters as old  # type: ignore[import-not-found]  # 3.12

        def run_312(code: str) -> str | None:
            interp = old.create(isolated=True)
            try:
                old.run_string(interp, code)
            except old.RunFailedError as exc:
                return str(exc).replace("<class '", "").replace("'>: ", ": ", 1)
            finally:
                old.destroy(interp)
            return None

        return "_xxsubinterpreters (isolated: own GIL)", run_312

    def run_313(code: str) -> str | None:
        interp = low.create("isolated")
        try:
            failure = low.exec(interp, code)
        finally:
            low.destroy(interp)
        return None if failure is None else str(failure.formatted)

    return "_interpreters (config 'isolated': own GIL)", run_313


def step_subinterpreter(args: dict[str, Any]) -> dict[str, Any]:
    """Import the modules inside a new subinterpreter that has its own GIL."""
    api, run = _interpreter_api()
    # The error that crosses back is one line on some versions: the chain of causes is folded into it,
    # because the module that refused (numpy's core, under pandas) is often a cause, not the last error.
    code = (
        f"import sys, importlib\nsys.path[:] = {sys.path!r}\ntry:\n"
        f"    for name in {args['modules']!r}:\n"
        "        importlib.import_module(name)\n"
        "except BaseException as exc:\n"
        "    chain, seen = [], exc\n"
        "    while seen is not None and len(chain) < 10:\n"
        "        chain.append(f'{type(seen).__name__}: {seen}')\n"
        "        seen = seen.__cause__ or seen.__context__\n"
        "    raise ImportError(' <- '.join(chain)) from None\n"
    )
    start = time.perf_counter()
    error = run(code)
    return {"api": api, "error": error, "seconds": time.perf_counter() - start}


def step_threads(args: dict[str, Any]) -> dict[str, Any]:
    """Evaluate the smoke expression once, then in N threads at once; every result must match."""
    namespace: dict[str, Any] = {}
    for name in args["modules"]:
        importlib.import_module(name)
        top = name.split(".", 1)[0]
        namespace[top] = sys.modules[top]
    expected = eval(args["expr"], namespace)
    barrier = threading.Barrier(args["threads"])
    results: list[Any] = []
    errors: list[str] = []

    def work() -> None:
        barrier.wait()
        try:
            for _ in range(args["rounds"]):
                results.append(eval(args["expr"], namespace))
        except BaseException as exc:
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work) for _ in range(args["threads"])]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wrong = sum(1 for r in results if r != expected)
    return {
        "seconds": time.perf_counter() - start,
        "calls": len(results),
        "wrong": wrong,
        "errors": errors[:3],
        "expected": repr(expected)[:80],
        "gil_enabled": _gil_enabled(),
    }


STEPS = {
    "names": step_names,
    "import": step_import,
    "load": step_load,
    "subinterpreter": step_subinterpreter,
    "threads": step_threads,
}


def main() -> None:
    step, args = sys.argv[1], json.loads(sys.argv[2])
    try:
        answer = {"ok": True, **STEPS[step](args)}
    except BaseException as exc:  # the package's failure is the answer, not a crash of the probe
        answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.flush()
    print(MARKER + json.dumps(answer, default=repr), flush=True)


if __name__ == "__main__":
    main()
