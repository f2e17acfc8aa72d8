"""Opening a page by its URL, as a bookmark does, on a server nobody has visited yet."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, LONG, WAIT, configure_page, running_app, settle

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

TITLES = ("Train", "Save & download", "Upload model", "Predict & plot")


def test_a_page_url_opened_first_shows_that_page_inside_the_app(tmp_path):
    # Streamlit's legacy multipage mode would run pages/predict.py alone here, without the
    # app's navigation (its sidebar would list the files: "predict", "train", "ui", ...); the
    # page must still appear, inside the app, with the four titled links.
    with (
        running_app(tmp_path / "library", tmp_path / "streamlit.log") as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = configure_page(browser.new_page())
        page.goto(f"{url}/predict")
        # The page goes through app.py and back to /predict: wait for where it ends up.
        heading = page.get_by_role("heading", name="Predict & plot", level=1)
        expect(heading).to_be_visible(timeout=LONG)
        settle(page)
        expect(heading).to_be_visible(timeout=WAIT)
        # The workspace id rides along in the query string.
        expect(page).to_have_url(re.compile(r"/predict/?(\?ws=[0-9a-f]{32})?$"), timeout=WAIT)
        nav = page.get_by_test_id("stSidebarNav")
        for title in TITLES:  # exact: the legacy sidebar's "train" must not pass for "Train"
            expect(nav.get_by_role("link", name=title, exact=True)).to_be_visible(timeout=WAIT)
        expect(nav.get_by_role("link")).to_have_count(len(TITLES), timeout=WAIT)
        expect(nav.get_by_text("ui", exact=True)).to_have_count(0, timeout=WAIT)
        browser.close()
