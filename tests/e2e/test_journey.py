"""The whole journey in headless Chromium: upload, train, download, reload, predict, refuse."""

from __future__ import annotations

import os
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import plotly.express as px
import pytest

from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, LONG, WAIT, configure_page, running_app, settle

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.e2e.steps import chart_titled, download, go_to, open_tab, upload  # noqa: E402


@pytest.fixture
def app_url(tmp_path):
    with running_app(tmp_path / "library", tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture
def page(app_url):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1400, "height": 1000}
        )
        page = configure_page(context.new_page())
        page.goto(app_url)
        expect(page.get_by_role("heading", name="Train a model")).to_be_visible(timeout=LONG)
        yield page
        browser.close()


def box_select(page: Page, chart) -> None:
    """Drag a box over the middle of ``chart``'s plot area (its default drag mode selects)."""
    area = chart.locator(".nsewdrag").first
    area.scroll_into_view_if_needed()
    expect(area).to_be_visible(timeout=WAIT)
    box = area.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.05)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.95, steps=12)
    page.mouse.up()


def explore_tabs(page: Page) -> None:
    """Every exploration tab draws; a box on predicted-vs-actual lists the selected rows."""
    performance = page.get_by_role("tab", name="Performance")
    expect(performance).to_have_attribute("aria-selected", "true", timeout=WAIT)
    fit = chart_titled(page, "Predicted vs actual")
    expect(fit).to_be_visible(timeout=LONG)
    expect(chart_titled(page, "Residuals vs predicted")).to_be_visible(timeout=WAIT)
    settle(page)  # drag only once the run that drew the chart is over
    box_select(page, fit)
    expect(page.get_by_text("selected row(s)")).to_be_visible(timeout=WAIT)
    settle(page)
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)

    for label, title in [
        ("Drivers", "Permutation importance"),
        ("Drift", "total_bill: training vs"),
        ("Distribution", "Distribution of predictions"),
    ]:
        open_tab(page, label)
        expect(chart_titled(page, title)).to_be_visible(timeout=WAIT)
    open_tab(page, "What-if")
    what_if = page.get_by_test_id("stMetric").filter(has_text="predicted tip")
    expect(what_if).to_be_visible(timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
    open_tab(page, "Performance")


def test_train_download_reload_predict_and_refuse(page: Page, tmp_path: Path):
    tips = px.data.tips()
    tips = tips[[c for c in tips.columns if c != "tip"] + ["tip"]]  # tip last: the default target
    table = tmp_path / "tips.csv"
    tips.to_csv(table, index=False)

    # Train on an uploaded CSV.
    upload(page, table)
    expect(page.get_by_text("Using tips.csv")).to_be_visible(timeout=WAIT)
    page.get_by_role("button", name="Train model").click()
    expect(page.get_by_text("It is now the current model")).to_be_visible(timeout=LONG)
    settle(page)
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)

    # Download the model and its card; a plain joblib.load of it predicts.
    go_to(page, "Save & download")
    model_file = download(page, "Download model (.joblib)", tmp_path / "model.joblib")
    card = download(page, "Download model card (.md)", tmp_path / "card.md").read_text()
    assert card.startswith("# Model card: ") and "## Prediction intervals" in card
    plain = joblib.load(model_file)  # the file this test just downloaded from its own app
    features = tips.drop(columns=["tip"])
    expected = plain.predict(features)

    # Upload it again: it becomes the current model, and checks itself in its sandbox.
    go_to(page, "Upload model")
    upload(page, model_file)
    expect(page.get_by_text("It is now the current model")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("Self-check passed")).to_be_visible(timeout=WAIT)

    # Predict an uploaded file and download the predictions.
    go_to(page, "Predict & plot")
    upload(page, table)
    expect(page.get_by_role("heading", name="Explore")).to_be_visible(timeout=LONG)
    explore_tabs(page)
    csv_file = download(page, "Download predictions (CSV)", tmp_path / "predictions.csv")
    predictions = pd.read_csv(csv_file)
    assert list(predictions.columns[: tips.shape[1]]) == list(tips.columns)
    np.testing.assert_allclose(predictions["predicted tip"], expected, rtol=1e-9)
    lower, upper = predictions["lower tip"], predictions["upper tip"]  # 90 % intervals
    assert (lower < predictions["predicted tip"]).all() and (
        predictions["predicted tip"] < upper
    ).all()

    # A malicious file is refused and never runs.
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.joblib"
    command = f"touch {marker}".encode()
    evil.write_bytes(
        b"\x80\x02cos\nsystem\n(X" + len(command).to_bytes(4, "little") + command + b"tR."
    )
    go_to(page, "Upload model")
    upload(page, evil)
    alert = page.get_by_test_id("stAlert").filter(has_text="was not loaded")
    expect(alert).to_be_visible(timeout=LONG)
    expect(alert).to_contain_text("system", timeout=WAIT)
    assert not marker.exists()
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
