"""Untrusted text stays text, in headless Chromium: a table whose column names and a class look
like Markdown (an image pointing at 127.0.0.1:9, a link, bold) and a spreadsheet formula is
uploaded, trained on and predicted with. No image or link from them is drawn, the names read as
their own characters, and the spreadsheet CSV defuses the formula while the raw CSV keeps it."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lib.literal import WORD_JOINER
from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, LONG, WAIT, running_app, settle

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.e2e.steps import download, go_to, open_session, open_tab, upload  # noqa: E402

IMAGE = "![x](http://127.0.0.1:9/x.png)"
FORMULA = '=HYPERLINK("http://evil.example","x")'
LINK = "[click](http://evil.example)"
BOLD = "**bold**"


def hostile_table(path: Path, rows: int = 150) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    frame = pd.DataFrame(
        {
            IMAGE: x.round(3),
            FORMULA: rng.normal(size=rows).round(3),
            "colour": rng.choice([LINK, "=1+1", "plain"], size=rows),
            # "(none)" sorts first, so "**bold**" is the positive class; last: the default target
            "kind": np.where(x + rng.normal(scale=0.5, size=rows) > 0, BOLD, "(none)"),
        }
    )
    frame.to_csv(path, index=False)
    return path


def shown_text(page: Page) -> str:
    """The page's text as a person reads it (the invisible word joiners taken out)."""
    return page.get_by_test_id("stApp").inner_text().replace(WORD_JOINER, "")


def nothing_drawn_from_names(page: Page) -> None:
    expect(page.locator("img[src*='127.0.0.1:9']")).to_have_count(0, timeout=WAIT)
    expect(page.locator("a[href*='evil.example']")).to_have_count(0, timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)


@pytest.fixture
def page(tmp_path):
    with (
        running_app(tmp_path / "library", tmp_path / "streamlit.log") as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield open_session(browser, url)
        browser.close()


def test_names_shaped_like_markdown_and_formulas_are_shown_and_downloaded_harmlessly(
    page: Page, tmp_path: Path
):
    table = hostile_table(tmp_path / "names.csv")
    upload(page, table)
    expect(page.get_by_text("Using names.csv")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Train model").click()
    expect(page.get_by_text("It is now the current model")).to_be_visible(timeout=LONG)
    settle(page)
    nothing_drawn_from_names(page)

    go_to(page, "Predict & plot")
    upload(page, table)
    expect(page.get_by_role("heading", name="Explore")).to_be_visible(timeout=LONG)
    settle(page)
    expect(page.get_by_text("Decision threshold for")).to_be_visible(timeout=LONG)
    nothing_drawn_from_names(page)
    text = shown_text(page)
    assert f"Decision threshold for '{BOLD}'" in text  # the class, not bold text
    assert f"This model expects 3 columns: {IMAGE}, {FORMULA}, colour." in text

    open_tab(page, "What-if")  # one input per column, labelled with its name
    expect(page.get_by_text("Change any value")).to_be_visible(timeout=WAIT)
    settle(page)
    nothing_drawn_from_names(page)
    what_if = page.get_by_role("tabpanel").get_by_test_id("stMetric")
    predicted = what_if.get_by_test_id("stMetricValue").inner_text().strip()
    assert predicted in {BOLD, "(none)"}  # the predicted class, as its characters
    expect(what_if.locator("strong")).to_have_count(0, timeout=WAIT)
    labels = page.get_by_test_id("stWidgetLabel").all_inner_texts()
    assert {IMAGE, FORMULA} <= {label.replace(WORD_JOINER, "").strip() for label in labels}

    spreadsheet = download(page, "Download predictions (CSV)", tmp_path / "sheet.csv")
    raw = download(page, "Download raw CSV (for code)", tmp_path / "raw.csv")
    sheet_frame = pd.read_csv(spreadsheet, keep_default_na=False)
    raw_frame = pd.read_csv(raw, keep_default_na=False)
    assert spreadsheet.read_text().startswith(f"{IMAGE},\"'=HYPERLINK(")
    assert sheet_frame.columns[1] == "'" + FORMULA and raw_frame.columns[1] == FORMULA
    assert set(sheet_frame["colour"]) == {LINK, "'=1+1", "plain"}
    assert set(raw_frame["colour"]) == {LINK, "=1+1", "plain"}
    original = pd.read_csv(table, keep_default_na=False)
    pd.testing.assert_frame_equal(raw_frame[original.columns], original)
    np.testing.assert_array_equal(sheet_frame.iloc[:, 0], raw_frame.iloc[:, 0])  # numbers kept
