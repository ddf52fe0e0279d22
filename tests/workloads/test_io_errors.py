"""The I/O workloads' error paths as a user meets them through ``python -m labs run``: a bad client
timeout, the server dying during the serial phase, a temporary folder that refuses the workload's files.
Each is one ``ERROR:`` line on stderr and the documented exit code, never a traceback."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from labtest import ROOT, lab_command

from labs.core import proctree
from labs.workloads.io import local_server


def _one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ERROR: "), stderr
    return lines[0]


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf", "0.001"])
def test_a_bad_client_timeout_is_refused_before_anything_runs(value):
    done = lab_command(
        "run",
        "-w",
        "download",
        "-m",
        "threads",
        "--size",
        "4",
        env={local_server.TIMEOUT_ENV: value},
        timeout=60,
    )
    assert done.returncode == 2
    assert _one_error_line(done.stderr) == (
        f"ERROR: LABS_HTTP_TIMEOUT must be a number of seconds in 0.1 .. 3600, got {value!r}"
    )


def _server_of(pid: int, wait: float = 30) -> int:
    """The pid of the HTTP server that process *pid* started."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        for child in proctree.descendants(pid):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"labs.workloads.io.server" in command:
                return child
        time.sleep(0.05)
    pytest.fail("the HTTP server never started")


def test_the_server_dying_in_the_serial_phase_is_one_line_exit_1():
    # 60 pages at 100 ms each: the serial phase (warm-up, then timed) lasts 12 s; the kill lands in it.
    lab = subprocess.Popen(
        [sys.executable, "-m", "labs", "run", "-w", "download", "-m", "threads", "--size", "60"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, local_server.LATENCY_ENV: "100"},
    )
    try:
        server = _server_of(lab.pid)
        time.sleep(1.0)
        os.kill(server, signal.SIGKILL)
        stdout, stderr = lab.communicate(timeout=60)
    finally:
        if lab.poll() is None:
            lab.kill()
            lab.communicate()
    assert lab.returncode == 1, stdout + stderr
    line = _one_error_line(stderr)
    assert line.startswith("ERROR: the HTTP server was killed by signal 9 during the run: GET /page/"), line
    assert "serial" not in stdout, "the serial phase should not have finished"


_FSIZE_LIMIT = (
    "import os, resource, sys; resource.setrlimit(resource.RLIMIT_FSIZE, (100 << 10, 100 << 10)); "
    "os.execv(sys.executable, [sys.executable, '-m', 'labs', *sys.argv[1:]])"
)


def _run_in_a_full_tmpdir(how: str, workload: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """``labs run -w WORKLOAD`` where writing in TMPDIR fails: a 64 KiB tmpfs (in a user namespace, where
    the kernel lets an unprivileged user mount one) or a 100 KiB limit on any file's size."""
    args = ["run", "-w", workload, "-m", "threads", "--size", "4"]
    if how == "full-tmpfs":
        folder = tmp_path / "tiny"
        folder.mkdir()
        script = f'mount -t tmpfs -o size=64k tmpfs "{folder}" && exec "$@"'
        command = ["unshare", "-rm", "sh", "-c", script, "sh", sys.executable, "-m", "labs", *args]
        env = {**os.environ, "TMPDIR": str(folder)}
    else:
        command = [sys.executable, "-c", _FSIZE_LIMIT, *args]
        env = {**os.environ, "TMPDIR": str(tmp_path)}
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def _tmpfs_unavailable() -> str:
    if not shutil.which("unshare"):
        return "no unshare command"
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=30)
    return "" if probe.returncode == 0 else "unprivileged user namespaces are not allowed here"


@pytest.mark.parametrize("how", ["file-size-limit", "full-tmpfs"])
@pytest.mark.parametrize(
    ("workload", "message"),
    [
        ("sqlite", r"ERROR: sqlite: cannot build the 200,000-row database \S+lab\.db: "),
        ("files", r"ERROR: files: cannot write and read back \S+file-0\.bin: "),
    ],
)
def test_a_temporary_folder_without_room_is_one_line_exit_1(how, workload, message, tmp_path):
    if how == "full-tmpfs" and (why := _tmpfs_unavailable()):
        pytest.skip(why)
    done = _run_in_a_full_tmpdir(how, workload, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    line = _one_error_line(done.stderr)
    assert line.endswith("(free space there, or set TMPDIR to a folder with room)"), line
    assert re.match(message, line), line


def _script(tmp_path: Path, body: str) -> str:
    script = tmp_path / "server-python"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_a_server_wrapper_that_does_not_exec_leaves_no_child_behind(tmp_path):
    """LABS_SERVER_PYTHON may be a wrapper: the server's whole process group ends with it."""
    server = local_server.LocalServer(python=_script(tmp_path, "sleep 100"), start_timeout=2)
    with pytest.raises(local_server.RunError, match="the HTTP server failed to start: no output"):
        server.start()
    assert server.process is not None
    # The wrapper's child is reparented when the wrapper dies: look for the group's members anywhere.
    assert not _members(server.process.pid)


def _members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if entry.name.isdigit() and int(fields[2]) == group and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def test_a_server_that_prints_a_flood_without_a_newline_is_quoted_briefly(tmp_path):
    flood = _script(tmp_path, "head -c 20000000 /dev/zero | tr '\\0' x")
    server = local_server.LocalServer(python=flood, start_timeout=10)
    with pytest.raises(local_server.RunError) as raised:
        server.start()
    assert len(str(raised.value)) < 500, len(str(raised.value))
