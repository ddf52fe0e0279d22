"""REPORT.md and its plots end to end: from fixture runs, from a fresh real run, and with nothing stored."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from labtest import lab_command, read_only, tmpfs
from report_fixtures import write_fixture_reports
from synthetic_runs import run

from labs.analyse import runs as analysis
from labs.report import build, plots
from labs.report.estimates import Estimate, check_physics
from labs.report.sections import SECTIONS
from labs.report.sections.setup import setup
from labs.report.view import build_view

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "results"
MACHINE = "2cpu-3354490b"
STEMS = (
    "scaling-contention",
    "scaling-fib",
    "scaling-nbody",
    "gil-effect",
    "startup",
    "transfer",
    "memory",
    "history",
    "single-thread-overhead",
    "io-crossover",
)


@pytest.fixture(scope="module")
def fixture_report(tmp_path_factory) -> Path:
    markdown_path, html_path = write_fixture_reports(tmp_path_factory.mktemp("results"))
    assert html_path.stat().st_size > 10_000
    return markdown_path


def test_report_has_every_section_in_order(fixture_report):
    text = fixture_report.read_text(encoding="utf-8")
    titles = [compute.__name__ for compute in SECTIONS]
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    # the answer first, then the contents and the findings, then every other section as an appendix
    answer = "The answer: which model, how many workers, on which Python"
    assert headings[:4] == [answer, "Decision summary", "Contents", "Findings"] and headings[-1] == "Left out"
    assert len(headings) == len(titles) + 3
    left_out = text.split("## Left out", 1)[1]
    assert "- 3.13t-gil / io: no data (`nox -s bench -- --kind io`)" in left_out
    assert "- 3.12/2026-11-26T15-35-11Z.json: no measured bench" in left_out
    for heading in [h for h in headings if h != "Contents"]:
        assert (
            f"](#{re.sub(r'[^a-z0-9 _-]', '', heading.lower()).replace(' ', '-')})" in text
        )  # contents link


def test_every_plot_is_written(fixture_report):
    pytest.importorskip("matplotlib", reason="plots need matplotlib (the plot dependency group)")
    for stem in STEMS:
        png, svg = (fixture_report.parent / f"{stem}.{suffix}" for suffix in ("png", "svg"))
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert png.stat().st_size > 1000 and b"<svg" in svg.read_bytes()[:2000], svg
        assert f"![{stem}]({stem}.png)" in fixture_report.read_text(encoding="utf-8")


def test_runs_outside_runtime_tag_folders_are_a_problem_not_a_report(tmp_path):
    source = FIXTURES / MACHINE / "3.13" / "2026-11-26T15-29-28Z.json"
    (tmp_path / MACHINE / "nightly").mkdir(parents=True)
    shutil.copy(source, tmp_path / MACHINE / "nightly" / source.name)
    written, problems = build.write_reports(tmp_path)
    assert written == [] and not (tmp_path / MACHINE / "REPORT.md").exists()
    assert not (tmp_path / MACHINE / "REPORT.html").exists()
    why = "nightly/2026-11-26T15-29-28Z.json: not a runtime tag folder"
    assert f"{MACHINE}: no run to report: {why}" in problems


def test_a_bar_plot_without_intervals_is_refused(tmp_path):
    plt = plots.pyplot()
    if plt is None:
        pytest.skip("plots need matplotlib")
    bars = plots.BarPlot("bad", "bad", ("a",), (plots.Series("x", ("a",), (1.0,)),), "y")
    with pytest.raises(ValueError, match="bar plot bad: series without intervals: x"):
        plots.write(bars, tmp_path, plt)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("value", "low", "high", "workers", "suspect"),
    [
        (2.3, 2.1, 2.5, 2, "above 2 usable CPUs × 1.1"),
        (2.19, 2.0, 2.4, 2, ""),
        (1.2, 1.11, 1.3, 1, "one worker, interval outside [0.9, 1.1]"),
        (0.85, 0.8, 0.89, 1, "one worker, interval outside [0.9, 1.1]"),
        (1.2, 1.05, 1.3, 1, ""),
    ],
)
def test_physics_check(value, low, high, workers, suspect):
    checked = check_physics(Estimate(value, low, high, "3x3"), workers, usable_cpus=2)
    assert checked.suspect == suspect and checked.usable == (not suspect)


def test_a_runtime_with_only_quick_runs_is_left_out_whole(tmp_path):
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    quick = tmp_path / MACHINE / "3.13" / "2026-11-26T14-06-16Z.json"
    (tmp_path / MACHINE / "3.14").mkdir()
    quick.rename(tmp_path / MACHINE / "3.14" / quick.name)
    runs, problems = analysis.load(tmp_path)
    view = build_view(MACHINE, runs, problems, normalize=True)
    assert "3.14" not in [str(t) for t in view.tags]
    assert "3.14: every suite (no run in this report's mode)" in view.left_out


@pytest.fixture(scope="module")
def real_results(tmp_path_factory):
    """A small real run of the lab on this interpreter, stored the way `nox -s bench` stores it."""
    root = tmp_path_factory.mktemp("results")
    done = lab_command(
        "bench",
        "--no-fingerprint",
        "--quick",
        "-w",
        "fib,hashing",
        "-m",
        "serial,threads,processes-fork",
        "-p",
        "n-workers",
        "-n",
        "1,2",
        "--suite",
        "matrix",
        "--results",
        str(root),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return root


def test_report_from_a_real_run(real_results):
    pytest.importorskip("matplotlib", reason="plots need matplotlib (the plot dependency group)")
    written, _problems = build.write_reports(real_results)
    path, page, _profile = written
    assert page.name == "REPORT.html"
    text = path.read_text()
    for heading in (
        "## Findings",
        "## Setup",
        "## Method",
        "## Speedup vs workers",
        "### fib",
        "## The GIL's effect on threads",
        "## Subinterpreters vs processes",
        "## History",
        "## Left out",
    ):
        assert heading in text
    # a quick run measures each bench in one process: no between-process interval, and n says so
    imprecise = r"\| \S+ \| threads \| \d+ \| ≈[\d.]+× \(no interval\) n=1x\d+ paired \|"  # ≈: imprecise
    assert re.search(imprecise, text)
    for stem in ("scaling-fib", "scaling-hashing", "gil-effect", "startup"):
        for suffix in ("png", "svg"):
            image = path.parent / f"{stem}.{suffix}"
            assert image.stat().st_size > 1000, image
    assert (path.parent / "scaling-fib.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_finding_carries_its_number(real_results, tmp_path):
    # Two runtimes side by side so that the comparative findings appear: the real run, and a copy of it
    # filed under a free-threaded tag (its values are real; only the label differs).
    (source,) = sorted(real_results.glob("*/*/*.json"))
    data = json.loads(source.read_text())
    machine = source.parent.parent.name
    for tag in (source.parent.name, "9.9", "9.9t"):
        target = tmp_path / machine / tag
        target.mkdir(parents=True, exist_ok=True)
        (target / source.name).write_text(json.dumps(data))
    runs, _ = analysis.load(tmp_path)
    rendered, written = build.report(build_view(machine, runs, []), tmp_path / machine)
    # the key questions state their findings first; the Findings list holds the rest
    questions = rendered.split("### Key questions", 1)[1].split("\n\n", 2)[1]
    findings = rendered.split("## Findings", 1)[1].split("\n## ", 1)[0]
    sentences = [
        line[2:] for line in findings.splitlines() if line.startswith("- ") and "key questions" not in line
    ]
    sentences += [q for q in questions.splitlines() if q.startswith("- ") and "not measured" not in q]
    assert len(sentences) >= 2
    if plots.pyplot() is not None:
        assert tmp_path / machine / "history.png" in written  # across the three runtimes
    for sentence in sentences:
        assert re.search(r"\d+\.\d+×|\d+(\.\d+)? (ms|us|s)\b", sentence), sentence
        assert "n=" in sentence, sentence


def test_report_with_no_results_is_a_clear_error(tmp_path):
    done = lab_command("report", "--results", str(tmp_path), timeout=60)
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f"ERROR: no results to report under {str(tmp_path)!r}: run `nox -s bench` first"
    )


def test_a_report_reads_one_host_and_names_the_others(tmp_path):
    """Same machine id, a 2.5x slower host: its run is left out by name, never mixed into the numbers."""
    fast, slow, fast_again = run("2026-01-01"), run("2026-01-02", speed=2.5), run("2026-01-03", seed=1)
    view = build_view("2cpu-test", [fast, slow, fast_again], [])
    assert view.host is not None and view.host == view.host_of[fast]
    assert any("2026-01-02.json: ran on another host" in line for line in view.left_out)
    text = "\n".join(setup(view).lines)
    assert "speed class 1) **(this report)**" in text and "speed class 2)" in text


def test_a_report_reads_the_newest_complete_session_alone():
    """Two complete sessions of two runtimes, then one cut short and one that asked one workload: the
    report reads the newer complete one, names the others, and merges every session only when asked."""
    done = "2026-01-0{}T01:00:00Z"
    old = [
        run("2026-01-01", tag=t, session="a", finished=done.format(1), seed=i, whole=True)
        for i, t in enumerate(("3.13", "3.14"))
    ]
    new = [
        run("2026-01-02", tag=t, session="b", finished=done.format(2), seed=i + 2, whole=True)
        for i, t in enumerate(("3.13", "3.14"))
    ]
    cut = run("2026-01-03", tag="3.13", session="c", seed=5, whole=True)  # never finished: cut short
    narrow = run("2026-01-04", tag="3.13", session="d", finished=done.format(4), seed=6)  # -w nbody, say
    view = build_view("2cpu-test", [*old, *new, cut, narrow], [])
    assert view.session == "b"
    assert [s for v in view.runtimes.values() for s in v.sources] == [
        "3.13/2026-01-02.json",
        "3.14/2026-01-02.json",
    ]
    assert sum("not the newest complete session" in line for line in view.left_out) == 3  # a, c, d
    assert any(line.startswith("session a (3.13, 3.14)") for line in view.left_out)
    assert "session `b` alone" in "\n".join(setup(view).lines)
    merged = build_view("2cpu-test", [*old, *new, cut, narrow], [], all_sessions=True)
    assert merged.session is None and len(merged.runtimes[next(iter(merged.runtimes))].sources) == 4
    assert build_view("2cpu-test", [cut, narrow], []).session is None  # nothing complete: all, named
    assert "every session merged" in "\n".join(setup(merged).lines)


def test_normalize_keeps_a_slower_speed_class_scaled_and_named(tmp_path):
    """--normalize: a run of a 2.5x slower speed class is kept, its times divided by 2.5, and named."""
    slow, fast = run("2026-01-01", speed=2.5), run("2026-01-02", seed=1)
    assert not build_view("2cpu-test", [slow, fast], []).normalized  # without it: left out, as above
    view = build_view("2cpu-test", [slow, fast], [], normalize=True)
    assert not any("ran on another host" in line for line in view.left_out)
    assert len(view.normalized) == 1 and "2026-01-01.json" in view.normalized[0]
    assert "times divided by 2.500" in view.normalized[0]
    assert next(iter(view.runtimes.values())).sources == [
        "3.13(normalized)/2026-01-01.json",
        "3.13/2026-01-02.json",
    ]
    assert "Normalized (`labs report --normalize`)" in "\n".join(setup(view).lines)


def test_a_report_goes_where_its_runs_were_found_whatever_the_files_say(tmp_path):
    """A file's labs.machine is untrusted: "../../x" once sent REPORT.md outside --results."""
    source = next((FIXTURES / MACHINE / "3.13").glob("*.json"))
    data = json.loads(source.read_text())
    data["labs"]["machine"] = "elsewhere"
    (tmp_path / "results" / "mine" / "3.13").mkdir(parents=True)
    (tmp_path / "results" / "mine" / "3.13" / source.name).write_text(json.dumps(data))
    done = lab_command("report", "--results", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "results" / "mine" / "REPORT.md").exists()
    assert "says machine 'elsewhere' but is filed under 'mine'" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_a_plain_pyperf_file_says_its_gil_state_is_unknown(tmp_path):
    source = next((FIXTURES / MACHINE / "3.13").glob("*.json"))
    data = json.loads(source.read_text())
    data["labs"] = {}  # what pyperf alone would have written: no runtime facts
    for bench in data["benchmarks"]:
        for name in ("lab_gil_enabled", "lab_free_threaded_build"):
            bench["metadata"].pop(name, None)
    (tmp_path / MACHINE / "3.13").mkdir(parents=True)
    (tmp_path / MACHINE / "3.13" / source.name).write_text(json.dumps(data))
    runs, problems = analysis.load(tmp_path)
    view = build_view(MACHINE, runs, problems, normalize=True)
    row = next(line for line in setup(view).lines if line.startswith("| 3.13 |"))
    assert "| unknown | unknown |" in row


