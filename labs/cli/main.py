"""python -m labs COMMAND: the parser, the dispatch and the exit-code contract.

Each command is one module of this package (``NAME``, ``HELP``, ``add_arguments``, ``execute``); this
module only wires them together and turns every way a command can end into one exit code and, for a
failure, one ``ERROR:`` line on stderr:

    0          the command did what was asked
    1          a run failed: a task raised, a worker died, a run timed out, results did not verify
    2          bad input: a name, number or option the lab cannot accept; nothing was run
    130        interrupted by SIGINT (Ctrl-C)
    128 + N    ended by signal N: 143 for SIGTERM, 129 for SIGHUP (treated like Ctrl-C); 141 (SIGPIPE)
               quietly when the reader of the output went away (``labs list | head -1``)
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from labs.cli import bench, compare, compat, doctor, race, report, run, signals, tune
from labs.cli import list as list_command
from labs.core.errors import RunError, UsageError

COMMANDS = (list_command, doctor, run, bench, tune, compare, report, race, compat)

EXIT_CODES = (
    "exit codes: 0 ok, 1 a run failed, 2 bad input, 130 interrupted (Ctrl-C); "
    "SIGTERM and SIGHUP end a command like Ctrl-C, with 128 + the signal's number (143, 129); "
    "141 when the reader of the output went away"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, like every other bad input (argparse would print the usage first).
        command = " ".join(self.prog.split()[1:])
        raise UsageError(f"{message} (see 'python -m labs {command + ' ' if command else ''}--help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="labs", description="gil-lab: one workload, every execution model.", epilog=EXIT_CODES
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in COMMANDS:
        # no abbreviated options: bench passes its own on to the drivers it starts (--interpreters),
        # which must recognise them by their full names
        command.add_arguments(commands.add_parser(command.NAME, help=command.HELP, allow_abbrev=False))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    handlers = {command.NAME: command.execute for command in COMMANDS}
    unfit = _unfit_surroundings()
    if unfit:
        print(f"ERROR: {unfit}", file=sys.stderr)
        return 2
    sys.stdout = _Output(sys.stdout)
    # The handlers stay installed while an error is reported, so that a signal arriving then ends the
    # process quietly instead of raising in the middle of the report.
    with signals.ending_signals_interrupt():
        try:
            args = build_parser().parse_args(argv)
            args.argv = list(sys.argv[1:] if argv is None else argv)  # as given: a command may pass it on
            code = handlers[args.command](args)
            sys.stdout.flush()  # here, where a reader that went away is caught, not at the exit
            return code
        except UsageError as exc:
            signals.leaving()
            print(f"ERROR: {exc}", file=sys.stderr)
            return 2
        except RunError as exc:
            signals.leaving()
            print(f"ERROR: {exc}", file=sys.stderr)
            _leave_now(1)
        except KeyboardInterrupt as exc:  # Ctrl-C, or signals.Interrupted for SIGTERM / SIGHUP
            signals.leaving()
            print(f"ERROR: {signals.describe(exc)}", file=sys.stderr)
            _leave_now(signals.exit_code(exc))
        except BrokenPipeError as exc:
            signals.leaving()
            if not _stdout_reader_gone():  # a pipe of the lab's own (a server's, say): a failure
                print(f"ERROR: {exc}", file=sys.stderr)
                _leave_now(1)
            # The reader of stdout went away: what a shell reports for SIGPIPE, and nothing to say.
            # stdout now points nowhere, so that the final flush cannot fail again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            _leave_now(128 + signal.SIGPIPE)
        except OutputFailed as exc:  # a full disk behind `> file`, a device that refuses writes
            signals.leaving()
            print(f"ERROR: cannot write the output: {exc}", file=sys.stderr)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            _leave_now(1)
        finally:
            if isinstance(sys.stdout, _Output):
                sys.stdout = sys.stdout.stream


class OutputFailed(Exception):
    """Standard output refused a write: told apart from the lab's own I/O errors, which are OSErrors."""


class _Output:
    """Standard output, whose failures to write raise OutputFailed (a reader gone away stays a
    BrokenPipeError: that one ends the command quietly)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputFailed(exc.strerror or str(exc)) from None

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputFailed(exc.strerror or str(exc)) from None

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def _unfit_surroundings() -> str | None:
    """What makes this process unable to run any command: no standard output (``>&-``: the next file
    opened would take its place and receive the output), or a working folder that was deleted."""
    if sys.stdout is None:
        return "standard output is closed; run the lab with an output (redirect it to /dev/null to drop it)"
    try:
        os.getcwd()
    except FileNotFoundError:
        return "the working folder no longer exists; change to a folder that does and run it again"
    return None


def _stdout_reader_gone() -> bool:
    """True when stdout is a pipe whose reading end is closed (the kernel flags it POLLERR)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), 0)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no fileno, or no poll on this platform
        return False


def _leave_now(code: int) -> NoReturn:
    """End the process at once after a failed or interrupted run.

    The run was abandoned: its worker processes are killed already, but a thread or subinterpreter may
    still be busy (or hung) in a task, and the interpreter's normal exit would wait for it, perhaps for
    ever. So nothing is waited for: the lab's remaining child processes are ended, multiprocessing's
    named semaphores are released, and the process leaves with os._exit.
    """
    signals.release_and_end_children()
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(code)
