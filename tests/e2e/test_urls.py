"""Opening a page by its URL, as a bookmark does, on a server nobody has visited yet."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, running_app

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


def test_a_page_url_opened_first_shows_that_page_inside_the_app(tmp_path):
    # Streamlit's legacy multipage mode would run pages/predict.py alone here, without the
    # app's navigation; the page must still appear with the four titled links.
    with (
        running_app(tmp_path / "library", tmp_path / "streamlit.log") as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = browser.new_page()
        page.set_default_timeout(60_000)
        page.goto(f"{url}/predict")
        expect(page.get_by_role("heading", name="Predict & plot", level=1)).to_be_visible()
        nav = page.get_by_test_id("stSidebarNav")
        for title in ("Train", "Save & download", "Upload model", "Predict & plot"):
            expect(nav.get_by_role("link", name=title)).to_be_visible()
        expect(nav.get_by_text("ui", exact=True)).to_have_count(0)
        assert page.url.endswith("/predict")
        browser.close()
