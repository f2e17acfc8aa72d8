"""Steps every browser test takes in the app: open a page, upload, download, open a tab, find
a chart.

Each step waits for what it changes, with the explicit timeouts of ``tests.e2e.server``.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.e2e.server import LONG, WAIT, configure_page, settle

HEADINGS = {
    "Train": "Train a model",
    "Save & download": "Save & download",
    "Upload model": "Upload a model",
    "Predict & plot": "Predict & plot",
}


def go_to(page: Page, title: str) -> None:
    """Open a page from the sidebar and wait until it is drawn."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=HEADINGS[title], level=1)).to_be_visible(timeout=WAIT)
    settle(page)


def upload(page: Page, path: Path) -> None:
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(path))
    settle(page)


def download(page: Page, label: str, path: Path) -> Path:
    """Click the download button ``label`` and save what arrives at ``path``.

    On a loaded machine a click can land while a rerun redraws the button and be lost, so the
    click is tried up to three times (a button that never downloads still fails).
    """
    button = page.get_by_test_id("stDownloadButton").filter(has_text=label)
    for attempt in range(3):
        settle(page)
        try:
            with page.expect_download(timeout=LONG // 3) as info:
                button.click()
            break
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
    info.value.save_as(path)
    return path


def chart_titled(page: Page, title: str) -> Locator:
    """The plotly chart in the open tab whose title starts with ``title``."""
    panel = page.get_by_role("tabpanel")
    return panel.get_by_test_id("stPlotlyChart").filter(has=page.locator(".gtitle", has_text=title))


def open_tab(page: Page, label: str) -> None:
    tab = page.get_by_role("tab", name=label)
    tab.click()
    expect(tab).to_have_attribute("aria-selected", "true", timeout=WAIT)
    settle(page)


def open_session(browser: Browser, url: str) -> Page:
    """A new browser session (its own context) on the app at ``url``, drawn."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = configure_page(context.new_page())
    page.goto(url)
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible(timeout=LONG)
    settle(page)
    return page


def combobox(page: Page, label: str) -> Locator:
    """The select box labelled exactly ``label`` (its value is the chosen option's text)."""
    return page.get_by_role("combobox", name=label, exact=True)


def open_list(page: Page, box: Locator) -> None:
    """Open select box ``box``'s list of options. A click can land while the box is only being
    focused (or during a rerun) and leave it closed, so it is clicked again, three times at most;
    the list is looked for before each click, so a click never closes it."""
    listbox = page.get_by_role("listbox")
    for attempt in range(3):
        if not listbox.is_visible():
            box.click()
        try:
            expect(listbox).to_be_visible(timeout=WAIT // 3)
            return
        except AssertionError:
            if attempt == 2:
                raise


def choose(page: Page, label: str, option: str | re.Pattern[str]) -> None:
    """Pick ``option`` in the select box labelled ``label`` and wait for the rerun."""
    open_list(page, combobox(page, label))
    page.get_by_role("option", name=option).click()
    expect(combobox(page, label)).to_have_value(option, timeout=WAIT)
    settle(page)


def save_to_library(page: Page, name: str, version: int) -> None:
    """On Save & download, save the current model as ``name``; expect it to be ``version``."""
    field = page.get_by_label("Model name")
    field.fill(name)
    field.press("Enter")
    settle(page)
    page.get_by_role("button", name="Save to library").click()
    expect(page.get_by_text(f"Saved '{name}' as version {version}.")).to_be_visible(timeout=WAIT)
    settle(page)
