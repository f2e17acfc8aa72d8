"""Walk the journey in headless Chromium on a bundled sample and save one PNG per page.

Usage: ``python scripts/screenshots.py [--sample tips]`` (writes docs/screenshots/*.png,
including explore-performance/slices/drivers/drift.png: four tabs of Predict & plot's exploration,
save-card.png: the model card, train-threshold.png: a threshold tuned to costs, and
compare.png: two saved versions compared).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Locator, Page, expect, sync_playwright  # noqa: E402

from lib.samples import SAMPLES  # noqa: E402
from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, running_app  # noqa: E402
from tests.e2e.server import settle as finished_run  # noqa: E402
from tests.e2e.steps import choose, save_to_library  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
LONG = 180_000
HEADINGS = {
    "Train": "Train a model",
    "Save & download": "Save & download",
    "Upload model": "Upload a model",
    "Predict & plot": "Predict & plot",
}


def settle(page: Page) -> None:
    finished_run(page)
    page.wait_for_timeout(800)  # let plotly finish drawing


def go_to(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.get_by_role("heading", name=HEADINGS[title], level=1)).to_be_visible()
    settle(page)


def shoot(page: Page, name: str) -> None:
    page.mouse.move(0, 0)
    page.get_by_test_id("stMain").evaluate("el => el.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sample", default="tips", choices=sorted(SAMPLES))
    parser.add_argument("--height", type=int, default=1500, help="viewport height in pixels")
    args = parser.parse_args()
    sample = SAMPLES[args.sample]
    OUT.mkdir(parents=True, exist_ok=True)
    expect.set_options(timeout=LONG)  # page.set_default_timeout does not reach expect

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        rows = tmp / f"{args.sample}.csv"
        sample.load().to_csv(rows, index=False)
        with running_app(tmp / "library", tmp / "streamlit.log") as url:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": args.height})
            page.set_default_timeout(LONG)
            page.goto(url)
            expect(page.get_by_role("heading", name="Train a model")).to_be_visible()
            settle(page)

            # Train on the sample.
            page.get_by_text("Use a sample").click()
            settle(page)
            page.get_by_test_id("stSelectbox").filter(has_text="Sample table").click()
            page.get_by_role("option", name=sample.title, exact=True).click()
            settle(page)
            page.get_by_role("button", name="Train model").click()
            expect(page.get_by_text("It is now the current model")).to_be_visible()
            settle(page)
            shoot_results(page)

            # Save it to the library and download it.
            go_to(page, "Save & download")
            page.get_by_role("button", name="Save to library").click()
            expect(page.get_by_text("Saved '")).to_be_visible()
            settle(page)
            with page.expect_download() as download:
                page.get_by_test_id("stDownloadButton").filter(
                    has_text="Download model (.joblib)"
                ).click()
            model_file = tmp / "model.joblib"
            download.value.save_as(model_file)
            shoot(page, "save")
            page.get_by_text("Model card: one page").click()
            settle(page)
            shoot_at(page, page.get_by_role("heading", name="Model card:", level=3), "save-card")

            # Upload the downloaded file.
            go_to(page, "Upload model")
            page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
                str(model_file)
            )
            expect(page.get_by_text("It is now the current model")).to_be_visible()
            settle(page)
            shoot(page, "load")

            # Predict on the sample's rows (the target included, so metrics show).
            go_to(page, "Predict & plot")
            page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
                str(rows)
            )
            expect(page.get_by_role("heading", name="Explore")).to_be_visible()
            settle(page)
            shoot(page, "predict")
            charts = {"Performance": 4, "Drivers": 2}  # at least, for either task
            for label in ("Performance", "Slices", "Drivers", "Drift"):
                shoot_explore(page, label, charts.get(label, 1))
            shoot_threshold(page)
            shoot_compare(page)
            browser.close()


def shoot_threshold(page: Page) -> None:
    """Train on the breast cancer sample with a false negative costing 20 false positives:
    the tuned threshold and its cost curve (train-threshold.png)."""
    go_to(page, "Train")
    page.get_by_test_id("stSelectbox").filter(has_text="Sample table").click()
    page.get_by_role("option", name=SAMPLES["breast_cancer"].title, exact=True).click()
    settle(page)
    page.get_by_text("Decision threshold").click()
    page.get_by_text("Minimise the cost of mistakes").click()
    settle(page)
    cost = page.get_by_role("spinbutton", name="Cost of a false negative")
    cost.fill("20")
    cost.press("Enter")
    settle(page)
    page.get_by_role("button", name="Train model").click()
    result = page.get_by_role("heading", name="Decision threshold", level=3)
    expect(result).to_be_visible()
    settle(page)
    shoot_at(page, result, "train-threshold")


def shoot_compare(page: Page) -> None:
    """Save the thresholded model, then a logistic regression under the same name, and score
    both versions on the current table (compare.png)."""
    go_to(page, "Save & download")
    save_to_library(page, "breast cancer", 1)
    go_to(page, "Train")
    choose(page, "Model", "Logistic regression")
    page.get_by_role("button", name="Train model").click()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(re.compile("logistic regression"))).to_be_visible()
    settle(page)
    go_to(page, "Save & download")
    save_to_library(page, "breast cancer", 2)
    page.get_by_role("button", name=re.compile("^Score both versions on")).click()
    expect(page.get_by_text("The two versions predict the same class")).to_be_visible()
    settle(page)
    shoot_at(page, page.get_by_role("heading", name="Compare two versions"), "compare")


def shoot_at(page: Page, element: Locator, name: str) -> None:
    """The page scrolled so ``element`` sits near the top (<name>.png)."""
    page.mouse.move(0, 0)
    top = element.evaluate("el => el.getBoundingClientRect().top")
    page.get_by_test_id("stMain").evaluate(f"el => el.scrollBy(0, {top} - 60)")
    page.wait_for_timeout(500)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
    print(f"wrote docs/screenshots/{name}.png")


def shoot_explore(page: Page, label: str, charts: int) -> None:
    """One exploration tab once it shows at least ``charts`` charts, scrolled so the tabs are
    at the top (explore-<label>.png)."""
    page.get_by_role("tab", name=label).click()
    drawn = page.get_by_role("tabpanel").locator("[data-testid=stPlotlyChart] .main-svg")
    expect(drawn.nth(charts * 2 - 1)).to_be_visible()  # plotly draws two svg layers per chart
    settle(page)
    page.mouse.move(0, 0)
    heading = page.get_by_role("heading", name="Explore")
    top = heading.evaluate("el => el.getBoundingClientRect().top")
    page.get_by_test_id("stMain").evaluate(f"el => el.scrollBy(0, {top} - 60)")
    page.wait_for_timeout(500)
    name = f"explore-{label.lower().replace('-', '')}"
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
    print(f"wrote docs/screenshots/{name}.png")


def shoot_results(page: Page) -> None:
    """The Train page, scrolled so the settings and the results share the picture."""
    shoot_at(page, page.get_by_role("heading", name="2 · What to predict"), "train")


if __name__ == "__main__":
    main()
