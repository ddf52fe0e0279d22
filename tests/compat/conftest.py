"""Fake C extensions, compiled in the test by the interpreter under test's own headers and gcc, and
packed as wheels so that the probe installs them exactly as it installs a package from the index.

- ``fakegil``: multi-phase init and safe in subinterpreters with their own GIL, but without the
  ``Py_mod_gil`` slot, so importing it on a free-threaded build turns the GIL back on.
- ``fakesingle``: single-phase init (``PyModule_Create``), which subinterpreters with their own GIL
  refuse to load; it declares itself GIL-free so that it fails in one way only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from labs.plan import discovery

# What both fake modules export: add(a, b).
ADD_FUNCTION = r"""
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, NULL}, {NULL, NULL, 0, NULL}};
"""

MULTI_PHASE_NO_GIL_SLOT = (
    ADD_FUNCTION
    + r"""
static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL}  /* no Py_mod_gil: the module has not said it can run without the GIL */
};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "fakegil", NULL, 0, methods, slots};
PyMODINIT_FUNC PyInit_fakegil(void) { return PyModuleDef_Init(&def); }
"""
)

SINGLE_PHASE = (
    ADD_FUNCTION
    + r"""
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "fakesingle", NULL, -1, methods};
PyMODINIT_FUNC PyInit_fakesingle(void) {
    PyObject *module = PyModule_Create(&def);
#ifdef Py_GIL_DISABLED
    if (module != NULL) PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED);
#endif
    return module;
}
"""
)

SOURCES = {"fakegil": MULTI_PHASE_NO_GIL_SLOT, "fakesingle": SINGLE_PHASE}
_FACTS = (
    "import json, sys, sysconfig; print(json.dumps({'include': sysconfig.get_paths()['include'], "
    "'suffix': sysconfig.get_config_var('EXT_SUFFIX'), "
    "'ft': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), "
    "'platform': sysconfig.get_platform(), 'version': '%d%d' % sys.version_info[:2]}))"
)


def interpreters() -> dict[str, discovery.Interpreter]:
    found, _ = discovery.discover(("3.12", "3.13", "3.13t", "3.14", "3.14t"))
    return found


def _has_headers(python: str) -> bool:
    include = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['include'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return (Path(include) / "Python.h").is_file()


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(python: str, module: str, folder: Path) -> Path:
    """Compile *module* for *python* and pack it as an installable wheel; returns the wheel's path."""
    facts = json.loads(
        subprocess.run([python, "-c", _FACTS], capture_output=True, text=True, check=True).stdout
    )
    library = folder / f"{module}{facts['suffix']}"
    source = folder / f"{module}.c"
    source.write_text(SOURCES[module])
    compile_command = [
        "gcc",
        "-shared",
        "-fPIC",
        "-O1",
        f"-I{facts['include']}",
        str(source),
        "-o",
        str(library),
    ]
    if facts["ft"]:
        compile_command.insert(1, "-DPy_GIL_DISABLED=1")  # pyconfig.h says so too; kept explicit
    subprocess.run(compile_command, check=True, capture_output=True)
    abi = f"cp{facts['version']}{'t' if facts['ft'] else ''}"
    tag = f"cp{facts['version']}-{abi}-{facts['platform'].replace('-', '_').replace('.', '_')}"
    info = f"{module}-0.1.dist-info"
    files = {
        library.name: library.read_bytes(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n".encode(),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: {tag}\n".encode(),
        f"{info}/top_level.txt": f"{module}\n".encode(),
    }
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    wheel = folder / f"{module}-0.1-{tag}.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


def build_pure_wheel(module: str, code: str, folder: Path) -> Path:
    """A pure-Python wheel whose module runs *code* on import (a crash or a hang, for the tests)."""
    info = f"{module}-0.1.dist-info"
    files = {
        f"{module}.py": code.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [_record_line(name, data) for name, data in files.items()] + [f"{info}/RECORD,,"]
    wheel = folder / f"{module}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return wheel


@pytest.fixture(scope="session")
def fake_wheels(tmp_path_factory: pytest.TempPathFactory):
    """(tag, module) -> wheel, built lazily for the runtimes found here; skips without gcc."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed: the fake extensions cannot be compiled")
    built: dict[tuple[str, str], Path] = {}
    found = interpreters()

    def get(tag: str, module: str) -> tuple[discovery.Interpreter, Path]:
        if tag not in found:
            pytest.skip(f"runtime {tag} is not installed here")
        if (tag, module) not in built:
            if not _has_headers(found[tag].path):
                pytest.skip(f"runtime {tag} has no C headers here (Python.h): nothing can be compiled for it")
            folder = tmp_path_factory.mktemp(f"fake-{tag}-{module}")
            built[(tag, module)] = build_wheel(found[tag].path, module, folder)
        return found[tag], built[(tag, module)]

    return get


@pytest.fixture
def pure_wheel(tmp_path: Path):
    """build_pure_wheel into this test's folder."""
    return lambda module, code: build_pure_wheel(module, code, tmp_path)
