"""The one pyperf harness every measuring script uses: ``Harness(module, options).main(body)``.

It owns what the lab's pyperf scripts share, so that a script only declares what it times:
- its options, declared once as ``Option``s: the parser and the forwarding to pyperf's workers both
  come from that one declaration;
- the manager/worker split (pyperf's manager only spawns workers; ``body`` sets up its subject in the
  workers alone, and ``bench`` registers a no-op in the manager);
- the bench's identity (``BenchKey``, stored as structured metadata) and the runtime facts;
- failures: a ``LabError`` in a worker becomes one ``ERROR:`` line, exit 1, and a JSON outcome file
  (``--lab-outcome``) that the driver reads, so no reason travels by scraping stderr;
- dying with its parent: every process of a bench goes when the driver goes, even on SIGKILL.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pyperf

from labs.core import proctree, runtime
from labs.core.errors import RunError, UsageError
from labs.plan.key import BenchKey
from labs.store import schema

LabError = (UsageError, RunError)
MIN_VALUE_SECONDS = 1e-3  # pyperf's check warns below this: mostly timer and loop overhead


@dataclass(frozen=True)
class Option:
    """One ``--lab-NAME`` option of a measuring script."""

    name: str
    type: Callable[[str], Any] = str
    default: Any = None
    help: str = ""
    flag: bool = False  # a switch without a value

    @property
    def dest(self) -> str:
        return "lab_" + self.name.replace("-", "_")


# Every script has these: the bench's identity, where results are filed, where a failure is reported.
COMMON = (
    Option("key", BenchKey.from_json, help="the bench's BenchKey as JSON (set by the planner)"),
    Option("machine", default="unknown", help="the machine id the results are filed under"),
    Option("outcome", help="a file where a failure's reason is written as JSON, for the driver"),
    Option("repeat", int, help="repeats per value the bench's first process calibrated (every run alike)"),
)


def runtime_metadata(machine: str) -> dict[str, object]:
    """The runtime facts each measuring process records, and the schema they are written in; the GIL
    state is read now, after the work ran."""
    facts = runtime.facts()
    return schema.checked(
        schema_version=schema.SCHEMA_VERSION,
        machine=machine,
        runtime=facts["tag"],
        free_threaded_build=str(facts["free_threaded_build"]),
        gil_enabled=str(runtime.gil_enabled()),
        PYTHON_GIL=facts["PYTHON_GIL"] or "unset",
        interpreters_api=facts["interpreters_api"] or "unavailable",
        usable_cpus=facts["usable_cpus"],
        python=facts["version"],
    )


def loop_timer(job: Callable[[], object], repeat: int = 1) -> Callable[[int], float]:
    """pyperf's time function for *job*: the seconds that ``loops`` x *repeat* calls take."""

    def time_loops(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops * repeat):
            job()
        return time.perf_counter() - start

    return time_loops


