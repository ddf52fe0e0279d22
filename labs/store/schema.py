"""The run record's ``lab_*`` metadata: every key declared once, written checked, read typed.

pyperf keeps one table of its own metadata keys (name -> type, check, formatter); this is the lab's.
A key is one attribute of ``Meta`` (its stored name without ``lab_``) whose annotation gives the type
and whose declaration gives a one-line meaning and where the value lives. Writers go through
``checked`` (or ``check`` for a mapping already in stored names), which refuses an undeclared key or a
value of the wrong type, so a new key cannot reach a result file without a declaration here. Readers
go through ``Meta.of(metadata)``: the typed value, or None where the key is absent or its value is not
of the declared type (result files are untrusted input). Records older than ``SCHEMA_VERSION`` are
brought up to it on load (labs.store.upgrade), so a reader only ever sees this schema.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 2  # 2: this table and lab_schema_version; records without a version are 1
PREFIX = "lab_"


class Mode(enum.StrEnum):
    """How hard a run tries (its record's ``mode``)."""

    QUICK = "quick"
    DEFAULT = "default"
    RIGOROUS = "rigorous"


class RunSuite(enum.StrEnum):
    """What a run was asked to measure (``--suite``; its record's ``suites``)."""

    MATRIX = "matrix"
    COSTS = "costs"


class Suite(enum.StrEnum):
    """A bench's suite: the first field of its key (``lab_key``)."""

    MATRIX = "matrix"
    CAPACITY = "capacity"
    STARTUP = "startup"
    TRANSFER = "transfer"
    MEMORY = "memory"
    LADDER = "ladder"
    RACE = "race"
    DISPATCH = "dispatch"
    FINGERPRINT = "fingerprint"


class Kind(enum.StrEnum):
    """What a bench measures (``lab_kind``): a workload's kind, or a cost bench's."""

    CPU = "cpu"
    IO = "io"
    STARTUP = "startup"
    TRANSFER = "transfer"
    MEMORY = "memory"
    LADDER = "ladder"
    RACE = "race"


class Where(enum.StrEnum):
    """Where a key's value lives in a stored run."""

    RUN = "run"  # the same in every bench of a run: the machine and runtime facts
    BENCH = "bench"  # one value for the bench (pyperf's benchmark metadata)
    PROCESS = "process"  # each measuring process its own (pyperf's per-run metadata: Bench.each_run)


RUN, BENCH, PROCESS = Where.RUN, Where.BENCH, Where.PROCESS


def _key(meaning: str, where: Where = BENCH) -> Any:
    return field(default=None, metadata={"meaning": meaning, "where": where})


@dataclass(frozen=True, slots=True)
class Meta:
    """A bench's (or one measuring process's) ``lab_*`` metadata, one typed attribute per declared key."""

    # the run: machine and runtime facts, recorded by every measuring process
    schema_version: int | None = _key("the version of this schema the record was written in", RUN)
    machine: str | None = _key("the machine id the run is filed under", RUN)
    runtime: str | None = _key("the runtime tag (3.13, 3.13t, 3.13t-gil, ...)", RUN)
    python: str | None = _key("the interpreter's version (3.13.5)", RUN)
    free_threaded_build: str | None = _key("'True' on a free-threaded build", RUN)
    gil_enabled: str | None = _key("'True' when the GIL was on, read after the work ran", RUN)
    PYTHON_GIL: str | None = _key("the PYTHON_GIL environment variable, or 'unset'", RUN)
    interpreters_api: str | None = _key("where the subinterpreter API came from, or 'unavailable'", RUN)
    usable_cpus: int | None = _key("CPUs the measuring process could run on (its affinity)", RUN)
    # the bench's identity and what it ran
    key: str | None = _key("the bench's BenchKey as compact JSON: its identity")
    kind: Kind | None = _key("what the bench measures")  # noqa: RUF009 (_key is a field())
    workload: str | None = _key("the workload's name (a declared variant's own name)")
    model: str | None = _key("the execution model (serial, threads, processes-fork, ...)")
    pattern: str | None = _key("how the job is split among workers (n-workers, map, pipeline, ...)")
    workers: int | None = _key("the model's worker count")
    tasks: int | None = _key("tasks a job runs")
    variant_of: str | None = _key("the family of a declared workload variant (mixed, grain)")
    variant: str | None = _key("the variant's value in its family (CPU units a request, fib's N)")
    latency_ms: int | None = _key("the local HTTP server's added latency a request, in ms")
    payload_bytes: int | None = _key("bytes a transfer moves, or a local HTTP server's response")
    task_example: str | None = _key("repr of the job's first task")
    queue_type: str | None = _key("the queue the model's pipeline pattern uses")
    model_keys: str | None = _key("stored names (comma-separated) that describe the model, not the job")
    paired_with: str | None = _key("the key JSON of the serial baseline timed in this bench's processes")
    baseline_of: str | None = _key("a paired serial baseline's: the key JSON of the bench it was timed in")
    group: str | None = _key(
        "arms measured side by side: the id shared by every arm timed in the same processes"
    )
    arms: int | None = _key("arms a side-by-side process timed, the serial baseline included")
    block: int | None = _key("a side-by-side arm: its process's index in the group, to pair arms by", PROCESS)
    # a model's own facts (Model.facts)
    threading: str | None = _key("threads: 'GIL' or 'free-threaded'")
    start_method: str | None = _key("processes: the multiprocessing start method")
    engine: str | None = _key("a scale-out model's engine: dask or celery")
    dask_version: str | None = _key("dask: the distributed package's version")
    dask_cluster: str | None = _key("dask: LocalCluster, or external (a user's scheduler)")
    celery_version: str | None = _key("celery: the package's version")
    celery_broker: str | None = _key("celery: local redis-server, or external (a user's broker)")
    # the cost benches
    carrier: str | None = _key("transfer: what carries the payload (a pipe, a queue, shared memory, ...)")
    rung: str | None = _key("ladder: the rung timed")
    classic: str | None = _key("ladder: the classic latency figure the rung stands beside")
    classic_seconds: float | None = _key("ladder: the classic figure, in seconds")
    temp_filesystem: str | None = _key("ladder: the filesystem type under the temporary directory")
    strategy: str | None = _key("race: how the shared counter is updated (unsafe, locked, ...)")
    threads: int | None = _key("race: threads, or concurrent asyncio tasks")
    increments: int | None = _key("race: increments a thread makes")
    metric: str | None = _key("memory: rss, pss or uss")
    memory_source: str | None = _key("memory: where the figures were read")
    # each measuring process's own outcome
    cpu_seconds: float | None = _key("CPU seconds of the process tree for one verifying job", PROCESS)
    requests_per_s: float | None = _key("requests a second of one verifying job", PROCESS)
    p50_ms: float | None = _key("median request latency of one verifying job, in ms", PROCESS)
    p99_ms: float | None = _key("99th percentile request latency of one verifying job, in ms", PROCESS)
    expected: int | None = _key("race: the count without lost updates", PROCESS)
    lost: int | None = _key("race: updates lost", PROCESS)
    final_balance: int | None = _key("race (asyncio): the balance after every withdrawal", PROCESS)
    overdraft: int | None = _key("race (asyncio): how far the balance went below zero", PROCESS)
    # how the bench was measured (the driver's stopping rule and checks)
    repeat: int | None = _key("calls a value repeats so that none is under a millisecond")
    quantity: str | None = _key("what the stopping rule's interval is over: time or speedup")
    precision_target: float | None = _key("the interval's relative half-width sought")
    precision_reached: float | str | None = _key("the half-width reached, or 'none'")
    processes: int | None = _key("measuring processes in the sample")
    stop: str | None = _key("why the bench stopped (precision reached, process cap, run budget, ...)")
    cv: float | None = _key("coefficient of variation of the process means")
    load_min: float | None = _key("lowest 1-minute load average seen while measuring")
    load_median: float | None = _key("median 1-minute load average seen while measuring")
    load_max: float | None = _key("highest 1-minute load average seen while measuring")
    suspect: str | None = _key("why the sample breaks physics or is two samples in one")
    remeasured_because: str | None = _key("why a suspect first sample was measured again")
    remeasure_skipped: str | None = _key("why a suspect sample was not measured again")
    pyperf_checks: str | None = _key("what pyperf's check says of the bench, or 'none'")

    @classmethod
    def of(cls, metadata: Mapping[str, object]) -> Meta:
        """The declared keys of *metadata* (stored names), typed."""
        return cls(**{key.name: key.read(metadata.get(key.stored)) for key in KEYS.values()})


@dataclass(frozen=True)
class Key:
    """One declared key: its name without the prefix, accepted types, meaning and where it lives."""

    name: str
    types: tuple[type, ...]
    meaning: str
    where: Where
    choices: type[enum.StrEnum] | None = None  # an enum's keys store one of its values

    @property
    def stored(self) -> str:
        return PREFIX + self.name

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool):  # an int to isinstance, never a count or a measure here
            return False
        if self.choices is not None:
            return isinstance(value, str) and value in self.choices
        numbers = (int,) if float in self.types else ()  # a whole number is a float too
        return isinstance(value, self.types + numbers)

    def read(self, value: object) -> Any:
        """*value* as this key's type, or None when absent or not of it."""
        if value is None or not self.accepts(value):
            return None
        if self.choices is not None:
            return self.choices(value)
        return float(value) if float in self.types and isinstance(value, int) else value

    def written(self, value: object) -> object:
        """*value* as it is stored (an enum's as its plain value); ValueError when not of this key's type."""
        if not self.accepts(value):
            names = [t.__name__ for t in self.types] if self.choices is None else list(self.choices)
            kinds = " or ".join(names) if self.choices is None else f"one of {', '.join(names)}"
            raise ValueError(
                f"metadata {self.stored} must be {kinds}, got {type(value).__name__} {value!r:.80}"
            )
        return value.value if isinstance(value, enum.Enum) else value


