"""Sign-in in headless Chromium against a real OpenID Connect provider (oidc-provider-mock):
three people in three browsers, what each sees and may do, and sign-out."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lib.library import open_library
from tests.auth_provider import ADMIN, ALICE, BOB, PEOPLE, oidc_provider, secrets_toml
from tests.e2e.server import CHROMIUM, LAUNCH_ARGS, LONG, WAIT, running_app_process, settle

pytestmark = pytest.mark.e2e
if not os.environ.get("CI") and not Path(CHROMIUM).exists():
    pytest.skip(f"Chromium not found at {CHROMIUM} (run `make browser`)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.e2e.steps import go_to, save_to_library  # noqa: E402


def sign_in(browser: Browser, url: str, email: str) -> Page:
    """A new browser session that signs in as ``email`` on the provider's form."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(WAIT)
    page.goto(url)
    expect(page.get_by_text("Sign in to train, save and use the team's models.")).to_be_visible(
        timeout=LONG
    )
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)  # no pages before sign-in
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=email, exact=True).click(timeout=LONG)  # the provider's form
    expect(page.get_by_text(f"Signed in as {PEOPLE[email]}")).to_be_visible(timeout=LONG)
    expect(page.get_by_role("heading", name="Train a model")).to_be_visible(timeout=LONG)
    settle(page)
    return page


def train_sample(page: Page) -> None:
    page.get_by_text("Use a sample").click()
    settle(page)
    page.get_by_role("button", name="Train model").click()
    expect(page.get_by_text("It is now the current model")).to_be_visible(timeout=LONG)
    settle(page)


def test_two_people_and_an_administrator_in_three_browsers(tmp_path: Path):
    library_dir = tmp_path / "library"
    with oidc_provider() as issuer:
        secrets = secrets_toml(tmp_path / "secrets.toml", issuer, admins=[ADMIN])
        env = {"STREAMLIT_SECRETS_FILES": str(secrets)}
        with (
            running_app_process(library_dir, tmp_path / "streamlit.log", env=env) as (url, _),
            sync_playwright() as p,
        ):
            url = url.replace("127.0.0.1", "localhost")  # the redirect_uri's host
            browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)

            alice = sign_in(browser, url, ALICE)
            train_sample(alice)
            go_to(alice, "Save & download")
            alice.get_by_text("Only me").click()
            save_to_library(alice, "alice private", 1)
            record = open_library(library_dir).record("alice private", 1)
            assert (record.owner, record.visibility) == (ALICE, "private")

            bob = sign_in(browser, url, BOB)
            go_to(bob, "Save & download")
            expect(
                bob.get_by_text("No saved model is shared with you yet. Save one above")
            ).to_be_visible(timeout=WAIT)
            go_to(bob, "Upload model")
            bob.get_by_text("Load from library").click()
            expect(
                bob.get_by_text("No saved model is shared with you yet. Save one on")
            ).to_be_visible(timeout=WAIT)

            admin = sign_in(browser, url, ADMIN)
            expect(admin.get_by_text("(administrator)")).to_be_visible(timeout=WAIT)
            go_to(admin, "Save & download")
            expect(
                admin.get_by_role("heading", name="Versions of 'alice private'", exact=True)
            ).to_be_visible(timeout=WAIT)
            expect(admin.get_by_text("Audit log (administrators)")).to_be_visible(timeout=WAIT)
            admin.get_by_role("button", name="Delete this version…").click()
            admin.get_by_role("button", name="Yes, delete it").click()
            expect(
                admin.get_by_text("Moved version 1 of 'alice private' to the trash.")
            ).to_be_visible(timeout=WAIT)
            actions = [(e.action, e.who) for e in open_library(library_dir).audit.events()]
            assert actions[:2] == [("delete", ADMIN), ("save", ALICE)]

            alice.get_by_role("button", name="Sign out").click()
            # Streamlit ends the session at the provider too (RP-initiated logout); the
            # provider's page asks to confirm, then sends the browser back to the app.
            alice.get_by_role("button", name="End session").click(timeout=LONG)
            expect(alice.get_by_role("button", name="Sign in")).to_be_visible(timeout=LONG)
            for page in (alice, bob, admin):
                expect(page.get_by_test_id("stException")).to_have_count(0, timeout=WAIT)
            browser.close()
