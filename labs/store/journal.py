"""The run journal: every bench is on disk the moment it is measured, whatever ends the run.

``<stamp>.journal.jsonl`` sits next to where the run's final file will go. Its first line is the run's
record (runtime, mode, selection); each further line is one bench's pyperf JSON or one failure,
appended and fsync'd as soon as the bench ends. A torn last line (the lab killed mid-write) is
ignored on reading. When the run ends in any way the lab can act on (done, Ctrl-C, SIGTERM, SIGHUP, a
failing disk), the final pyperf file is written from what was measured and the journal removed;
after a SIGKILL the journal remains, and ``labs bench --resume JOURNAL`` measures only what is missing.
If the results directory cannot take the final file, the run goes to a fallback directory that the
lab names (``rescue_directory``), so a measured bench is never lost to a full or read-only disk.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs.core.errors import UsageError
from labs.store import runs

SUFFIX = ".journal.jsonl"


def rescue_directory() -> Path:
    """Where a run goes when its results directory cannot take it: the temporary directory."""
    return Path(tempfile.gettempdir()) / "gil-lab-rescued"


@dataclass
class Journal:
    """An append-only record of one run. ``path`` is None when the results directory refused it: the
    run then goes on in memory and its final save says so."""

    record: dict[str, Any]
    path: Path | None = None
    benchmarks: list[dict[str, Any]] = field(default_factory=list)
    problem: str = ""
    version: str = "1.0"  # pyperf's JSON format version, taken from the files pyperf wrote

    @classmethod
    def start(cls, folder: Path, record: dict[str, Any]) -> Journal:
        journal = cls(record)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            journal.path = folder / f"{record['started']}{SUFFIX}"
            with open(journal.path, "x", encoding="utf-8") as file:
                _append(file, {"record": runs.scrub(record)})
        except OSError as exc:
            journal.path, journal.problem = None, f"journal not written ({exc.strerror or exc})"
        return journal

    def add(self, benchmarks: list[dict[str, Any]], version: str) -> None:
        self.benchmarks.extend(benchmarks)
        self.version = version
        self._write({"benchmarks": runs.scrub(benchmarks), "version": version})

    def fail(self, name: str, reason: str) -> None:
        self.record["failed"].append({"name": name, "reason": reason})
        self._write({"failed": {"name": name, "reason": runs.scrub(reason)}})

    def skip(self, name: str, reason: str) -> None:
        """A bench not measured at all (the run's budget ran out): said, never silently dropped."""
        self.record.setdefault("skipped", []).append({"name": name, "reason": reason})
        self._write({"skipped": {"name": name, "reason": reason}})

    def _write(self, entry: dict[str, Any]) -> None:
        if self.path is None:
            return
        try:
            with open(self.path, "a", encoding="utf-8") as file:
                _append(file, entry)
        except OSError as exc:  # a full or vanished disk: keep measuring, keep the benches in memory
            self.problem = f"journal stopped at {self.path.name} ({exc.strerror or exc})"
            self.path = None

    def finish(self, root: Path) -> tuple[Path, str]:
        """Write the final pyperf file; (its path, a note when it went to the fallback directory)."""
        suite = {"version": self.version, "benchmarks": self.benchmarks}
        tag = self.record["runtime"]["tag"]
        try:
            saved = runs.save_run(root, tag, suite, self.record)
            note = ""
        except (OSError, UsageError) as exc:
            reason = str(exc) if isinstance(exc, UsageError) else exc.strerror or str(exc)
            self.record.setdefault("save_problems", []).append(f"results directory refused the run: {reason}")
            saved = runs.save_run(rescue_directory(), tag, suite, self.record)
            note = (
                f"the results directory refused the run ({reason}); saved to the fallback directory instead"
            )
        if self.path is not None:
            self.path.unlink(missing_ok=True)
        return saved, note


def _append(file: Any, entry: dict[str, Any]) -> None:
    file.write(json.dumps(entry, sort_keys=True) + "\n")
    file.flush()
    os.fsync(file.fileno())


@dataclass(frozen=True)
class Recovered:
    """What an earlier, unfinished run holds: its record, measured benches and failures."""

    record: dict[str, Any]
    benchmarks: list[dict[str, Any]]
    version: str


def recover(path: Path) -> Recovered:
    """Read a journal, or a final file marked interrupted, for ``--resume``; UsageError if neither."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(
            f"cannot resume from {str(path)!r}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    if path.name.endswith(SUFFIX):
        return _recover_journal(path, text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        data = None
    labs = data.get("labs") if isinstance(data, dict) else None
    if not isinstance(labs, dict) or not isinstance(data.get("benchmarks"), list):
        raise UsageError(f"cannot resume from {str(path)!r}: not a lab run file or journal ({SUFFIX})")
    if not labs.get("interrupted") and not labs.get("failed"):
        raise UsageError(f"cannot resume from {str(path)!r}: that run finished with nothing to redo")
    return Recovered(labs, data["benchmarks"], str(data.get("version", "1.0")))


def _recover_journal(path: Path, text: str) -> Recovered:
    record: dict[str, Any] | None = None
    benchmarks: list[dict[str, Any]] = []
    version = "1.0"
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn line: the lab was killed while writing it
        if not isinstance(entry, dict):
            continue
        if "record" in entry and record is None:
            record = entry["record"]
        elif isinstance(entry.get("benchmarks"), list):
            benchmarks.extend(entry["benchmarks"])
            version = str(entry.get("version", version))
    if not isinstance(record, dict) or "runtime" not in record:
        raise UsageError(f"cannot resume from {str(path)!r}: the journal has no run record")
    return Recovered(record, benchmarks, version)
