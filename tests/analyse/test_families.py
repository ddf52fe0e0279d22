"""Same-recipe families of stored runs, from their records."""

from __future__ import annotations

from labs.analyse import families


def record(source=None, compiler="GCC 12.2.0", pgo="no", lto="no", **extra):
    runtime = {"version": "3.13.5", "compiler": compiler, **extra}
    if source is not None:
        runtime |= {"build_source": source, "build_compiler": compiler, "build_pgo": pgo, "build_lto": lto}
    return {"machine": "m", "runtime": runtime}


PYENV_313 = record("pyenv")
PYENV_313T = record("pyenv", free_threaded_build=True)
PYENV_PGO = record("pyenv", pgo="yes", lto="yes")
DEBIAN_313 = record("debian", "GCC 14.2.0", "by Debian's packaging (not in CONFIG_ARGS)")
DEBIAN_314 = record("debian", "GCC 16.2.0", "by Debian's packaging (not in CONFIG_ARGS)")
DEBIAN_315 = record("debian", "GCC 16.2.0", "by Debian's packaging (not in CONFIG_ARGS)")
OLD = record(None)


def test_each_run_has_the_family_of_its_recipe():
    assert families.family(PYENV_313) == families.family(PYENV_313T) == "pyenv"
    assert families.family(PYENV_PGO) == "pyenv+pgo+lto"
    assert families.family(record("pyenv", lto="yes")) == "pyenv+lto"
    assert families.family(DEBIAN_314) == "debian"  # Debian's optimisation is its recipe, not a variant
    assert families.family(record("uv")) == "uv"
    assert families.family(OLD) == families.family({}) == families.family({"runtime": "?"}) == "unrecorded"


def test_group_keeps_first_appearance_order():
    grouped = families.group([DEBIAN_314, PYENV_313, DEBIAN_315, PYENV_313T, OLD])
    assert list(grouped) == ["debian", "pyenv", "unrecorded"]
    assert grouped["debian"] == [DEBIAN_314, DEBIAN_315]


def test_labels_say_within_or_across_recipes():
    assert families.comparison_label(PYENV_313, PYENV_313T) == "within pyenv"
    assert families.comparison_label(DEBIAN_314, DEBIAN_315) == "within debian"
    assert (
        families.comparison_label(DEBIAN_313, DEBIAN_314)
        == "within debian (compilers differ: GCC 14.2.0 vs GCC 16.2.0)"
    )
    assert (
        families.comparison_label(PYENV_313, DEBIAN_314)
        == "cross-recipe: pyenv (GCC 12.2.0) vs debian (GCC 16.2.0)"
    )
    assert families.comparison_label(PYENV_313, PYENV_PGO).startswith("cross-recipe: pyenv ")


def test_an_unrecorded_recipe_never_counts_as_the_same():
    assert not families.same_recipe(OLD, OLD)
    assert families.comparison_label(OLD, PYENV_313).startswith("cross-recipe: unrecorded (GCC 12.2.0)")
