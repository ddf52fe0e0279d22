"""Every workload x every model available here x every pattern, 1 and 2 workers, verified vs serial."""

from __future__ import annotations

import pytest

from labs import models, workloads
from labs.execute import lab, patterns

pytestmark = pytest.mark.interpreter  # which models exist, and their start methods, depend on the runtime

WORKLOADS = workloads.all_workloads("cpu")  # the I/O ones, with their server, are in test_io
SMOKE = 3  # odd, so chunks and broadcast shares are uneven at 2 workers
REFERENCES = {}


def reference(workload: workloads.Workload) -> tuple[list, list]:
    if workload.name not in REFERENCES:
        tasks = workload.make_tasks(SMOKE)
        REFERENCES[workload.name] = (tasks, lab.serial_reference(workload, tasks))
    return REFERENCES[workload.name]


@pytest.fixture(scope="module", params=[(m, n) for m in models.names() for n in (1, 2)], ids=str)
def running_model(request):
    name, workers = request.param
    cls = models.get(name)
    why = cls.unavailable_reason()
    if why:
        pytest.skip(f"{name} unavailable on this runtime: {why}")
    with cls(workers) as model:
        yield model


@pytest.mark.parametrize("pattern", patterns.NAMES)
def test_every_workload_verifies(running_model, pattern):
    for workload in WORKLOADS:
        tasks, expected = reference(workload)
        combination = lab.Combination(workload.name, running_model.name, pattern, running_model.workers)
        results = lab.execute(running_model, pattern, workload.task, tasks, combination, timeout=60)
        lab.verify(combination, results, expected)


@pytest.mark.parametrize("pattern", patterns.NAMES)
def test_fewer_tasks_than_workers(pattern):
    results = lab.map_tasks("labs.workloads.fib:run", [10], model="threads", pattern=pattern, workers=3)
    assert results == [55]


def test_each_workload_has_its_declarations():
    for workload in workloads.all_workloads():
        assert workload.kind in ("cpu", "io")
        assert workload.description and workload.origin
        assert set(workload.sizes) == {"quick", "default", "rigorous"}
    origins = [w.origin for w in WORKLOADS if "pyperformance" in w.origin]
    assert len(origins) >= 2, "at least two kernels come from pyperformance"


def test_results_cross_as_shareable_values():
    shareable = (int, float, str, bytes, bool, type(None))

    def is_shareable(value):
        if isinstance(value, tuple):
            return all(is_shareable(v) for v in value)
        return isinstance(value, shareable)

    for workload in WORKLOADS:
        tasks, results = reference(workload)
        assert all(is_shareable(t) for t in tasks), workload.name
        assert all(is_shareable(r) for r in results), workload.name
