"""Load a benchmark module shipped in the installed ``pyperformance`` package, without copying it.

pyperformance keeps each benchmark as ``data-files/benchmarks/bm_<name>/run_benchmark.py``, which is
not an importable package, so it is loaded from that file under the name ``pyperformance_bm_<name>``.
The package itself is located without being imported (its ``__init__`` is not needed).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from types import ModuleType


def load_benchmark(name: str) -> ModuleType:
    module_name = f"pyperformance_bm_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.find_spec("pyperformance")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the pyperformance package is not installed (pip install pyperformance)")
    package_dir = next(iter(spec.submodule_search_locations))
    path = os.path.join(package_dir, "data-files", "benchmarks", f"bm_{name}", "run_benchmark.py")
    file_spec = importlib.util.spec_from_file_location(module_name, path)
    if file_spec is None or file_spec.loader is None:
        raise ImportError(f"pyperformance has no benchmark file {path}")
    module = importlib.util.module_from_spec(file_spec)
    sys.modules[module_name] = module
    file_spec.loader.exec_module(module)
    return module