def _declared() -> dict[str, Key]:
    hints = typing.get_type_hints(Meta)
    keys = {}
    for spec in dataclasses.fields(Meta):
        accepted = tuple(t for t in typing.get_args(hints[spec.name]) if t is not types.NoneType)
        choices = next((t for t in accepted if issubclass(t, enum.StrEnum)), None)
        keys[spec.name] = Key(spec.name, accepted, spec.metadata["meaning"], spec.metadata["where"], choices)
    return keys


KEYS: dict[str, Key] = _declared()  # name without the prefix -> its declaration, in declaration order
STORED: dict[str, Key] = {key.stored: key for key in KEYS.values()}


def stored(name: str) -> str:
    """The stored name of the declared key *name* (``lab_`` + name); ValueError when undeclared."""
    return _declaration(name).stored


def _declaration(name: str) -> Key:
    try:
        return KEYS[name]
    except KeyError:
        raise ValueError(f"metadata {PREFIX}{name} is not declared in labs.store.schema") from None


def checked(**values: object) -> dict[str, object]:
    """Metadata to write, by declared names (``tasks=8`` -> ``{"lab_tasks": 8}``); ValueError for an
    undeclared name or a value of the wrong type."""
    return {_declaration(name).stored: _declaration(name).written(value) for name, value in values.items()}


def check(metadata: Mapping[str, object]) -> dict[str, object]:
    """A copy of *metadata* (stored names) to write: every ``lab_*`` key declared and of its type
    (ValueError if not); other keys are pyperf's own and pass as they are."""
    found = {}
    for name, value in metadata.items():
        if name.startswith(PREFIX):
            if name not in STORED:
                raise ValueError(f"metadata {name} is not declared in labs.store.schema")
            value = STORED[name].written(value)
        found[name] = value
    return found
