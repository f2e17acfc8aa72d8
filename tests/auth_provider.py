"""A real OpenID Connect provider for the sign-in tests: ``oidc-provider-mock`` on its own port.

It serves discovery, keys, an authorization form (type any subject, or click a listed user) and
tokens, like a company's provider would; each test starts and stops its own. ``secrets_toml``
writes the app's ``[auth]`` section for it (``{port}`` is filled in by Streamlit).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path

import oidc_provider_mock

# Signed-in people of the tests: e-mail -> display name.
ALICE, BOB, ADMIN = "alice@example.com", "bob@example.com", "admin@example.com"
PEOPLE = {ALICE: "Alice Archer", BOB: "Bob Baker", ADMIN: "Ada Admin"}


@contextlib.contextmanager
def oidc_provider(people: Mapping[str, str] = PEOPLE) -> Iterator[str]:
    """Run the provider with ``people`` (e-mail -> name) listed; yield its issuer URL."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    users = [
        oidc_provider_mock.User(sub=email, claims={"email": email, "name": name})
        for email, name in people.items()
    ]
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def secrets_toml(path: Path, issuer: str, admins: list[str] | None = None) -> Path:
    """Write a secrets.toml at ``path`` signing in through ``issuer``; return ``path``."""
    lines = [
        "[auth]",
        'redirect_uri = "http://localhost:{port}/oauth2callback"',
        f'cookie_secret = "{secrets.token_hex(32)}"',
        'client_id = "model-studio-tests"',
        'client_secret = "not-a-secret"',
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"',
    ]
    if admins:
        lines += ["", "[model_studio]", f"admins = {list(admins)!r}".replace("'", '"')]
    path.write_text("\n".join(lines) + "\n")
    return path
