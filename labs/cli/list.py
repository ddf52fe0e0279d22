"""python -m labs list: the workloads, the models (available here or why not) and the patterns."""

from __future__ import annotations

import argparse

from labs import models, workloads
from labs.execute import patterns

NAME = "list"
HELP = "workloads, models (available here or why not), patterns"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass  # nothing to choose: it lists everything


def execute(args: argparse.Namespace) -> int:
    print("workloads:")
    for workload in workloads.all_workloads():
        print(f"  {workload.name:<14} {workload.kind:<4} {workload.description}")
    print("models:")
    for name in models.names():
        why = models.get(name).unavailable_reason()
        print(f"  {name:<21} {'available' if why is None else 'unavailable: ' + why}")
    print("patterns:")
    for name in patterns.NAMES:
        print(f"  {name}")
    return 0