class Harness:
    """A pyperf Runner whose options, metadata, errors and exits are the lab's."""

    def __init__(self, module: str, options: Sequence[Option]) -> None:
        self.options = (*COMMON, *options)
        self.runner = pyperf.Runner(add_cmdline_args=self._forward, program_args=("-m", module))
        for option in self.options:
            flags = {"action": "store_true"} if option.flag else {"type": option.type}
            self.runner.argparser.add_argument(
                f"--lab-{option.name}", dest=option.dest, default=option.default, help=option.help, **flags
            )
        self.args = argparse.Namespace()

    def _forward(self, command: list[str], args: argparse.Namespace) -> None:
        """The manager passes every lab option on to each worker it spawns, exactly as it got them."""
        for option in self.options:
            value = getattr(args, option.dest)
            if option.flag:
                command.extend([f"--lab-{option.name}"] if value else [])
            elif value is not None:
                text = value.to_json() if isinstance(value, BenchKey) else str(value)
                command.extend((f"--lab-{option.name}", text))

    @property
    def worker(self) -> bool:
        """True in a measuring process; False in pyperf's manager, which only spawns workers."""
        return bool(self.args.worker)

    @property
    def key(self) -> BenchKey:
        if self.args.lab_key is None:
            raise UsageError("--lab-key is required (the planner sets it)")
        return self.args.lab_key

    def describe(self, description: str, **values: object) -> None:
        """Metadata every process of the bench records, the manager's included: the description, the
        key and *values* by their names in labs.store.schema (``kind=Kind.CPU``)."""
        self.runner.metadata.update(description=description, **self.key.metadata())
        self.record(**values)

    def record(self, **values: object) -> None:
        """*values*, by their names in labs.store.schema, into the metadata of this process's runs."""
        self.runner.metadata.update(schema.checked(**values))

    def bench(
        self,
        time_func: Callable[[int], float],
        *,
        inner_loops: int | None = None,
        key: BenchKey | None = None,
        calibrate: bool = True,
        **values: object,
    ) -> pyperf.Benchmark | None:
        """Let pyperf time *time_func* under the bench's name (*key*, else the script's own key); in a
        worker, record the runtime facts and *values* (names in labs.store.schema) first and (unless
        *calibrate* is False) size the work so that no value is shorter than a millisecond."""
        key = key or self.key
        if self.worker:
            self.runner.metadata.update(runtime_metadata(self.args.lab_machine))
            self.record(**values)
            if calibrate:
                time_func, inner_loops, repeat = calibrated(time_func, inner_loops, self.args.lab_repeat)
                self.record(repeat=repeat)
        else:
            time_func = _no_op
        self.runner.metadata.update(key.metadata())
        return self.runner.bench_time_func(key.name, time_func, inner_loops=inner_loops)

    def main(self, body: Callable[[Harness, contextlib.ExitStack], None]) -> int:
        """Parse, run *body* (which sets up what it times and calls ``bench``), clean up; exit 0, 1 (the
        bench failed) or 2 (it was asked for something it cannot measure)."""
        proctree.die_with_parent()
        self.runner.argparser.error = _one_line_usage_error  # type: ignore[method-assign]
        self.args = self.runner.parse_args()
        if not self.worker and (problem := _unwritable_output(self.args.output)):
            print(f"ERROR: {problem}", file=sys.stderr)
            return 2
        try:
            with contextlib.ExitStack() as stack:
                body(self, stack)
        except LabError as exc:
            self._report_failure(str(exc))
            return 2 if isinstance(exc, UsageError) else 1
        return 0

    def _report_failure(self, reason: str) -> None:
        print(f"ERROR: {reason}", file=sys.stderr)
        if self.args.lab_outcome:
            outcome = Path(self.args.lab_outcome)
            temporary = outcome.with_name(f".{outcome.name}.{os.getpid()}")
            with contextlib.suppress(OSError):  # the reason is on stderr too
                temporary.write_text(json.dumps({"failed": reason}))
                temporary.replace(outcome)


def _one_line_usage_error(message: str) -> NoReturn:
    """argparse's bad-input path as one line, like every other command of the lab (not the usage)."""
    print(f"ERROR: {message} (see --help)", file=sys.stderr)
    raise SystemExit(2)


def _unwritable_output(output: str | None) -> str | None:
    """Why pyperf's ``-o FILE`` could not be written, checked before minutes are spent measuring."""
    if not output:
        return None
    path = Path(output)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        return f"-o {output}: the folder {str(folder)!r} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"-o {output}: the folder {str(folder)!r} is not writable"
    if path.exists() and not path.is_file():
        return f"-o {output}: not a regular file"
    return None


def calibrated(
    time_func: Callable[[int], float], inner_loops: int | None, repeat: int | None = None
) -> tuple[Callable[[int], float], int | None, int]:
    """*time_func* repeated enough (a power of two) that one value takes at least a millisecond;
    (the time function, its inner loops, the repeat).

    pyperf warns that shorter values are mostly timer and loop overhead; the repeats become inner
    loops, so values stay per operation. The bench's first process decides with one probe call (it
    doubles as a warm-up) and the driver passes its *repeat* to the others: pyperf refuses a bench
    whose runs differ in inner loops."""
    if repeat is None:
        probe = time_func(1)
        repeat = (
            1
            if probe >= MIN_VALUE_SECONDS
            else 2 ** math.ceil(math.log2(MIN_VALUE_SECONDS / max(probe, 1e-9)))
        )
    if repeat == 1:
        return time_func, inner_loops, 1
    return (lambda loops: time_func(loops * repeat)), (inner_loops or 1) * repeat, repeat


def _no_op(loops: int) -> float:
    return 0.0


def read_outcome(path: Path) -> str | None:
    """The failure reason a bench's workers wrote, or None."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return str(data.get("failed")) if isinstance(data, dict) and data.get("failed") else None
