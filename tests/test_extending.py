"""The examples of docs/extending.md work as written: each code block runs against the lab's interfaces."""

from __future__ import annotations

import re
from pathlib import Path

from labs.core.tag import RuntimeTag
from labs.report.view import MachineView

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def block(starting: str) -> dict:
    (source,) = [text for text in BLOCKS if text.startswith(starting)]
    namespace: dict = {"__name__": "extending_example"}
    exec(compile(source, str(DOC), "exec"), namespace)
    return namespace


def test_the_workload_example_computes_and_checks_its_tasks():
    squares = block('"""Sum of squares')
    tasks = squares["make_tasks"](squares["SIZES"]["quick"])
    results = [squares["run"](task) for task in tasks]
    assert squares["check"](tasks, results) is None
    assert squares["check"](tasks, [0] * len(tasks)) == "a sum is wrong"


def test_the_model_example_runs_a_referenced_call():
    (model,) = block("import queue")["MODELS"]
    with model(2) as running:
        assert running.submit("math:factorial", 5).result(timeout=10) == 120


def test_the_section_example_reads_the_view():
    found = block("from labs.report.section")["free_threading_share"]
    runtimes = {RuntimeTag.parse("3.13t"): None, RuntimeTag.parse("3.13"): None}
    view = MachineView("m", "default", runtimes, all_runs=[], left_out=[])
    assert found(view).lines == ("This report covers 1: 3.13t.",)
