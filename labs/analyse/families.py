"""Same-recipe families: which stored runs may be compared as "version A vs version B".

A run's time depends on how its interpreter was built as well as on its version: the compiler, its
optimisation level, profile-guided optimisation (PGO) and link-time optimisation (LTO). A Debian 3.14
(GCC 16, -O2, PGO+LTO from Debian's packaging) against a pyenv 3.13 (GCC 12, -O3, no PGO) measures both
at once. A family groups the runtimes built by one recipe, read from each run's runtime facts
(labs.core.runtime.build_recipe):

- ``pyenv``: built from source by pyenv on this machine, with the machine's compiler and CPython's
  default configure (no PGO, no LTO). Can show: version against version and, because pyenv builds
  the default and the free-threaded binary from the same source and flags, the cost of free-threading
  (3.13 vs 3.13t vs 3.13t-gil) with the recipe held fixed. Cannot show: how fast a distributed
  CPython is (those are built with PGO+LTO).
- ``pyenv+pgo``, ``pyenv+lto``, ``pyenv+pgo+lto``: the same, configured with --enable-optimizations
  and/or --with-lto (PYTHON_CONFIGURE_OPTS): a family of its own, since PGO and LTO alone move times.
- ``uv``: python-build-standalone builds (clang, PGO+LTO where offered): versions and builds within
  it compare like pyenv's; against other families they add the compiler.
- ``debian``: Debian's own packages (here: trixie's 3.13, sid's 3.14 and 3.15), one packaging recipe
  with PGO and LTO. Can show: the version ladder 3.13 -> 3.14 -> 3.15 as Debian users get it.
  Cannot show: free-threading (Debian ships no free-threaded build), and it cannot separate the
  version from the compiler, since each suite brings its own GCC (14 for trixie, 16 for sid): that
  compiler is named in the comparison's label.
- ``other``: an interpreter from elsewhere (PATH, a container image); compare only within one run's
  build (``build_prefix``).
- ``unrecorded``: a run stored before build recipes were recorded. Its recipe is unknown, so any
  comparison with it is labelled cross-recipe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

UNRECORDED = "unrecorded"


def _runtime(record: Mapping[str, Any]) -> Mapping[str, Any]:
    runtime = record.get("runtime") if isinstance(record, Mapping) else None
    return runtime if isinstance(runtime, Mapping) else {}


def family(record: Mapping[str, Any]) -> str:
    """The same-recipe family of a run, from its record (a stored run's ``labs`` object)."""
    runtime = _runtime(record)
    source = runtime.get("build_source")
    if not isinstance(source, str) or not source:
        return UNRECORDED
    if source in ("pyenv", "other"):
        # configure's optimisation switches change the recipe; Debian's and uv's are part of theirs.
        options = [name for name in ("pgo", "lto") if runtime.get(f"build_{name}") == "yes"]
        return "+".join([source, *options])
    return source


def compiler(record: Mapping[str, Any]) -> str:
    """The compiler the run's interpreter was built with ("GCC 16.2.0"), or "unknown compiler"."""
    runtime = _runtime(record)
    return str(runtime.get("build_compiler") or runtime.get("compiler") or "unknown compiler")


def group(records: Iterable[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Records by family, in the order each family first appears."""
    families: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        families.setdefault(family(record), []).append(record)
    return families


def same_recipe(base: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether two runs come from one family (an unrecorded recipe never matches)."""
    return family(base) == family(other) != UNRECORDED


def comparison_label(base: Mapping[str, Any], other: Mapping[str, Any]) -> str:
    """How a comparison between two runs must be labelled: within one family (naming the compilers when
    they differ, as they do along Debian's ladder) or across recipes, naming both."""
    first, second = family(base), family(other)
    if not same_recipe(base, other):
        return f"cross-recipe: {first} ({compiler(base)}) vs {second} ({compiler(other)})"
    compilers = compiler(base), compiler(other)
    if compilers[0] != compilers[1]:
        return f"within {first} (compilers differ: {compilers[0]} vs {compilers[1]})"
    return f"within {first}"
