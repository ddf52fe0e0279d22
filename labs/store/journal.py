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

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labs.core import limits
from labs.core.errors import UsageError
from labs.store import runs, validate

SUFFIX = ".journal.jsonl"


def rescue_directory() -> Path:
    """Where a run goes when its results directory cannot take it: the temporary directory."""
    return Path(tempfile.gettempdir()) / "gil-lab-rescued"


@dataclass
class Journal:
    """An append-only record of one run, in the results directory or, when that refuses it (from the
    first line or later: full, read-only, gone), in the fallback directory, rewritten there whole. Only
    when neither takes it is ``path`` None: the run then goes on in memory and its final save says so."""

    record: dict[str, Any]
    path: Path | None = None
    benchmarks: list[dict[str, Any]] = field(default_factory=list)
    problem: str = ""
    version: str = "1.0"  # pyperf's JSON format version, taken from the files pyperf wrote
    entries: list[dict[str, Any]] = field(default_factory=list)  # every line after the record
    abandoned: list[Path] = field(default_factory=list)  # partial journals a refusing folder kept

    @classmethod
    def start(cls, folder: Path, record: dict[str, Any]) -> Journal:
        journal = cls(record)
        journal._open(folder)
        return journal

    def _open(self, folder: Path) -> None:
        """Write the journal so far into a new file in *folder*; on failure, in the fallback directory."""
        reason = self._write_whole(folder)
        if reason is None:
            return
        rescue = rescue_directory() / folder.parent.name / folder.name
        self.problem = f"journal not written in {folder} ({reason})"
        reason = self._write_whole(rescue)
        self.problem += f"; written in {self.path}" if reason is None else f", nor in {rescue} ({reason})"

    def _write_whole(self, folder: Path) -> str | None:
        path = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = _free_name(folder, str(self.record["started"]))
            with open(path, "a", encoding="utf-8") as file:
                _append(file, {"record": runs.scrub(self.record)})
                for entry in self.entries:
                    _append(file, entry)
        except OSError as exc:
            if path is not None and path.exists():
                self.abandoned.append(path)
            return exc.strerror or str(exc)
        self.path = path
        return None

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
        self.entries.append(entry)
        if self.path is None:
            return
        try:
            with open(self.path, "a", encoding="utf-8") as file:
                _append(file, entry)
        except OSError as exc:  # a full or vanished disk: the whole journal moves to the fallback
            failed, self.path = self.path, None
            self.abandoned.append(failed)
            self.problem = f"journal stopped at {failed.name} ({exc.strerror or exc})"
            rescue = rescue_directory() / failed.parent.parent.name / failed.parent.name
            reason = self._write_whole(rescue)
            self.problem += f"; continued in {self.path}" if reason is None else f"; not in {rescue} either"

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
        for journal in [*self.abandoned, *([self.path] if self.path else [])]:
            with contextlib.suppress(OSError):  # a read-only folder keeps its partial journal
                journal.unlink(missing_ok=True)
        return saved, note


def _free_name(folder: Path, stamp: str) -> Path:
    """The first of ``runs.stamped_names`` not taken, created empty here and now."""
    for path in runs.stamped_names(folder, stamp, SUFFIX):
        try:
            with open(path, "x", encoding="utf-8"):
                return path
        except FileExistsError:
            continue
    raise OSError(f"no free journal name for {stamp} in {folder}")


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
    """Read a journal, or a final file marked interrupted, for ``--resume``; UsageError if neither, or
    if what it holds is not a well-formed run (a journal is untrusted input: edited, torn, hostile)."""
    try:
        text = limits.read_bounded(path).decode("utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(
            f"cannot resume from {str(path)!r}: {getattr(exc, 'strerror', None) or exc}"
        ) from None
    recovered = _recover_journal(path, text) if path.name.endswith(SUFFIX) else _recover_final(path, text)
    suite = {"version": recovered.version, "benchmarks": recovered.benchmarks, "labs": recovered.record}
    try:
        validate.check_suite(suite)
    except ValueError as exc:
        raise UsageError(f"cannot resume from {str(path)!r}: {str(exc)[:300]}") from None
    if not isinstance(recovered.record["runtime"].get("tag"), str):
        raise UsageError(f"cannot resume from {str(path)!r}: the run record names no runtime tag")
    return recovered


def _loads(text: str) -> object:
    """JSON as the lab wrote it: NaN and Infinity are refused, never trusted as measurements."""
    return json.loads(text, parse_constant=limits.refuse_constant)


def _recover_final(path: Path, text: str) -> Recovered:
    try:
        data = _loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError
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
            entry = _loads(line)
        except json.JSONDecodeError:
            continue  # a torn line: the lab was killed while writing it
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"cannot resume from {str(path)!r}: {str(exc)[:200]}") from None
        if not isinstance(entry, dict):
            continue
        if "record" in entry and record is None:
            record = entry["record"]
        elif isinstance(entry.get("benchmarks"), list):
            benchmarks.extend(entry["benchmarks"])
            version = str(entry.get("version", version))
    if not isinstance(record, dict) or not isinstance(record.get("runtime"), dict):
        raise UsageError(f"cannot resume from {str(path)!r}: the journal has no run record")
    return Recovered(record, benchmarks, version)
