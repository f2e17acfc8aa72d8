"""A hostile table costs only the process that reads it: two sessions on one server.

Session B works with a genuine table. Session A uploads tables built to hurt the server: one
that gets past every cap the readers check and then needs more memory than the reading
process may map (the server runs with ``MODEL_STUDIO_READER_MEMORY_MB=100``), and JSON nested
far deeper than the depth cap. A sees each explained; B's table and pages keep working while
A's upload is read; the server stays up and A's next genuine upload reads as usual.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, LONG, WAIT, running_app_process, settle

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.e2e.steps import open_tab, upload  # noqa: E402
from tests.e2e.test_contained_crash import open_session  # noqa: E402

SHOTS_DIR = "MODEL_STUDIO_E2E_SHOTS"
READER_MB = 100


def genuine_table(path: Path, rows: int = 200) -> Path:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "size": rng.integers(1, 6, rows),
            "bill": rng.uniform(5, 50, rows).round(2),
            "day": rng.choice(["Thu", "Fri", "Sat", "Sun"], rows),
        }
    )
    frame["tip"] = (frame["bill"] * 0.15 + rng.normal(0, 1, rows)).round(2)
    frame.to_csv(path, index=False)
    return path


def memory_bomb(path: Path) -> Path:
    """1,500,000 rows of eight short words (about 60 MB): within every cap the readers check,
    but parsing it takes more than the reading process's 100 MB."""
    header = b"a,b,c,d,e,f,g,h\n"
    row = b"alpha,beta,gamma,delta,epsilon,zeta,eta,theta\n"
    path.write_bytes(header + row * 1_500_000)
    return path


def depth_bomb(path: Path) -> Path:
    path.write_text(json.dumps([{"a": 1}]).replace("1", "[" * 50_000 + "]" * 50_000))
    return path


def expect_table(page: Page, name: str, rows: int) -> None:
    expect(page.get_by_text(f"Using {name}: {rows:,} rows")).to_be_visible(timeout=LONG)
    settle(page)


def expect_refusal(page: Page, *texts: str) -> None:
    alert = page.get_by_test_id("stAlert").filter(has_text=texts[0])
    expect(alert).to_be_visible(timeout=LONG)
    for text in texts[1:]:
        expect(alert).to_contain_text(text, timeout=WAIT)
    expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
    settle(page)


def test_a_hostile_table_costs_only_its_reading_process(tmp_path: Path):
    genuine = genuine_table(tmp_path / "tips.csv")
    bomb = memory_bomb(tmp_path / "words.csv")
    deep = depth_bomb(tmp_path / "deep.json")
    shots = Path(os.environ.get(SHOTS_DIR) or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    env = {"MODEL_STUDIO_READER_MEMORY_MB": str(READER_MB)}

    with (
        running_app_process(tmp_path / "library", tmp_path / "streamlit.log", env=env)
        as (url, server),
        sync_playwright() as p,
    ):  # fmt: skip
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        b = open_session(browser, url)
        a = open_session(browser, url)
        upload(b, genuine)
        expect_table(b, "tips.csv", 200)

        # A's memory bomb is read while B opens the column profile (a rerun of its own).
        a.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(bomb))
        open_tab(b, "Column profile")
        expect(b.get_by_role("tabpanel").get_by_test_id("stDataFrame")).to_be_visible(timeout=WAIT)
        expect_refusal(a, f"{READER_MB} MB of memory", "Nothing from", "words.csv")
        a.screenshot(path=shots / "a_memory_bomb.png", full_page=True)
        assert server.poll() is None, "the server died reading the table"

        upload(a, deep)
        expect_refusal(a, "deep.json", "MODEL_STUDIO_MAX_JSON_DEPTH")
        a.screenshot(path=shots / "a_depth_bomb.png", full_page=True)

        # Nothing was lost: A's next genuine upload reads, and B's table is still there.
        upload(a, genuine)
        expect_table(a, "tips.csv", 200)
        expect(a.get_by_test_id("stAlert").filter(has_text="deep.json")).to_have_count(
            0, timeout=WAIT
        )
        open_tab(b, "Preview")
        expect_table(b, "tips.csv", 200)
        b.screenshot(path=shots / "b_after.png", full_page=True)
        assert server.poll() is None, "the server died"
        browser.close()

    log = (tmp_path / "streamlit.log").read_text(errors="replace")
    assert "Unexpected error" not in log, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
