"""Optional sign-in (AppTest): off without an [auth] section; with one, every page asks for it,
and the library shows and allows each person what lib.access says."""

import pytest
from app_helpers import (
    APP,
    TIMEOUT,
    by_label,
    downloaded,
    no_trouble,
    table_with,
    texts,
    with_model,
)
from streamlit.testing.v1 import AppTest
from test_save_page import save

from lib.library import open_library
from pages import _state

AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 40,
    "client_id": "studio",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ALICE = {"is_logged_in": True, "email": "alice@example.com", "name": "Alice Archer"}
BOB = {"is_logged_in": True, "email": "bob@example.com", "name": "Bob Baker"}
ADMIN = {"is_logged_in": True, "email": "admin@example.com", "name": "Ada Admin"}


def app_as(user: dict, auth: dict = AUTH, page: str | None = None) -> AppTest:
    """A fresh app session of ``user`` (its first run: AppTest runs app.py, where sign-in is
    checked, only on a session's first run), on ``page`` when given."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = auth
    at.secrets["model_studio"] = {"admins": ["admin@example.com"]}
    at.user = dict(user)
    if page:
        at.switch_page(page)
    return at.run()


def test_without_configuration_nobody_signs_in_and_the_library_says_so(at):
    at.switch_page("pages/save.py").run()
    no_trouble(at)
    assert not [b for b in at.button if b.label == "Sign out"]
    assert "Sign-in is off, so this is a single-user tool" in texts(at.caption)


def test_with_configuration_every_page_asks_for_sign_in_first():
    for page in ("pages/train.py", "pages/save.py", "pages/predict.py"):
        at = app_as({"is_logged_in": False}, page=page)
        no_trouble(at)
        assert [b.label for b in at.button] == ["Sign in"]
        assert "Sign in to train, save and use the team's models." in texts(at.markdown)
        assert "Train a model" not in texts(at.title)


def test_an_incomplete_configuration_is_a_plain_message():
    at = app_as(ALICE, auth={key: value for key, value in AUTH.items() if key != "cookie_secret"})
    assert "Sign-in is set up but incomplete" in texts(at.error)
    assert "lacks cookie_secret" in texts(at.error)


def test_the_sidebar_shows_who_is_signed_in():
    at = app_as(ALICE)
    no_trouble(at)
    assert "Signed in as **Alice Archer**" in texts(at.caption)
    assert [b for b in at.button if b.label == "Sign out"]
    at = app_as(ADMIN)
    assert "Signed in as **Ada Admin** (administrator)" in texts(at.caption)


@pytest.fixture
def alice_saved(tips_model, library_dir):
    """Alice saves 'private tips' (only her) and 'team tips' (everyone)."""
    at = app_as(ALICE)
    with_model(at, tips_model)
    at.switch_page("pages/save.py").run()
    by_label(at.radio, "Who can see it").set_value("private")
    save(at, "private tips")
    by_label(at.radio, "Who can see it").set_value("shared")
    save(at, "team tips")
    library = open_library(library_dir)
    mine = library.record("private tips", 1)
    assert (mine.owner, mine.visibility, mine.saved_by) == (
        "alice@example.com", "private", "Alice Archer",
    )  # fmt: skip
    return library


def test_another_person_neither_sees_a_private_model_nor_deletes_a_shared_one(alice_saved):
    at = app_as(BOB, page="pages/save.py")
    no_trouble(at)
    assert table_with(at, "latest version")["name"].tolist() == ["team tips"]
    assert not [b for b in at.button if b.key in {_state.LIBRARY_DELETE,
                                                  _state.LIBRARY_DELETE_NAME}]  # fmt: skip
    assert "Only its owner (alice@example.com) or an administrator" in texts(at.caption)
    assert [b for b in at.button if b.key == _state.LIBRARY_LOAD]  # shared: he may use it
    assert not [e for e in at.expander if e.label.startswith("Audit log")]


def test_the_owner_makes_a_shared_model_private_and_an_administrator_deletes_it(alice_saved):
    at = app_as(ALICE, page="pages/save.py")
    by_label(at.selectbox, "Saved model").set_value("team tips").run()
    at.button(key=_state.LIBRARY_VISIBILITY).click().run()
    no_trouble(at)
    assert "is now seen by its owner and the administrators" in texts(at.success)
    assert alice_saved.record("team tips", 1).visibility == "private"

    at = app_as(ADMIN, page="pages/save.py")
    assert table_with(at, "latest version")["name"].tolist() == ["private tips", "team tips"]
    at.button(key=_state.LIBRARY_DELETE).click().run()
    at.button(key=_state.CONFIRM_DELETE_YES).click().run()
    no_trouble(at)
    assert alice_saved.versions("private tips") == []
    events = table_with(at, "action")  # the audit log, shown to administrators
    assert events["action"].tolist()[:1] == ["delete"]
    assert set(events["who"]) >= {"alice@example.com", "admin@example.com"}

    at = app_as(ALICE, page="pages/save.py")  # the owner finds it in the trash, restores it
    at.button(key=_state.TRASH_RESTORE).click().run()
    no_trouble(at)
    assert [r.version for r in alice_saved.versions("private tips")] == [1]


def test_loads_and_downloads_are_audited_with_who(alice_saved, media_managers):
    at = app_as(BOB, page="pages/save.py")
    by_label(at.selectbox, "Saved model").set_value("team tips").run()
    at.button(key=_state.LIBRARY_LOAD).click().run()
    no_trouble(at)
    button = at.download_button(key=_state.LIBRARY_DOWNLOAD)
    assert downloaded(media_managers[-1], button) == alice_saved.read("team tips", 1)
    events = [(e.action, e.who, e.name, e.version) for e in alice_saved.audit.events()]
    assert events[:2] == [
        ("download", "bob@example.com", "team tips", 1),
        ("load", "bob@example.com", "team tips", 1),
    ]
    assert ("save", "alice@example.com", "private tips", 1) in events
