"""`stance analyze` as a user runs it: a collection with bad articles in it, the exit status, the outputs, and
the report opened in a real headless Chromium (skipped, with the reason, where no browser is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

EXAMPLE = ROOT / "examples" / "collection"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def stance(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, capture_output=True,
                          text=True)


@pytest.fixture(scope="module")
def collection(tmp_path_factory) -> Path:
    """Part of the example, and one of each kind of bad article."""
    folder = tmp_path_factory.mktemp("collection")
    for path in sorted(EXAMPLE.glob("*.txt"))[:8] + sorted(EXAMPLE.glob("*.html"))[:1]:
        shutil.copy(path, folder / path.name)
    (folder / "empty.txt").write_text("Title: Nothing\nDate: 2023-01-01\n\n   \n", encoding="utf-8")
    (folder / "scan.txt").write_bytes(b"%PDF-1.4\n\x00\x01binary")
    (folder / "no-date.txt").write_text("Ankara said it welcomed the talks with Damascus.\n",
                                        encoding="utf-8")
    (folder / "menu.html").write_text("<html><head><script>var menu = [];</script></head><body></body>"
                                      "</html>", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def analysed(collection, model_file, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path_factory.mktemp("analysis") / "out"
    return stance("analyze", str(collection), "-o", str(out), "--model", str(model_file)), out


def test_bad_articles_are_reported_and_skipped_and_the_exit_status_says_so(analysed):
    result, out = analysed
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    problems = pd.read_csv(out / "problems.csv")
    reported = dict(zip(problems["doc_id"], problems["problem"], strict=True))
    assert reported["empty"] == "empty article (no text)"
    assert "NUL byte" in reported["scan"]
    assert reported["menu"] == "no article text found in the page"
    assert reported["no-date"] == "no date"
    assert set(problems.loc[problems["skipped"], "doc_id"]) == {"empty", "scan", "menu", "no-date"}
    for doc in reported:
        assert doc in result.stderr
    assert "9 articles analysed, 4 skipped" in result.stderr
    assert "no-date" not in set(pd.read_csv(out / "statements.csv")["doc"])


def test_the_outputs_map_onto_dna_and_open_in_network_tools(analysed):
    _, out = analysed
    statements = pd.read_csv(out / "statements.csv")
    assert {"person", "organization", "concept", "agreement", "date"} <= set(statements.columns)
    assert set(statements["agreement"]) <= {0, 1} and statements["text"].str.len().min() > 0
    actors = pd.read_csv(out / "actors.csv")
    assert actors["net_stance"].between(actors["ci_low"], actors["ci_high"]).all()
    for name in ("actor_target", "congruence", "conflict"):
        graph = nx.read_graphml(out / f"{name}.graphml")
        assert graph.number_of_nodes() > 0


def test_nothing_analysed_is_exit_status_1_and_writes_nothing(collection, model_file, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(collection / "scan.txt", bad / "scan.txt")
    result = stance("analyze", str(bad), "-o", str(tmp_path / "out"), "--model", str(model_file))
    assert result.returncode == 1 and "no article could be analysed" in result.stderr
    assert not (tmp_path / "out").exists()


def chromium() -> str | None:
    found = os.environ.get("STANCE_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)
    return found


def test_the_report_renders_in_a_real_browser_with_its_charts_and_no_errors(analysed):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup)")
    browser_path = chromium()
    if browser_path is None:
        pytest.skip("no Chromium found (apt-get install chromium, or set STANCE_CHROMIUM); "
                    "`make test` installs it where it can")
    _, out = analysed
    errors, requests = [], []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=browser_path, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requests.append(request.url))
        page.goto((out / "report.html").as_uri())
        assert page.locator("h1").inner_text() == "Who stands where"
        for chart in ("#chart-targets", "#chart-actors", "#chart-network"):
            box = page.locator(f"{chart} svg").bounding_box()
            assert box and box["width"] > 300 and box["height"] > 150, chart
        assert page.locator("#chart-network svg text").count() >= 3  # actor names on the network
        assert page.locator("table").nth(1).locator("tbody tr").count() >= 5  # the actor table
        first = page.locator("details").first
        first.locator("summary").click()
        assert first.locator("tbody tr").first.is_visible()  # the sentences behind a position
        browser.close()
    assert not errors
    assert all(url.startswith("file://") for url in requests), requests  # works offline
