"""Units of the core: chunking, verification, references by name, runtime facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from labs.core import callref, runtime
from labs.core.errors import UsageError, VerificationError
from labs.execute import lab, patterns


@pytest.mark.parametrize(("count", "parts"), [(0, 2), (1, 3), (7, 2), (8, 4), (5, 5), (3, 8)])
def test_split_keeps_order_and_balances(count, parts):
    tasks = list(range(count))
    chunks = patterns.split(tasks, parts)
    assert [t for chunk in chunks for t in chunk] == tasks
    assert len(chunks) <= parts
    if chunks:
        assert max(map(len, chunks)) - min(map(len, chunks)) <= 1


def test_verify_names_the_combination_and_the_first_difference():
    combination = lab.Combination("nbody", "threads", "pipeline", 2)
    lab.verify(combination, [1, 2, 3], [1, 2, 3])
    with pytest.raises(VerificationError, match=r"nbody/threads/pipeline/w2: result 1 is 5, .* gave 2"):
        lab.verify(combination, [1, 5, 3], [1, 2, 3])
    with pytest.raises(VerificationError, match="2 results, serial reference has 3"):
        lab.verify(combination, [1, 2], [1, 2, 3])


def test_a_wrong_serial_reference_is_caught_by_the_workloads_own_check(monkeypatch):
    from labs import workloads

    fib = workloads.get("fib")
    broken = workloads.Workload(**{**fib.__dict__, "task": "labs.workloads.fannkuch:run"})
    with pytest.raises(VerificationError, match="fails its own check"):
        lab.serial_reference(broken, [5])


def test_callref_round_trip_and_refusals():
    assert callref.ref_of(patterns.split) == "labs.execute.patterns:split"
    assert callref.resolve("labs.execute.patterns:split") is patterns.split
    with pytest.raises(UsageError, match="not 'module:function'"):
        callref.ref_of("no_colon")
    with pytest.raises(UsageError, match="not importable by name"):
        callref.ref_of(lambda task: task)


@pytest.mark.interpreter  # the backports' pools hang where 3.14's refuse
def test_a_task_function_in_main_is_refused_up_front(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "import labs\n"
        "def square(x):\n    return x * x\n"
        "try:\n"
        "    labs.map_tasks(square, [1, 2], model='interpreters-pool', workers=1)\n"
        "except labs.UsageError as exc:\n"
        "    print(exc)\n    raise SystemExit(2)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2, done.stderr
    assert "'square' lives in __main__" in done.stdout


@pytest.mark.interpreter  # the facts are the runtime's
def test_runtime_facts_describe_this_interpreter():
    facts = runtime.facts()
    assert facts["version"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}")
    assert facts["usable_cpus"] >= 1
    assert facts["free_threaded_build"] == bool(__import__("sysconfig").get_config_var("Py_GIL_DISABLED"))
    if not facts["free_threaded_build"]:
        assert facts["gil_enabled"] is True and facts["tag"] == runtime.tag()
    if sys.version_info >= (3, 14):
        assert facts["interpreters_api"] == "stdlib concurrent.interpreters"
    json.dumps(facts)  # serialisable as metadata