def test_a_report_that_cannot_be_written_is_one_line(tmp_path):
    with tmpfs(tmp_path / "ro", "4m") as mount:
        shutil.copytree(FIXTURES, mount, dirs_exist_ok=True)
        read_only(mount)
        done = lab_command("report", "--results", str(mount))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("ERROR: cannot write the report in")


def test_a_new_quick_run_from_a_busy_minute_hides_nothing(tmp_path):
    """A copy of the committed runs plus one --quick run whose fingerprint read 13% slower (the README's
    example, taken while the machine was busy): the report still covers every runtime it covered."""
    committed = Path(__file__).resolve().parents[2] / "results" / MACHINE
    shutil.copytree(
        committed, tmp_path / MACHINE, ignore=shutil.ignore_patterns("*.html", "*.md", "*.png", "*.svg")
    )
    runs, problems = analysis.load(tmp_path)
    before = build_view(MACHINE, runs, problems)
    newest = max((r for r in runs if r.tag == "3.13"), key=lambda r: r.started)
    data = json.loads(newest.path.read_text())
    record = data["labs"]
    record.update(mode="quick", started="2027-01-01T00-00-00Z", finished="2027-01-01T00:00:43+00:00")
    record["session"] = "a-later-quick-run"
    for moment in ("start", "end"):
        taken = record["fingerprint"][moment]
        taken["seconds"] = {kernel: value * 1.13 for kernel, value in taken["seconds"].items()}
    (tmp_path / MACHINE / "3.13" / "2027-01-01T00-00-00Z.json").write_text(json.dumps(data))
    runs, problems = analysis.load(tmp_path)
    after = build_view(MACHINE, runs, problems)
    assert len(before.tags) >= 5 and after.tags == before.tags
    assert any("2027-01-01T00-00-00Z.json: a quick run" in line for line in after.left_out)


