"""Optional sign-in: whether an OpenID Connect provider is configured, and who is signed in.

The app signs people in with Streamlit's own ``st.login`` / ``st.user`` (``pages/_auth.py``),
configured in ``.streamlit/secrets.toml``; this module holds the rules, without Streamlit:

- sign-in is on when the ``[auth]`` section names a provider, either directly (``client_id``,
  ``client_secret``, ``server_metadata_url``) or in one ``[auth.<name>]`` subsection;
- a person is known by their e-mail address when the provider vouches for it (an
  ``email_verified`` of false is not trusted), else by the provider's subject ``sub``;
- administrators are listed by that identity in ``[model_studio] admins`` of the secrets, or in
  the ``MODEL_STUDIO_ADMINS`` environment variable (comma-separated), compared case-blind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ADMINS_VARIABLE = "MODEL_STUDIO_ADMINS"
PROVIDER_KEYS = ("client_id", "client_secret", "server_metadata_url")
SHARED_KEYS = ("redirect_uri", "cookie_secret")


@dataclass(frozen=True)
class SignInSetup:
    """What the secrets say: ``on`` when a provider is configured; ``provider`` is the name of
    its ``[auth.<name>]`` subsection (None for the ``[auth]`` section itself); ``problem`` says
    what is missing when the section is there but incomplete."""

    on: bool
    provider: str | None = None
    problem: str | None = None


def sign_in_setup(auth: Mapping[str, Any] | None) -> SignInSetup:
    """Read the ``[auth]`` section of the secrets (None or empty: sign-in is off)."""
    if not auth:
        return SignInSetup(on=False)
    missing_shared = [key for key in SHARED_KEYS if not auth.get(key)]
    if all(auth.get(key) for key in PROVIDER_KEYS):
        provider = None
    else:
        named = [
            name
            for name, section in auth.items()
            if isinstance(section, Mapping) and all(section.get(k) for k in PROVIDER_KEYS)
        ]
        if len(named) != 1:
            what = "several providers; keep one" if named else "no complete provider"
            return SignInSetup(
                on=True,
                problem=f"The [auth] section of secrets.toml has {what} (each needs "
                f"{', '.join(PROVIDER_KEYS)}).",
            )
        provider = named[0]
    if missing_shared:
        return SignInSetup(
            on=True,
            provider=provider,
            problem=f"The [auth] section of secrets.toml lacks {', '.join(missing_shared)}.",
        )
    return SignInSetup(on=True, provider=provider)


def identity(claims: Mapping[str, Any]) -> tuple[str, str]:
    """(id, display name) of a signed-in person from their identity token's claims.

    :raises ValueError: the claims hold neither an e-mail address nor a subject.
    """
    email = claims.get("email")
    email = email.strip().lower() if isinstance(email, str) else ""
    trusted = bool(email) and claims.get("email_verified") is not False
    person_id = email if trusted else str(claims.get("sub") or "").strip()
    if not person_id:
        raise ValueError("the identity token has neither an e-mail address nor a subject")
    name = claims.get("name")
    shown = name.strip() if isinstance(name, str) and name.strip() else person_id
    return person_id, shown


def admins(secrets_section: Mapping[str, Any] | None, environ: Mapping[str, str]) -> frozenset[str]:
    """The administrators' ids (lower case) from ``[model_studio] admins`` and the variable."""
    listed: list[str] = []
    configured = (secrets_section or {}).get("admins")
    if isinstance(configured, str):
        listed += configured.split(",")
    elif isinstance(configured, (list, tuple)):
        listed += [str(item) for item in configured]
    listed += environ.get(ADMINS_VARIABLE, "").split(",")
    return frozenset(item.strip().lower() for item in listed if item.strip())
