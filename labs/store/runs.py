"""results/<machine-id>/<runtime-tag>/<UTC timestamp>.json: pyperf BenchmarkSuite JSON, kept for good.

Files are written atomically (a temporary file, then a hard link that fails if the name exists), never
overwritten, and made safe to publish: no hostname, user name or home path (a machine id stands in).
The lab's own record of the run (failed benches and why, whether it was interrupted, the runtime
facts) sits under a top-level "labs" key, which pyperf ignores, so `python -m pyperf stats|compare_to`
read the files unchanged.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labs.core import limits, runtime
from labs.core.errors import UsageError
from labs.store import upgrade, validate

DROPPED_METADATA = ("hostname", "boot_time", "uptime")
ROOT = Path(__file__).resolve().parents[2]  # the checkout: labs/store/runs.py -> labs -> checkout
COMPAT_FOLDER = "compat"  # results/<machine>/compat/: labs.compat's probe results, not runs


def machine_id() -> str:
    """A stable, anonymous id for this machine: core count plus a hash of the machine id and CPU."""
    try:
        secret = Path("/etc/machine-id").read_text().strip()
    except OSError:
        secret = ""
    digest = hashlib.sha256(f"{secret}|{runtime.cpu_model()}|{os.cpu_count()}".encode()).hexdigest()[:8]
    return f"{os.cpu_count()}cpu-{digest}"


def _current_directory() -> Path | None:
    """The working directory, or None when it was deleted under us (the run must still be saved)."""
    try:
        return Path.cwd()
    except OSError:
        return None


def _scrub_text(text: str) -> str:
    places = (
        (Path(sys.prefix), "<venv>"),
        (Path(sys.base_prefix), "<python>"),
        (_current_directory(), "<lab>"),
        (ROOT, "<lab>"),
        (Path.home(), "~"),
    )
    for place, stand_in in places:
        if place is not None and len(str(place)) > 1:
            text = text.replace(str(place), stand_in)
    # Any user's home, not only this one's: a relocated build names the home it was configured in.
    return re.sub(r"/(?:home/[^/\s']+|root)(?=[/\s'\"]|$)", "~", text)


def scrub(value: Any) -> Any:
    """*value* with identifying metadata dropped and home / checkout paths replaced."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items() if k not in DROPPED_METADATA}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return _scrub_text(value)
    return value


def results_root(text: str) -> Path:
    """The ``--results`` folder; an empty name would silently mean the working folder."""
    if not text.strip():
        raise UsageError("--results needs a folder name, got ''; the default is results")
    return Path(text)


def check_writable(directory: Path) -> Path:
    """*directory* (created if missing) when the lab can write there; else a UsageError."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
            pass
    except OSError as exc:
        raise UsageError(f"results directory {str(directory)!r} is not writable: {exc.strerror}") from None
    return directory


def utc_stamp(now: datetime.datetime | None = None) -> str:
    now = now or datetime.datetime.now(datetime.UTC)
    return now.strftime("%Y-%m-%dT%H-%M-%SZ")


def save_run(root: Path, runtime_tag: str, suite_json: dict[str, Any], labs_record: dict[str, Any]) -> Path:
    """Write one run atomically under *root*; never overwrite. Returns the new file's path."""
    folder = check_writable(root / labs_record["machine"] / runtime_tag)
    return write_new_json(folder, labs_record["started"], scrub({**suite_json, "labs": labs_record}))


def write_new_json(folder: Path, stamp: str, document: dict[str, Any]) -> Path:
    """*document* as folder/<stamp>.json, or <stamp>-N.json when taken: atomic, never overwriting."""
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=1, sort_keys=True)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        for target in stamped_names(folder, stamp, ".json"):
            try:
                os.link(temporary, target)  # atomic, and refuses an existing name
                return target
            except FileExistsError:
                continue
        raise OSError(f"no free file name for {stamp} in {folder}")
    finally:
        os.unlink(temporary)


def stamped_names(folder: Path, stamp: str, suffix: str) -> Iterator[Path]:
    """The names a file of *stamp* may take, in order: <stamp><suffix>, then <stamp>-1<suffix>, …
    (runs started in the same second)."""
    for attempt in range(100):
        yield folder / (f"{stamp}{suffix}" if attempt == 0 else f"{stamp}-{attempt}{suffix}")


def iter_run_files(root: Path) -> list[Path]:
    """results/<machine>/<tag>/*.json, leaving out the temporary files of a save in progress and the
    compatibility probe's files (results/<machine>/compat/, not benchmark runs)."""
    return sorted(
        p for p in root.glob("*/*/*.json") if not p.name.startswith(".") and p.parent.name != COMPAT_FOLDER
    )


def load_run(path: Path) -> dict[str, Any]:
    """One stored run as parsed, validated JSON, its benches' metadata in the current schema
    (labs.store.upgrade).

    ValueError naming the file and the reason when it is not a well-formed lab/pyperf result: files
    are untrusted input (see labs.store.validate for every check)."""
    try:
        text = limits.read_bounded(path).decode("utf-8")
        data = json.loads(text, parse_constant=limits.refuse_constant)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc})") from None
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: {exc}") from None
    try:
        validate.check_suite(data)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return upgrade.run(data)


def load_all(root: Path) -> tuple[list[tuple[Path, dict[str, Any]]], list[str]]:
    """Every valid run under *root*, and one line for each file that is not (left untouched)."""
    runs, problems = [], []
    for path in iter_run_files(root):
        try:
            runs.append((path, load_run(path)))
        except ValueError as exc:
            problems.append(str(exc))
    return runs, problems