def test_a_curve_never_mixes_job_sizes_and_its_fit_says_its_task_count():
    """16 cores, 3.13t threads on nbody: w1 and w4 from 8-task jobs, w2 and w16 from 32-task jobs. One
    curve, one job size: the 32-task one is drawn and the 8-task points are named as left out; 3.13's
    threads (w1, w2, w16, all 32 tasks) get a USL fit and a recommended count, with the task count."""
    from labs.report.sections.scaling import scaling
    from labs.report.sections.workers import workers

    machine = "16cpu-a43ba0eb"
    runs, _ = analysis.load(Path(__file__).resolve().parents[2] / "results")
    view = build_view(machine, [r for r in runs if r.machine == machine], [])
    free = next(rt for tag, rt in view.runtimes.items() if str(tag) == "3.13t")
    assert sorted(free.curve("nbody", "threads")) == [2, 16] and free.job_size("nbody", "threads") == 32
    # the decision compares jobs of one size: a shorter 8-task job at w4 is not "faster" than w16's
    from labs.report.sections import best

    assert best.choose(free, "nbody").key.workers == 16
    left_out = scaling(view).left_out
    assert (
        "3.13t nbody/threads: w1, w4 measured with 8 tasks a job, left out of its 32-task curve"
        in "".join(left_out)
    )
    (row,) = [line for line in workers(view).lines if line.startswith("| 3.13 | nbody | threads |")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[3] == "32" and cells[4] == "w1 0.95×, w2 0.97×, w16 0.93×" and cells[6] == "w1"
    assert re.fullmatch(r"\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\]", cells[7]), cells[7]  # sigma with its interval
