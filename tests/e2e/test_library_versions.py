"""The versioned library in headless Chromium: save twice under one name, see both versions,
download and load version 1."""

from __future__ import annotations

import os
import re
from pathlib import Path

import plotly.express as px
import pytest

from lib.library import open_library
from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, LONG, WAIT, running_app, settle

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.e2e.steps import (  # noqa: E402
    choose,
    download,
    go_to,
    open_session,
    save_to_library,
    upload,
)

VERSION_1 = re.compile(r"^version 1, saved ")


def test_save_twice_then_download_and_load_version_1(tmp_path: Path):
    tips = px.data.tips()
    table = tmp_path / "tips.csv"
    tips[[c for c in tips.columns if c != "tip"] + ["tip"]].to_csv(table, index=False)
    library_dir = tmp_path / "library"
    with running_app(library_dir, tmp_path / "streamlit.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = open_session(browser, url)
        upload(page, table)
        expect(page.get_by_text("Using tips.csv")).to_be_visible(timeout=WAIT)
        page.get_by_role("button", name="Train model").click()
        expect(page.get_by_text("It is now the current model")).to_be_visible(timeout=LONG)
        settle(page)

        go_to(page, "Save & download")
        for version in (1, 2):
            save_to_library(page, "tips", version)
        expect(page.get_by_role("heading", name="Versions of 'tips'", exact=True)).to_be_visible(
            timeout=WAIT
        )

        choose(page, "Version", VERSION_1)  # from version 2 (latest)
        saved = download(page, "Download this version", tmp_path / "v1.joblib").read_bytes()
        assert saved == open_library(library_dir).read("tips", 1)

        page.get_by_role("button", name="Load as current model").click()
        expect(page.get_by_text("Loaded version 1 of 'tips'")).to_be_visible(timeout=LONG)
        expect(page.get_by_text("model library: tips, version 1")).to_be_visible(timeout=WAIT)

        # The same model saved twice: the comparison says so, and scores both alike.
        compare = page.get_by_role("heading", name="Compare two versions of 'tips'")
        compare.scroll_into_view_if_needed()
        expect(page.get_by_text("Both versions hold the very same model file")).to_be_visible(
            timeout=WAIT
        )
        page.get_by_role("button", name="Score both versions on 'tips.csv'").click()
        expect(page.get_by_text("Their predictions differ by 0 on average")).to_be_visible(
            timeout=LONG
        )
        expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
        browser.close()


def test_a_damaged_version_says_why_instead_of_a_failing_download(tmp_path: Path):
    """Before, its download failed in the browser with Streamlit's "Failed to generate file"."""
    library_dir = tmp_path / "library"
    library = open_library(library_dir)
    first = library.save("tips", b"version one bytes")
    library.save("tips", b"version two bytes")
    (library_dir / first.object_key).write_bytes(b"damaged")
    with running_app(library_dir, tmp_path / "streamlit.log") as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page = open_session(browser, url)
        go_to(page, "Save & download")
        expect(page.get_by_role("heading", name="Versions of 'tips'", exact=True)).to_be_visible(
            timeout=WAIT
        )
        saved = download(page, "Download this version", tmp_path / "v2.joblib").read_bytes()
        assert saved == b"version two bytes"

        choose(page, "Version", VERSION_1)  # from version 2 (latest)
        expect(page.get_by_text("Version 1 of the saved model 'tips' is damaged")).to_be_visible(
            timeout=WAIT
        )
        expect(page.get_by_role("button", name="Download this version")).to_have_count(
            0, timeout=WAIT
        )
        expect(page.get_by_role("button", name="Load as current model")).to_have_count(
            0, timeout=WAIT
        )
        expect(page.get_by_role("button", name="Delete this version…")).to_be_visible(timeout=WAIT)
        expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
        browser.close()
