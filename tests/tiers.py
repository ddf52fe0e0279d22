"""The two tiers of the suite, decided from what a test uses rather than from a list kept by hand.

- ``integration``: the test (or a fixture it uses, or a helper either calls, followed through the
  test folder's own functions) reaches a name that starts a process, a server, an engine or a
  browser, or is parametrized with a model whose workers are processes. Those tests cost almost all
  of the suite's time; they run on one GIL and one free-threaded build (the noxfile says which).
- the fast tier: everything else. It runs on every interpreter.
- ``interpreter``: set by hand on tests whose answer depends on the interpreter (GIL state, the
  interpreters API and its backports, start methods, the fake C extensions, the engines); they run on
  every interpreter whatever their tier.

The static reading can miss a way to start a process. A guard closes that gap: a test outside the
integration tier that forks or executes a program fails, naming the call, so the list below is
extended the day a new way appears instead of the fast tier silently slowing down.
"""

from __future__ import annotations

import _posixsubprocess
import inspect
import os
import subprocess
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

# Names whose use means a process (or a server, an engine, a browser) is started.
STARTS_PROCESSES = frozenset(
    {
        # the standard ways
        "subprocess", "Popen", "multiprocessing", "ProcessPoolExecutor", "fork", "posix_spawn",
        # the tests' own helpers (tests/labtest.py) and the browser driver
        "run_cli", "lab_command", "cli", "webdriver",
        # the lab's own: the HTTP server and the I/O workloads' environment that starts it, the
        # interpreter probes of discovery, compat's venvs and pip, and git for the lab's commit
        "LocalServer", "environment", "discover", "make_venv", "look_up", "describe", "stamp", "Chrome",
    }
)  # fmt: skip


def _functions_of(obj: object) -> Iterator[types.FunctionType]:
    obj = getattr(getattr(obj, "hypothesis", None), "inner_test", obj)  # a @given test's own body
    obj = inspect.unwrap(obj) if callable(obj) else obj
    if isinstance(obj, types.FunctionType):
        yield obj
    elif isinstance(obj, type):
        for member in vars(obj).values():
            yield from _functions_of(member)


def _names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _names(const)


def _ours(function: types.FunctionType) -> bool:
    try:
        return Path(inspect.getfile(function)).resolve().is_relative_to(TESTS)
    except TypeError:
        return False


def reaches(function: Callable, starters: frozenset[str] = STARTS_PROCESSES) -> str | None:
    """The first name in *starters* that *function* reaches through the test folder's own
    functions and classes (not into the lab: its names are listed above by hand), or None."""
    seen: set[types.CodeType] = set()
    stack = list(_functions_of(function))
    while stack:
        current = stack.pop()
        if current.__code__ in seen:
            continue
        seen.add(current.__code__)
        for name in _names(current.__code__):
            if name in starters:
                return name
            target = current.__globals__.get(name)
            stack.extend(f for f in _functions_of(target) if _ours(f))
    return None


def why_integration(item: pytest.Item) -> str | None:
    """Why *item* belongs to the integration tier (a fixture or a name it reaches), or None."""
    if item.get_closest_marker("integration"):
        return "marked"
    function = getattr(item, "function", None)
    if function is not None and (name := reaches(function)):
        return name
    callspec = getattr(item, "callspec", None)
    for value in callspec.params.values() if callspec else ():
        if (model := _out_of_process_model(value)) is not None:
            return f"model {model}"
    info = getattr(item, "_fixtureinfo", None)
    for fixture in getattr(item, "fixturenames", ()):
        if fixture in STARTS_PROCESSES:
            return f"fixture {fixture}"
        for definition in info.name2fixturedefs.get(fixture, ()) if info else ():
            if _ours_fixture(definition) and (name := reaches(definition.func)):
                return f"fixture {fixture} ({name})"
    return None


def _out_of_process_model(value: object) -> str | None:
    """A parameter naming a model whose workers are processes (alone or first in a tuple)."""
    from labs import models  # the lab's registry says which models leave the process

    name = value[0] if isinstance(value, tuple) and value else value
    if isinstance(name, str) and name in models.names() and not models.get(name).in_process:
        return name
    return None


def _ours_fixture(definition: object) -> bool:
    func = getattr(definition, "func", None)
    return isinstance(inspect.unwrap(func), types.FunctionType) and _ours(inspect.unwrap(func))


class ProcessGuard:
    """Fails a fast-tier test that starts a process anyway, naming how."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self._saved: list[tuple[object, str, object]] = []

    def _wrap(self, owner: object, name: str) -> None:
        original = getattr(owner, name, None)
        if original is None:
            return

        def refused(*args: object, **kwargs: object) -> object:
            self.started.append(f"{getattr(owner, '__name__', owner)}.{name}")
            pytest.fail(
                f"this fast-tier test starts a process ({owner.__name__}.{name}); add the name it "
                "uses to tests/tiers.py STARTS_PROCESSES, or mark it integration",
                pytrace=True,
            )

        self._saved.append((owner, name, original))
        setattr(owner, name, refused)

    def __enter__(self) -> ProcessGuard:
        for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp"):
            self._wrap(os, name)
        self._wrap(_posixsubprocess, "fork_exec")  # multiprocessing's spawn and forkserver
        self._wrap(subprocess, "_fork_exec")  # subprocess keeps its own reference to fork_exec
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
