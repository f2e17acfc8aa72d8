"""Who may see and manage saved model versions: pure rules, no storage, no streamlit.

A :class:`Person` is whoever uses the app: with sign-in on, the signed-in user (``id`` is their
email or OIDC subject); with sign-in off, the browser's workspace (``id`` "workspace 1a2b3c4d",
``signed_in=False``). ``None`` in place of a person also means sign-in is off. With sign-in off
the app is a single-user tool: everyone may see and do everything.

With sign-in on: a version is visible when it is shared, when the person owns it, or when the
person is an administrator; it is manageable (delete, restore, change visibility) by its owner
and by administrators. A version without a signed-in owner (saved by an older app, or by a
workspace before sign-in was turned on) is shared and manageable by administrators only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PRIVATE = "private"
SHARED = "shared"
VISIBILITIES = (PRIVATE, SHARED)
# Owner ids of workspaces (sign-in off) start with this; signed-in ids (emails, OIDC subjects)
# never contain a space, so the two can't be confused.
WORKSPACE_PREFIX = "workspace "


@dataclass(frozen=True)
class Person:
    """Who is using the app: ``id`` (email, OIDC subject or "workspace <id>"), a display
    ``name``, whether they are an administrator (from the configuration) and signed in."""

    id: str
    name: str
    is_admin: bool = False
    signed_in: bool = False


class Owned(Protocol):
    """What the rules look at in a saved version (e.g. a ``VersionRecord``)."""

    @property
    def owner(self) -> str | None: ...

    @property
    def visibility(self) -> str: ...


def workspace_person(workspace: str, name: str | None = None) -> Person:
    """The person for a workspace id (sign-in off): ``Person("workspace <id>", ...)``."""
    person_id = f"{WORKSPACE_PREFIX}{workspace}"
    return Person(id=person_id, name=name or person_id)


def is_signed_in_id(owner: str | None) -> bool:
    """True for an owner id that names a signed-in person (not None, not a workspace)."""
    return bool(owner) and not str(owner).startswith(WORKSPACE_PREFIX)


def _rules_apply(person: Person | None) -> bool:
    return person is not None and person.signed_in


def can_see(person: Person | None, record: Owned) -> bool:
    """Whether ``person`` may see ``record`` (list, read, load, download it)."""
    if not _rules_apply(person) or record.visibility != PRIVATE:
        return True
    assert person is not None
    return person.is_admin or not is_signed_in_id(record.owner) or record.owner == person.id


def can_manage(person: Person | None, record: Owned) -> bool:
    """Whether ``person`` may delete, restore or change the visibility of ``record``."""
    if not _rules_apply(person):
        return True
    assert person is not None
    return person.is_admin or (is_signed_in_id(record.owner) and record.owner == person.id)


def can_read_audit(person: Person | None) -> bool:
    """Whether ``person`` may view the audit log (administrators; everyone with sign-in off)."""
    return not _rules_apply(person) or bool(person and person.is_admin)


def who(person: Person | None) -> str | None:
    """The id recorded for ``person`` in the audit log and trash (None: nobody known)."""
    return None if person is None else person.id
