"""Both PEP 734 backports drive the lab's subinterpreter models to the same verified results.

Which backport serves is fixed per process (each subinterpreter imports it too), so each source runs in
a subprocess of its own with LABS_INTERPRETERS_API set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from labs.core import interpreters_api

pytestmark = pytest.mark.interpreter  # the interpreters API and its backports differ by version

# Every CPU workload through every subinterpreter model the source can run, every pattern, 2 workers,
# each verified against serial; prints the source and the results.
RUN_MODELS = """
import json
from labs import models, workloads
from labs.core import interpreters_api
from labs.execute import lab, patterns

found, why = interpreters_api.source()
out = {"source": found, "why": why, "results": {}}
if found:
    for name in ("interpreters-raw", "interpreters-pool"):
        cls = models.get(name)
        if cls.unavailable_reason():
            out["results"][name] = cls.unavailable_reason()
            continue
        with cls(2) as model:
            for workload in workloads.all_workloads("cpu"):
                tasks = workload.make_tasks(3)
                expected = lab.serial_reference(workload, tasks)
                for pattern in patterns.NAMES:
                    combination = lab.Combination(workload.name, name, pattern, 2)
                    results = lab.execute(model, pattern, workload.task, tasks, combination, timeout=60)
                    lab.verify(combination, results, expected)
                    out["results"][f"{name} {workload.name} {pattern}"] = repr(results)
print(json.dumps(out))
"""


def run_through(api: str) -> dict:
    env = {**os.environ, "LABS_INTERPRETERS_API": api}
    done = subprocess.run(
        [sys.executable, "-c", RUN_MODELS], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="3.14+ uses the stdlib concurrent.interpreters")
def test_both_backports_give_identical_verified_results():
    pep, backport = run_through("interpreters_backport"), run_through("backports.interpreters")
    for name, outcome in (("interpreters-pep-734", pep), ("backports-interpreters", backport)):
        if outcome["source"] is None:
            pytest.skip(f"{name} is not importable on Python {sys.version.split()[0]}: {outcome['why']}")
    assert pep["source"] == interpreters_api.PEP_734 and backport["source"] == interpreters_api.BACKPORT
    raw = {key: value for key, value in pep["results"].items() if key.startswith("interpreters-raw ")}
    assert len(raw) >= 3, "the raw model ran every workload and pattern"
    assert {k: backport["results"][k] for k in raw} == raw
    # backports-interpreters has no executor: the pool says so rather than run on another package.
    assert "has none" in backport["results"]["interpreters-pool"]


def test_an_unknown_source_is_refused_naming_the_valid_ones(monkeypatch):
    monkeypatch.setenv("LABS_INTERPRETERS_API", "interpreters")
    if sys.version_info >= (3, 14):
        assert interpreters_api.source()[0] == interpreters_api.STDLIB  # the choice is for backports only
        return
    with pytest.raises(ValueError, match=r"valid: backports\.interpreters, interpreters_backport"):
        interpreters_api.source()


@pytest.mark.skipif(sys.version_info >= (3, 14), reason="3.14+ uses the stdlib concurrent.interpreters")
def test_the_pool_is_refused_with_a_reason_where_only_backports_interpreters_serves(monkeypatch):
    monkeypatch.setenv("LABS_INTERPRETERS_API", "backports.interpreters")
    if interpreters_api.source()[0] is None:
        pytest.skip(f"backports-interpreters is not importable: {interpreters_api.source()[1]}")
    assert "backports-interpreters" in str(interpreters_api.pool_unavailable_reason())
