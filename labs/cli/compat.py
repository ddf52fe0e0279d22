"""python -m labs compat: the arguments of the extension-compatibility probe; the work is labs.compat's."""

from __future__ import annotations

import argparse

NAME = "compat"
HELP = "will these packages survive free-threading and subinterpreters? (results/<machine>/compat/)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("packages", nargs="*", metavar="PKG", help="names, requirements or .whl files")
    parser.add_argument(
        "--requirements", "-r", action="append", metavar="FILE", help="one requirement a line"
    )
    parser.add_argument("--set", action="append", metavar="NAME", help="a predefined set: popular")
    parser.add_argument("--python", metavar="TAG,...", help="runtimes, e.g. 3.13,3.13t (default: all here)")
    parser.add_argument(
        "--smoke", action="append", metavar="EXPR", help="an expression to run in 4 threads for every package"
    )
    parser.add_argument("--timeout", default="120", help="seconds before one check is ended (default 120)")
    parser.add_argument("--install-timeout", default="600", help="seconds for one install (default 600)")
    parser.add_argument("--build", action="store_true", help="compile packages that have no wheel")
    parser.add_argument("--results", default="results", help="results directory (default: ./results)")


def execute(args: argparse.Namespace) -> int:
    from labs.compat import runner

    return runner.run(args)
