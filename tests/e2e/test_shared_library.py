"""Two app servers (two replicas) over one model library on S3, in headless Chromium: what one
saves, the other lists and loads, and back.

Real parts only: moto's S3 server (``s3_endpoint``), two ``streamlit run`` processes on their
own ports, each with its own jobs folder and log, both with ``MODEL_STUDIO_LIBRARY`` set to the
same ``s3://`` address, and one browser session on each.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import plotly.express as px
import pytest

from lib.library import open_library
from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, LONG, WAIT, running_app, settle
from tests.s3_server import aws_env, new_bucket

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.e2e.steps import (  # noqa: E402
    combobox,
    go_to,
    open_list,
    open_session,
    save_to_library,
    upload,
)


def _version(number: int, latest: bool = False) -> re.Pattern[str]:
    """A version select's option text: "version 2 (latest), saved 2026-12-07 06:21:37"."""
    return re.compile(rf"^version {number}{re.escape(' (latest)') if latest else ''}, saved ")


def _no_exception(*pages: Page) -> None:
    for page in pages:
        expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)


def test_two_servers_share_one_s3_library(tmp_path: Path, s3_endpoint: str):
    tips = px.data.tips()
    table = tmp_path / "tips.csv"
    tips[[c for c in tips.columns if c != "tip"] + ["tip"]].to_csv(table, index=False)
    address = f"s3://{new_bucket('replicas')}/models"
    env = {"MODEL_STUDIO_LIBRARY": address, **aws_env(s3_endpoint)}
    # The first argument only names each server's own jobs folder (<name>-jobs); the library
    # itself is ``env``'s S3 address, the same for both.
    with (
        running_app(tmp_path / "a", tmp_path / "streamlit-a.log", env=env) as url_a,
        running_app(tmp_path / "b", tmp_path / "streamlit-b.log", env=env) as url_b,
        sync_playwright() as p,
    ):
        assert url_a != url_b
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        page_a, page_b = open_session(browser, url_a), open_session(browser, url_b)

        # A trains a model on the tips table and saves it as version 1.
        upload(page_a, table)
        expect(page_a.get_by_text("Using tips.csv")).to_be_visible(timeout=WAIT)
        page_a.get_by_role("button", name="Train model").click()
        expect(page_a.get_by_text("It is now the current model")).to_be_visible(timeout=LONG)
        settle(page_a)
        go_to(page_a, "Save & download")
        save_to_library(page_a, "tips", 1)

        # B, on the other server, lists it and loads it from Save & download...
        go_to(page_b, "Save & download")
        expect(combobox(page_b, "Saved model")).to_have_value("tips", timeout=WAIT)
        expect(page_b.get_by_role("heading", name="Versions of 'tips'", exact=True)).to_be_visible(
            timeout=WAIT
        )
        expect(combobox(page_b, "Version")).to_have_value(_version(1, latest=True), timeout=WAIT)
        page_b.get_by_role("button", name="Load as current model").click()
        expect(page_b.get_by_text("Loaded version 1 of 'tips'")).to_be_visible(timeout=LONG)
        expect(page_b.get_by_text("model library: tips, version 1")).to_be_visible(timeout=WAIT)
        settle(page_b)

        # ... and from Upload model's library option.
        go_to(page_b, "Upload model")
        page_b.get_by_text("Load from library").click()
        settle(page_b)
        expect(combobox(page_b, "Saved model")).to_have_value("tips", timeout=WAIT)
        page_b.get_by_role("button", name="Load", exact=True).click()
        expect(page_b.get_by_text("Loaded version 1 of 'tips'. It is now")).to_be_visible(
            timeout=LONG
        )
        expect(page_b.get_by_text("model library: tips, version 1")).to_be_visible(timeout=WAIT)
        settle(page_b)

        # B saves the model it loaded as version 2.
        go_to(page_b, "Save & download")
        save_to_library(page_b, "tips", 2)

        # A opens the page again (its session, its server) and sees both versions.
        go_to(page_a, "Train")
        go_to(page_a, "Save & download")
        expect(page_a.get_by_role("heading", name="Versions of 'tips'", exact=True)).to_be_visible(
            timeout=WAIT
        )
        versions = combobox(page_a, "Version")
        expect(versions).to_have_value(_version(2, latest=True), timeout=WAIT)
        open_list(page_a, versions)
        for number in (2, 1):
            option = page_a.get_by_role("option", name=_version(number, latest=number == 2))
            expect(option).to_be_visible(timeout=WAIT)
        page_a.keyboard.press("Escape")
        settle(page_a)
        _no_exception(page_a, page_b)
        browser.close()

    records = open_library(address).versions("tips")
    assert [record.version for record in records] == [1, 2]
    assert records[0].saved_by != records[1].saved_by  # two sessions' workspaces
    # B saved the very bytes it loaded: the app never re-writes a model it did not train.
    assert records[1].sha256 == records[0].sha256
