"""The HTML report: self-contained, robust to any section or plot kind, and fine in a real browser."""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from synthkit.validators import Check, Plot, Report, Section, validate


def tiny_png(shade: int) -> str:
    """A 4×4 grey PNG, base64 (what an image section would carry)."""
    raw = b"".join(b"\x00" + bytes([shade]) * 4 for _ in range(4))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return base64.b64encode(png).decode()


def general_report() -> Report:
    checks = [Check.measure("images.fid", "Fréchet distance <small>", 12.5, "Lower is closer <b>real</b>.",
                            threshold=20, comparison="<=", gate=True),
              Check.measure("images.tstr", "TSTR accuracy", 0.91, "Informational.")]
    plots = [
        Plot(kind="image_grid", title="samples", data={"images": [tiny_png(40 * i) for i in range(6)],
                                                      "labels": [str(i) for i in range(6)], "columns": 3}),
        Plot(kind="sparkles", title="a kind from the future", data={"x": [1, 2, 3]}),
        Plot(kind="histogram", title="broken data", data={"edges": "not a list"}),
        Plot(kind="lines", title="loss", data={"x": [1, 2, 3], "series": {"train": [3, 2, 1.5]}}),
        Plot(kind="bars", title="classes", data={"labels": ["a", "b"], "series": {"real": [0.5, 0.5], "synthetic": [0.7, 0.3]}}),
    ]
    return Report(modality="image", sections=[Section(name="images", title="Images", checks=checks, plots=plots,
                                                      raw={"features": "small CNN"})],
                  provenance={"generator": "ddpm", "parameters": {"steps": 20}})


def test_any_section_and_unknown_plot_kinds_render():
    html = general_report().to_html()
    assert 'id="section-images"' in html and "PASS" in html
    assert html.count("<img ") == 6 and "data:image/png;base64," in html
    assert "cannot be drawn here" in html and "sparkles" in html
    assert "Fréchet distance &lt;small&gt;" in html  # escaped, never raw markup


def test_self_contained_no_network():
    html = general_report().to_html()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    for attribute in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attribute.startswith("data:"), attribute
    assert "<script" not in html and "url(" not in html and "@import" not in html


def _chromium():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed (.ci/run installs them)")
        pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")
    os.environ.setdefault("SE_AVOID_STATS", "true")  # Selenium Manager: no telemetry, no downloads
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)


@pytest.fixture(scope="module")
def browser():
    driver = _chromium()
    yield driver
    driver.quit()


def load(browser, path: Path):
    browser.get(path.resolve().as_uri())
    verdict = browser.find_element("id", "verdict")
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "ERROR", "WARNING")]
    return verdict, errors


def test_a_real_validation_report_in_headless_chromium(browser, adult, tmp_path):
    rows = adult.sample(n=1500, seed=3)
    report = validate(rows[:800], rows[800:1200], holdout=rows[1200:], target="income")
    path = tmp_path / "report.html"
    report.to_html(path)
    verdict, errors = load(browser, path)
    assert errors == []
    assert verdict.is_displayed() and verdict.text.startswith("PASS")
    assert verdict.get_attribute("data-passed") == "true"
    # The plots were drawn: SVG figures with real geometry, one per column plus the extras.
    sizes = browser.execute_script(
        "return Array.from(document.querySelectorAll('figure svg')).map(s => s.getBoundingClientRect().width)")
    assert len(sizes) >= 15 + 3 and min(sizes) > 100
    kinds = set(browser.execute_script("return Array.from(document.querySelectorAll('figure')).map(f => f.dataset.kind)"))
    assert {"histogram", "bars", "heatmap", "roc"} <= kinds


def test_a_failing_image_report_in_headless_chromium(browser, tmp_path):
    report = general_report()
    report.sections[0].checks[0] = Check.measure("images.fid", "Fréchet distance", 35.0, "Lower is closer.",
                                                 threshold=20, comparison="<=", gate=True)
    path = tmp_path / "images.html"
    report.to_html(path)
    verdict, errors = load(browser, path)
    assert errors == []
    assert verdict.is_displayed() and verdict.text.startswith("FAIL") and "Fréchet distance" in verdict.text
    loaded = browser.execute_script(
        "return Array.from(document.images).filter(i => i.complete && i.naturalWidth === 4).length")
    assert loaded == 6


def test_the_browser_check_sees_a_stray_external_reference(browser, tmp_path):
    # The harness itself: a page that tries to load something from outside shows a console error.
    html = general_report().to_html().replace("</main>", '<img src="http://127.0.0.1:9/tracker.png"></main>')
    path = tmp_path / "stray.html"
    path.write_text(html)
    _, errors = load(browser, path)
    assert errors and "Content Security Policy" in errors[0]["message"]
