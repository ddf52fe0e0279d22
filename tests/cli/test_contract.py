"""The CLI's contract under random input (Hypothesis): exit 0, 1 or 2; one ERROR line, never a
traceback; no process left; nothing written outside ``--results``.

Argument vectors, environment values and result files are drawn at random from pieces a hostile
user would try. Every command is kept cheap (``bench`` always plans with ``--dry-run``; ``run``
sizes stay small), so each example is one short real process.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from labtest import run_cli

ROOT = Path(__file__).resolve().parents[2]
NASTY = ["", "0", "-1", "1", "2", "nan", "inf", "1e309", "abc", ",", "1,,2", "../../x", "9" * 30, "é", "-"]
NAMES = ["nbody", "fib", "download", "serial", "threads", "asyncio", "processes-fork", "nope", "n-workers"]
VALUE = st.sampled_from(NASTY + NAMES)
ENV_NAMES = ["LABS_HTTP_TIMEOUT", "LABS_HTTP_LATENCY_MS", "LABS_HTTP_PAYLOAD", "LABS_SERVER_PYTHON"]

OPTIONS = {
    "run": ["-w", "-m", "-p", "-n", "--size", "--timeout", "--fault", "--latency-ms", "--payload"],
    "bench": ["-w", "-m", "-p", "-n", "--kind", "--suite", "--bench-timeout", "--payload-sizes", "--resume"],
    "compare": ["--threshold"],
    "report": [],
    "race": ["--threads", "--increments"],
    "list": [],
    "doctor": [],
}


@st.composite
def argument_vectors(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from([*OPTIONS, "nope", "--help-me", ""]))
    argv = [command] if command else []
    for option in draw(st.lists(st.sampled_from(OPTIONS.get(command) or ["--x"]), max_size=4)):
        argv += [option, draw(VALUE)]
    if command == "run":
        argv += ["--size", draw(st.sampled_from(["1", "2", "0", "x", "1000000000"])), "--timeout", "20"]
    if command == "bench":
        argv.append("--dry-run")
    if command == "race":
        argv += ["--increments", draw(st.sampled_from(["10", "0", "x", "-5"]))]
    if command in ("compare",):
        argv += draw(st.lists(st.sampled_from(["3.13", "3.13t", "x", "m/3.13", "../x"]), max_size=2))
    return argv


@st.composite
def result_files(draw: st.DrawFn) -> list[tuple[str, str]]:
    """Pyperf-looking files with random damage, at random places under results/."""
    files = []
    for _ in range(draw(st.integers(0, 2))):
        values = draw(st.lists(st.sampled_from([0.01, 0.0, -1.0, "x", None, 1e309]), min_size=1, max_size=3))
        bench = {
            "metadata": {"name": "fib/serial/n-workers/w1", "lab_kind": "cpu"},
            "runs": [{"values": values}],
        }
        document = {"version": "1.0", "benchmarks": draw(st.sampled_from([[bench], "x", None, [1]]))}
        document["labs"] = draw(
            st.sampled_from([{"machine": "m", "runtime": {"tag": "3.13"}}, "x", {"machine": "../../x"}])
        )
        text = draw(st.sampled_from([json.dumps(document), "{not json", "", "[]"]))
        place = draw(st.sampled_from(["m/3.13/a.json", "m/3.13t/b.json", "other/3.13/c.json"]))
        files.append((place, text))
    return files


def everything_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    argv=argument_vectors(),
    env=st.dictionaries(st.sampled_from(ENV_NAMES), VALUE, max_size=2),
    files=result_files(),
)
def test_the_cli_keeps_its_contract_whatever_it_is_given(tmp_path_factory, argv, env, files):
    home = tmp_path_factory.mktemp("cwd")  # where the user stands; only results/ may change under it
    results = home / "results"
    for place, text in files:
        (results / place).parent.mkdir(parents=True, exist_ok=True)
        (results / place).write_text(text)
    if argv and argv[0] in ("bench", "compare", "report"):
        argv = [*argv, "--results", str(results)]
    before = everything_under(home)
    home_dir = str(tmp_path_factory.mktemp("home"))
    done = run_cli(*argv, timeout=90, env={"PYTHONPATH": str(ROOT), "HOME": home_dir, **env}, cwd=home)
    stderr = done.stderr
    assert done.returncode in (0, 1, 2), (argv, env, stderr)
    assert "Traceback" not in stderr, (argv, env, stderr)
    if done.returncode:
        errors = [line for line in stderr.splitlines() if line.startswith("ERROR:")]
        assert len(errors) == 1, (argv, env, stderr)
    assert done.leftover == []
    written = {path for path in everything_under(home) - before if results not in path.parents}
    assert not written, (argv, written)
