"""REPORT.html: self-contained, built from the sections' cells and plots, and working in a real browser.

The browser tests drive Debian's chromium through chromium-driver (selenium, driver path given
explicitly) from a file:// URL with the network switched off. They are skipped, with the reason,
only where chromium, its driver or selenium is absent; `.ci/run` installs them. The screenshots go
to $LABS_ARTIFACTS when set (a CI artifact), else to pytest's temporary directory.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import pytest
from report_fixtures import FIXTURES, write_fixture_reports

from labs.report import html

MACHINE = "2cpu-3354490b"
# headless, no sandbox (CI runs as root), and nothing that reaches for the network by itself
CHROMIUM_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
    "--disable-component-update --disable-sync"
).split()


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    pytest.importorskip("plotly", reason="the page's plots need plotly (the plot dependency group)")
    return write_fixture_reports(tmp_path_factory.mktemp("results"))[1]


def test_the_page_is_self_contained(page):
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", text)  # every script inline, no images fetched
    assert "<link" not in text and "@import" not in text and "@font-face" not in text
    assert not re.search(r"url\(\s*['\"]?https?:", text)
    assert text.count("<script") == 3  # the figures' JSON, plotly.js, the page's own code
    assert 'name="viewport"' in text


def test_the_decision_summary_comes_first_and_every_section_has_an_anchor(page):
    text = page.read_text(encoding="utf-8")
    headings = re.findall(r'<h2 id="([^"]+)">', text)
    assert headings[:2] == ["the-answer-which-model-how-many-workers-on-which-python", "decision-summary"]
    assert text.index('id="decision-summary"') < text.index('id="contents"') < text.index('id="findings"')
    for anchor in headings:
        assert f'href="#{anchor}"' in text, anchor  # listed in the contents
    assert "best-model-per-workload-and-runtime" in headings and headings[-1] == "left-out"


def test_flagged_numbers_look_different_and_say_why(page):
    text = page.read_text(encoding="utf-8")
    # fib on 3.13: processes-spawn's 2.33x is above the 2 usable CPUs: a suspect number
    suspect = re.search(r'<td data-sort="[^"]+" class="num flagged" title="([^"]+)">≈2\.33×', text)
    assert suspect, "the suspect speedup is not flagged"
    assert "fib/processes-spawn/n-workers/w2" in suspect.group(
        1
    ) and "suspect: above 2 usable CPUs" in suspect.group(1)
    assert re.search(r'class="num flagged" title="[^"]*unstable: [^"]*CV \d+%', text)  # an unstable one


def test_without_plotly_the_page_says_its_plots_are_left_out(tmp_path):
    from labs.analyse import runs as analysis
    from labs.report.sections import SECTIONS
    from labs.report.view import build_view

    runs, problems = analysis.load(FIXTURES)
    view = build_view(MACHINE, runs, problems, normalize=True)
    text = html.render(view, [compute(view) for compute in SECTIONS], None)
    assert text.count("<script") == 2 and text.count(html.NO_PLOTLY) > 5  # no plotly.js, plots say why
    assert '<table class="sortable">' in text


# --- in a real browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("chromium or chromium-driver is not installed (apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test group)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def loaded(browser, page):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.as_uri())
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script(
            "return !!window.Plotly && document.querySelectorAll('.panel[data-plot]').length > 0 && "
            "document.querySelectorAll('.panel[data-plot]:not(.js-plotly-plot)').length === 0"
        )
    )
    return browser


def artifacts(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("LABS_ARTIFACTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_no_console_errors_and_nothing_fetched(loaded):
    errors = [entry for entry in loaded.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    fetched = loaded.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert fetched == []


RENDERED = """
return Array.from(document.querySelectorAll('.panel[data-plot]')).map(div => ({
  plot: div.dataset.plot + '#' + div.dataset.panel,
  svg: div.querySelectorAll('svg.main-svg').length,
  points: div.querySelectorAll('.scatterlayer .point, .barlayer .point').length,
  errorbars: div.querySelectorAll('.errorbar').length,
}));
"""


def test_every_plot_has_rendered_with_its_data(loaded):
    panels = loaded.execute_script(RENDERED)
    stems = {p["plot"].split("#")[0] for p in panels}
    expected = {"gil-effect", "startup", "transfer", "memory", "history", "single-thread-overhead"}
    assert expected | {"scaling-fib", "scaling-nbody", "scaling-contention", "io-crossover"} <= stems
    for panel in panels:
        assert panel["svg"] >= 1 and panel["points"] > 0, panel
        assert panel["errorbars"] > 0, panel  # every point carries its interval


TRACES = """
const runtime = arguments[0];
const panels = Array.from(document.querySelectorAll('.js-plotly-plot'));
const mine = panels.flatMap(div => div.data.filter(t => t.meta && t.meta.runtime === runtime));
return {
  mine: mine.length,
  shown: mine.filter(t => t.visible !== false).length,
  drawn: panels.reduce(
    (n, div) => n + div.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length, 0),
};
"""


def test_toggling_a_runtime_hides_its_traces(loaded):
    before = loaded.execute_script(TRACES, "3.13t")
    assert before["mine"] > 5 and before["shown"] == before["mine"]
    box = loaded.find_element("css selector", '.toggles input[data-kind="runtime"][value="3.13t"]')
    loaded.execute_script("arguments[0].click()", box)
    after = loaded.execute_script(TRACES, "3.13t")
    assert after["shown"] == 0 and after["drawn"] < before["drawn"]
    loaded.execute_script("arguments[0].click()", box)
    assert loaded.execute_script(TRACES, "3.13t")["shown"] == before["mine"]


COLUMN = """
const table = document.querySelectorAll('#section-decision-summary table.sortable')[arguments[0]];
return Array.from(table.tBodies[0].rows).map(r => r.cells[arguments[1]].dataset.sort ?? null);
"""


def test_sorting_a_table_reorders_it(loaded):
    # the decision summary's CPU-bound table: column 3 is the best speedup
    before = [float(v) for v in loaded.execute_script(COLUMN, 0, 3)]
    assert before != sorted(before)
    tables = loaded.find_elements("css selector", "#section-decision-summary table.sortable")
    heading = tables[0].find_elements("css selector", "th")[3]
    loaded.execute_script("arguments[0].click()", heading)
    assert [float(v) for v in loaded.execute_script(COLUMN, 0, 3)] == sorted(before)
    loaded.execute_script("arguments[0].click()", heading)
    assert [float(v) for v in loaded.execute_script(COLUMN, 0, 3)] == sorted(before, reverse=True)
    assert heading.get_attribute("aria-sort") == "descending"


def test_readable_at_phone_width(loaded, tmp_path):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    phone = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
    loaded.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", phone)
    sideways = "return document.documentElement.scrollWidth - window.innerWidth"
    narrow = "return window.innerWidth === 390"
    try:
        try:  # plotly redraws its plots for the new width on the resize event, a moment later
            WebDriverWait(loaded, 10).until(
                lambda d: d.execute_script(narrow) and d.execute_script(sideways) <= 1
            )
        except TimeoutException:
            pass
        # a mobile browser widens its layout viewport to fit content that overflows: it must stay 390
        assert loaded.execute_script(narrow)
        wide = loaded.execute_script(sideways)
        assert wide <= 1, f"the page scrolls sideways by {wide}px on a phone-width screen"
        loaded.save_screenshot(str(artifacts(tmp_path) / "report-phone.png"))
    finally:
        loaded.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_full_page_screenshot(loaded, tmp_path):
    size = loaded.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    clip = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
    shot = loaded.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    full = artifacts(tmp_path) / "report-full-page.png"
    full.write_bytes(base64.b64decode(shot["data"]))
    assert full.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and full.stat().st_size > 50_000


HOVER = """
const div = document.querySelector('#plot-scaling-fib .js-plotly-plot');
div.scrollIntoView();
Plotly.Fx.hover(div, [{curveNumber: 0, pointNumber: 1}]);
return div.querySelector('.hoverlayer').textContent;
"""


def test_hovering_a_point_shows_its_value_interval_n_and_bench(loaded):
    text = loaded.execute_script(HOVER)
    # the first trace of the first panel: threads on 3.12, at 2 workers
    assert "fib/threads/n-workers/w2" in text, text
    assert re.search(r"value \d\.\d+", text) and re.search(r"95% interval \[\d\.\d+, \d\.\d+\]", text), text
    assert "n=3x3" in text, text


FIRST_SCREEN = """
const inView = el => { const r = el.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight - 80; };
const answer = document.querySelector('[id^="section-the-answer"]');
const cpu = answer ? answer.querySelector('table.sortable') : null;
const plot = answer ? answer.querySelector('.panel[data-plot].js-plotly-plot') : null;
return {
  cpu_rows: cpu && inView(cpu) ? Array.from(cpu.tBodies[0].rows).filter(inView).length : 0,
  cpu_header: cpu ? cpu.tHead.rows[0].cells[0].textContent : null,
  plot: !!plot && inView(plot) && plot.querySelectorAll('.barlayer .point').length > 0,
  width: document.documentElement.scrollWidth - innerWidth,
};
"""


def test_the_committed_report_answers_on_its_first_screen(browser, tmp_path):
    """At 1400x900, before any scrolling, the committed 2-CPU report shows the CPU-bound answer (its
    rows) and a drawn plot: a reader gets the answer without looking for it."""
    committed = Path(__file__).resolve().parents[2] / "results" / MACHINE / "REPORT.html"
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(1400, 900)
    try:
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        browser.get(committed.as_uri())
        WebDriverWait(browser, 60).until(
            lambda d: d.execute_script(
                "return !!window.Plotly && "
                "document.querySelectorAll('.panel[data-plot]:not(.js-plotly-plot)').length === 0"
            )
        )
        seen = browser.execute_script(FIRST_SCREEN)
        browser.save_screenshot(str(artifacts(tmp_path) / "report-first-screen.png"))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.set_window_size(1280, 900)
    assert seen["cpu_header"] == "workload" and seen["cpu_rows"] >= 3, seen
    assert seen["plot"], seen
    assert seen["width"] <= 1, seen
