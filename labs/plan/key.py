"""BenchKey: the typed identity of one bench, built once by the planner and decoded once on load.

A key travels as structured pyperf metadata (``lab_key``, a JSON object), so the analysis side never
parses a bench name: ``.name`` exists for display and for pyperf's own tools only. Runs stored before
``lab_key`` existed get one on load (labs.store.upgrade).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from labs.core import limits
from labs.store import schema, upgrade

# What the key's fields mean in each suite is BenchKey's docstring; the planner builds keys of these only.
SUITES = tuple(suite.value for suite in schema.Suite)


@dataclass(frozen=True, order=True)
class BenchKey:
    """(suite, workload, model, pattern, workers, params). Unused fields stay empty.

    matrix/capacity: workload, model, pattern, workers. startup: model, workers. transfer: subject
    (the carrier) and params bytes. memory: model, workers, params metric. ladder: subject (the rung).
    race: subject (the strategy), workers (threads or asyncio tasks). dispatch: model, params side.
    """

    suite: str
    workload: str = ""
    model: str = ""
    pattern: str = ""
    workers: int = 0
    subject: str = ""  # the costs suites' own axis: carrier, rung or strategy
    params: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self) -> None:
        if self.suite not in SUITES:
            raise ValueError(f"unknown suite {self.suite!r}; valid: {', '.join(SUITES)}")

    def param(self, name: str, default: str = "") -> str:
        return dict(self.params).get(name, default)

    @property
    def name(self) -> str:
        """The display name, also pyperf's benchmark name: ``nbody/threads/n-workers/w2``."""
        match self.suite:
            case "matrix":
                name = f"{self.workload}/{self.model}/{self.pattern}/w{self.workers}"
                # a serial baseline timed inside another bench's processes is named after that bench
                paired_with = self.param("paired_with")
                return f"{name}@{paired_with}" if paired_with else name
            case "capacity":
                return f"capacity/{self.model}/{self.pattern}/w{self.workers}"
            case "startup":
                return f"startup/{self.model}/w{self.workers}"
            case "transfer":
                return f"transfer/{self.subject}/{self.param('bytes')}"
            case "memory":
                metric = self.param("metric")  # a planned memory bench measures every metric
                return f"memory/{self.model}/w{self.workers}" + (f"/{metric}" if metric else "")
            case "ladder":
                return f"ladder/{self.subject}"
            case "race":
                prefix = "c" if self.subject.startswith("asyncio") else "t"
                return f"race/{self.subject}/{prefix}{self.workers}"
            case "dispatch":
                return f"dispatch/{self.model}/{self.param('side')}"
            case _:
                return f"fingerprint/{self.subject}"

    def with_params(self, **params: object) -> BenchKey:
        merged = {**dict(self.params), **{k: str(v) for k, v in params.items()}}
        return BenchKey(
            self.suite, self.workload, self.model, self.pattern, self.workers, self.subject,
            tuple(sorted(merged.items())),
        )  # fmt: skip

    def serial_baseline(self) -> BenchKey:
        """The run's own serial bench of the same workload (one worker): the unpaired baseline."""
        return BenchKey("matrix", self.workload, "serial", "n-workers", 1)

    def paired_baseline(self) -> BenchKey:
        """The serial baseline timed in this bench's own processes, interleaved with it."""
        return self.serial_baseline().with_params(paired_with=self.name)

    def to_json(self) -> str:
        """Sorted, compact, empty fields left out: one spelling, shared with the store's upgrade of
        records stored before keys were (labs.store.upgrade.key_json)."""
        names = {name: getattr(self, name) for name in ("workload", "model", "pattern", "subject")}
        return upgrade.key_json(self.suite, self.workers, dict(self.params) if self.params else None, **names)

    def metadata(self) -> dict[str, object]:
        """What a bench stores so that the key comes back without parsing its name."""
        return schema.checked(key=self.to_json())

    @classmethod
    def from_json(cls, text: str) -> BenchKey:
        if len(text) > limits.MAX_KEY_CHARS:
            raise ValueError(f"lab_key is longer than {limits.MAX_KEY_CHARS} characters")
        data = json.loads(text, parse_constant=limits.refuse_constant)
        if not isinstance(data, dict):
            raise ValueError(f"lab_key is not an object: {text[:80]!r}")
        params = data.get("params") or {}
        if not isinstance(params, dict):
            raise ValueError(f"lab_key params are not an object: {text[:80]!r}")
        workers, most = data.get("workers", 0), limits.MAX_WORKERS
        if isinstance(workers, bool) or not isinstance(workers, int) or not 0 <= workers <= most:
            raise ValueError(f"lab_key workers is not a count from 0 to {most}: {str(workers)[:20]!r}")
        return cls(
            suite=str(data["suite"]),
            workload=str(data.get("workload", "")),
            model=str(data.get("model", "")),
            pattern=str(data.get("pattern", "")),
            workers=workers,
            subject=str(data.get("subject", "")),
            params=tuple(sorted((str(k), str(v)) for k, v in params.items())),
        )

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> BenchKey:
        """The key of a stored bench, from its ``lab_key`` (a bench stored before it has one once loaded).

        ValueError when the metadata does not identify a lab bench (a plain pyperf file, say)."""
        text = schema.Meta.of(metadata).key
        if text is None:
            raise ValueError("not a lab bench (no lab_key)")
        try:
            return cls.from_json(text)
        except (KeyError, TypeError, ValueError, RecursionError) as exc:  # JSONDecodeError is one
            raise ValueError(f"malformed lab_key {text[:80]!r}: {str(exc)[:200]}") from None
