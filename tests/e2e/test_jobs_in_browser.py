"""Training jobs in headless Chromium: a job outlives a page switch and a browser reload and
its model becomes current; Cancel stops one."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.jobs import JobStore
from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, LONG, WAIT, running_app_process, settle

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.e2e.steps import go_to, open_session, upload  # noqa: E402

FINISH = LONG * 4  # a ceiling for a training job on a loaded machine


@pytest.fixture
def app(tmp_path):
    with running_app_process(tmp_path / "library", tmp_path / "streamlit.log") as (url, server):
        yield url, server


@pytest.fixture
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def table_file(folder: Path, n_rows: int) -> Path:
    """A regression table: six numbers, a category and ``target`` (the last column)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(n_rows, 6)), columns=list("abcdef"))
    frame["kind"] = rng.choice(["x", "y", "z"], n_rows)
    frame["target"] = 2 * frame["a"] + frame["b"] + rng.normal(size=n_rows)
    path = folder / "table.csv"
    frame.to_csv(path, index=False)
    return path


def sidebar(page: Page):
    return page.get_by_test_id("stSidebar")


def start_training(page: Page, table: Path, model: str = "Histogram gradient boosting") -> None:
    """Upload ``table``, pick ``model`` and click Train; wait until the job is listed."""
    upload(page, table)
    expect(page.get_by_text("Using table.csv:")).to_be_visible(timeout=LONG)
    page.get_by_label("Model", exact=True).click()
    page.get_by_role("option", name=model, exact=True).click()
    settle(page)
    page.get_by_role("button", name="Train model").click()
    expect(sidebar(page).get_by_text(f"Train {model}")).to_be_visible(timeout=LONG)
    settle(page)


def test_a_job_outlives_a_page_switch_and_a_reload_and_its_model_becomes_current(
    app, browser, tmp_path
):
    url, server = app
    page = open_session(browser, url)
    start_training(page, table_file(tmp_path, 100_000))
    assert "ws=" in page.url

    go_to(page, "Predict & plot")
    assert "ws=" in page.url  # written back after the page switch
    expect(sidebar(page).get_by_text("Train Histogram gradient boosting")).to_be_visible(
        timeout=WAIT
    )
    page.reload()
    expect(page.get_by_role("heading", name="Predict & plot")).to_be_visible(timeout=LONG)

    expect(sidebar(page).get_by_text("Done")).to_be_visible(timeout=FINISH)
    expect(sidebar(page).get_by_text("table hist gradient boosting")).to_be_visible(timeout=WAIT)
    go_to(page, "Train")
    expect(page.get_by_text("It is now the current model")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("Using table.csv: 100,000 rows")).to_be_visible(timeout=WAIT)

    # Another person, without this URL, sees none of it.
    stranger = open_session(browser, url)
    expect(sidebar(stranger).get_by_text("None yet.").first).to_be_visible(timeout=WAIT)
    expect(sidebar(stranger).get_by_text("Train Histogram")).to_have_count(0, timeout=WAIT)
    assert server.poll() is None


def test_cancel_stops_a_running_job(app, browser, tmp_path):
    url, server = app
    page = open_session(browser, url)
    start_training(page, table_file(tmp_path, 60_000), model="Random forest")
    expect(sidebar(page).get_by_text("Cross-validation fold")).to_be_visible(timeout=LONG)
    sidebar(page).get_by_role("button", name="Cancel").click()
    expect(sidebar(page).get_by_text("Cancelled")).to_be_visible(timeout=LONG)
    expect(sidebar(page).get_by_text("Current model")).to_be_visible(timeout=WAIT)
    expect(sidebar(page).get_by_text("None yet.").first).to_be_visible(timeout=WAIT)
    assert server.poll() is None


def test_a_job_cut_off_by_a_server_crash_shows_as_interrupted_after_the_restart(browser, tmp_path):
    library, log = tmp_path / "library", tmp_path / "streamlit.log"
    with running_app_process(library, log) as (url, server):
        page = open_session(browser, url)
        start_training(page, table_file(tmp_path, 60_000), model="Random forest")
        expect(sidebar(page).get_by_text("Cross-validation fold")).to_be_visible(timeout=LONG)
        workspace_url = page.url
        (record,) = JobStore(library.with_name("library-jobs")).jobs(workspace_url.split("ws=")[1])
        server.kill()  # a crash: no clean shutdown
        server.wait(timeout=30)
        page.context.close()
    # The job's process ends with the server rather than run on unseen.
    deadline = time.monotonic() + 60
    while _alive(record.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(record.pid)

    with running_app_process(library, tmp_path / "restarted.log") as (url, server):
        page = open_session(browser, url + "/?" + workspace_url.split("?")[1])
        expect(sidebar(page).get_by_text("Interrupted")).to_be_visible(timeout=LONG)
        expect(sidebar(page).get_by_text("The server restarted")).to_be_visible(timeout=WAIT)
        assert server.poll() is None


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
