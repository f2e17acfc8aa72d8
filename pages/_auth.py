"""Optional sign-in with Streamlit's ``st.login`` (an OpenID Connect provider in secrets.toml).

With no ``[auth]`` section the app is a single-user tool and nobody signs in. With one, every
page asks for sign-in first, and the sidebar shows who is signed in with a sign-out button.
The rules (is it configured, who is this, who administers) are ``lib.sign_in``'s.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, NoReturn

import streamlit as st

from lib import sign_in
from lib.access import Person
from lib.literal import literal

log = logging.getLogger("model_studio")


def _secrets_section(name: str) -> dict[str, Any] | None:
    """A section of secrets.toml as a plain dict, or None (no file, or no such section)."""
    try:
        if not st.secrets.load_if_toml_exists():
            return None  # no secrets.toml: sign-in is off
        section = st.secrets.get(name)
    except Exception:  # a secrets.toml that is not valid TOML
        log.warning("Could not read .streamlit/secrets.toml", exc_info=True)
        return None
    return section.to_dict() if hasattr(section, "to_dict") else section


def setup() -> sign_in.SignInSetup:
    return sign_in.sign_in_setup(_secrets_section("auth"))


def signed_in_person() -> Person | None:
    """The signed-in person, or None when sign-in is not configured (single-user mode).

    When it is configured and nobody is signed in, draws the sign-in screen and stops the run.
    """
    configured = setup()
    if not configured.on:
        return None
    if configured.problem:
        _only_screen(lambda: _setup_problem(str(configured.problem)))
    if not st.user.is_logged_in:
        _only_screen(lambda: _sign_in_screen(configured.provider))
    try:
        person_id, name = sign_in.identity(st.user.to_dict())
    except ValueError:
        _only_screen(_no_identity)
    admins = sign_in.admins(_secrets_section("model_studio"), os.environ)
    return Person(id=person_id, name=name, is_admin=person_id in admins, signed_in=True)


def _only_screen(draw: Callable[[], None]) -> NoReturn:
    """Draw ``draw`` as the app's only page, then stop the run. Without a navigation Streamlit
    would list every file of pages/ in the sidebar (its legacy multipage mode)."""
    page = st.Page(draw, title="Sign in", url_path="sign-in", icon=":material/login:")
    st.navigation([page], position="hidden").run()
    st.stop()


def _setup_problem(problem: str) -> None:
    st.title("Model Studio")
    st.error(
        f"Sign-in is set up but incomplete: {problem} Whoever runs this app needs to fix "
        ".streamlit/secrets.toml (see README, Deploying for a team).",
        icon=":material/error:",
    )


def _no_identity() -> None:
    st.title("Model Studio")
    st.error(
        "The sign-in provider did not say who you are (no e-mail address or subject). "
        "Sign out and try another account, or ask whoever runs this app.",
        icon=":material/error:",
    )
    st.button("Sign out", on_click=st.logout)


def _sign_in_screen(provider: str | None) -> None:
    st.title("Model Studio")
    st.write("Sign in to train, save and use the team's models.")
    if st.button("Sign in", type="primary", icon=":material/login:"):
        st.login(provider) if provider else st.login()


def account_box(person: Person | None) -> None:
    """The sidebar's account line: who is signed in, with sign-out; or single-user mode."""
    if person is None:
        return
    role = " (administrator)" if person.is_admin else ""
    st.caption(f"Signed in as **{literal(person.name)}**{role}")
    if person.name != person.id:
        st.caption(literal(person.id))
    st.button("Sign out", on_click=st.logout, icon=":material/logout:", key="sign_out")
