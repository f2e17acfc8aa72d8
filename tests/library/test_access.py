"""Owners, visibility, the trash and the audit log (issue 14, parts 2-3).

Two signed-in people (Alice, Bob) and an administrator; every library test runs on a local
folder and on moto's S3 server (the ``raw`` fixture).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time

import pytest

from lib.access import (
    PRIVATE,
    SHARED,
    Person,
    can_manage,
    can_read_audit,
    can_see,
    workspace_person,
)
from lib.errors import NotAllowed, StoreError
from lib.library import AuditEvent, Library, VersionRecord, open_library, trash_retention_s
from lib.library._records import object_key, record_key
from tests.library.conftest import RawStore

ALICE = Person("alice@example.com", "Alice", signed_in=True)
BOB = Person("bob@example.com", "Bob", signed_in=True)
ADMIN = Person("admin@example.com", "Admin", is_admin=True, signed_in=True)
MISSING = "There is no saved model named 'tips'. Pick one from the list of saved models."


@pytest.fixture
def library(library_url: str) -> Library:
    return open_library(library_url)


def key_of(data: bytes) -> str:
    return object_key(hashlib.sha256(data).hexdigest())


def numbers(library: Library, name: str, viewer: Person | None) -> list[int]:
    return [r.version for r in library.versions(name, viewer)]


# -- the rules themselves --------------------------------------------------------------------


def _record(owner: str | None, visibility: str) -> VersionRecord:
    return VersionRecord("m", 1, "0" * 64, 1, "2026-01-01T00:00:00+00:00", None, {}, "", False,
                         owner, visibility)  # fmt: skip


def test_rules_for_owners_others_admins_and_sign_in_off() -> None:
    private, shared = _record(ALICE.id, PRIVATE), _record(ALICE.id, SHARED)
    for record in (private, shared):
        assert can_see(ALICE, record) and can_manage(ALICE, record)
        assert can_see(ADMIN, record) and can_manage(ADMIN, record)
        assert can_see(None, record) and can_manage(None, record)
        assert not can_manage(BOB, record)
    assert can_see(BOB, shared) and not can_see(BOB, private)
    # A workspace person (sign-in off) may do everything, like None.
    workspace = workspace_person("1a2b3c4d")
    assert workspace.id == "workspace 1a2b3c4d" and not workspace.signed_in
    assert can_see(workspace, private) and can_manage(workspace, private)
    # No signed-in owner (old versions, or saved by a workspace): shared, admins manage.
    for owner in (None, "workspace 1a2b3c4d"):
        unowned = _record(owner, PRIVATE)
        assert can_see(BOB, unowned) and not can_manage(BOB, unowned)
        assert can_manage(ADMIN, unowned)
    assert can_read_audit(ADMIN) and can_read_audit(None) and not can_read_audit(ALICE)


# -- visibility ------------------------------------------------------------------------------


def test_a_private_version_is_missing_for_others_and_visible_to_its_owner_and_admins(
    library: Library,
) -> None:
    library.save("tips", b"alice v1", by=ALICE)  # shared by default
    library.save("tips", b"alice v2", by=ALICE, visibility=PRIVATE)
    library.save("secret", b"only alice", by=ALICE, visibility=PRIVATE)

    for viewer in (ALICE, ADMIN, None):
        assert numbers(library, "tips", viewer) == [1, 2]
        assert library.read("secret", viewer=viewer) == b"only alice"
    assert [(s.name, s.latest_version, s.count) for s in library.names(BOB)] == [("tips", 1, 1)]
    assert [(s.name, s.latest_version, s.count) for s in library.names(ALICE)] == [
        ("secret", 1, 1),
        ("tips", 2, 2),
    ]
    assert [s.name for s in library.names(ADMIN)] == ["secret", "tips"]
    assert library.names(ADMIN)[1].latest.visibility == PRIVATE

    assert numbers(library, "tips", BOB) == [1]
    assert library.record("tips", viewer=BOB).version == 1  # the newest Bob may see
    assert library.read("tips", viewer=BOB) == b"alice v1"
    assert library.versions("secret", BOB) == []
    # Exactly the messages of a version or name that does not exist.
    with pytest.raises(StoreError, match=r"no version 2\. Its versions are 1;"):
        library.read("tips", 2, viewer=BOB)
    with pytest.raises(StoreError) as hidden:
        library.record("secret", viewer=BOB)
    with pytest.raises(StoreError) as absent:
        library.record("tips-nothing", viewer=BOB)
    assert str(hidden.value) == MISSING.replace("tips", "secret")
    assert str(absent.value) == MISSING.replace("tips", "tips-nothing")
    with pytest.raises(StoreError, match="no saved model named 'secret'"):
        library.delete_name("secret", BOB)
    with pytest.raises(StoreError, match="no version 2"):
        library.set_visibility("tips", 2, SHARED, BOB)


def test_the_owner_or_an_admin_changes_the_visibility_others_may_not(
    library: Library, raw: RawStore
) -> None:
    library.save("tips", b"one", by=ALICE)

    with pytest.raises(NotAllowed) as error:
        library.set_visibility("tips", 1, PRIVATE, BOB)
    assert str(error.value) == (
        "Only its owner (alice@example.com) or an administrator can change the visibility of "
        "version 1 of 'tips'. Ask them to do it."
    )
    assert library.set_visibility("tips", 1, PRIVATE, ALICE).visibility == PRIVATE
    assert library.names(BOB) == [] and library.versions("tips", BOB) == []
    assert library.record("tips", viewer=ALICE).visibility == PRIVATE
    # The record is immutable; the change is a separate small object.
    assert json.loads(raw.get(record_key("tips", 1)))["visibility"] == SHARED
    assert json.loads(raw.get(record_key("tips", 1, "access.json")))["visibility"] == PRIVATE

    library.set_visibility("tips", 1, SHARED, ADMIN)
    assert library.read("tips", viewer=BOB) == b"one"
    with pytest.raises(ValueError, match="visibility must be one of"):
        library.set_visibility("tips", 1, "public", ALICE)


def test_a_damaged_visibility_object_hides_rather_than_leaks(
    library: Library, raw: RawStore
) -> None:
    library.save("tips", b"one", by=ALICE)
    raw.put(record_key("tips", 1, "access.json"), b"{oops")

    assert library.versions("tips", BOB) == []
    assert library.read("tips", viewer=ALICE) == b"one"
    library.set_visibility("tips", 1, SHARED, ALICE)  # rewriting it repairs it
    assert numbers(library, "tips", BOB) == [1]


def test_versions_without_a_signed_in_owner_are_shared_and_for_admins_to_manage(
    library: Library, raw: RawStore
) -> None:
    workspace = workspace_person("1a2b3c4d")
    library.save("tips", b"before owners")
    stored = json.loads(raw.get(record_key("tips", 1)))
    del stored["owner"], stored["visibility"]  # as saved by the app before this change
    raw.put(record_key("tips", 1), json.dumps(stored).encode())
    library.save("tips", b"by a workspace", by=workspace)

    old, from_workspace = library.versions("tips", BOB)
    assert (old.owner, old.visibility) == (None, SHARED)
    assert (from_workspace.owner, from_workspace.visibility) == ("workspace 1a2b3c4d", SHARED)
    with pytest.raises(NotAllowed, match="Only an administrator can delete version 1 of 'tips'"):
        library.delete_version("tips", 1, ALICE)
    with pytest.raises(StoreError, match=r"has no signed-in owner.*always shared"):
        library.set_visibility("tips", 2, PRIVATE, ADMIN)
    with pytest.raises(StoreError, match="only a signed-in person can own a private model"):
        library.save("tips", b"x", by=workspace, visibility=PRIVATE)
    library.delete_version("tips", 1, ADMIN)
    assert numbers(library, "tips", None) == [2]


# -- sign-in off -----------------------------------------------------------------------------


def test_with_sign_in_off_everyone_may_do_everything(library: Library) -> None:
    library.save("tips", b"alice private", by=ALICE, visibility=PRIVATE)
    library.save("tips", b"bob private", by=BOB, visibility=PRIVATE)

    assert numbers(library, "tips", None) == [1, 2]
    library.set_visibility("tips", 1, SHARED)
    library.delete_version("tips", 2)
    assert [t.record.version for t in library.trashed()] == [2]
    library.restore_version("tips", 2)
    assert library.delete_name("tips") == 0
    assert library.names() == []


# -- the trash -------------------------------------------------------------------------------


def test_delete_moves_to_the_trash_and_restore_brings_back_the_same_bytes(
    library: Library,
) -> None:
    library.save("tips", b"one", by=ALICE)
    library.save("tips", b"two", by=ALICE)
    before = time.time()
    library.delete_version("tips", 2, ALICE, address="203.0.113.5")

    assert numbers(library, "tips", ALICE) == [1]
    assert [(s.latest_version, s.count) for s in library.names(ALICE)] == [(1, 1)]
    with pytest.raises(StoreError, match=r"no version 2\. Its versions are 1;"):
        library.read("tips", 2, viewer=ALICE)
    [entry] = library.trashed(ALICE)
    assert (entry.record.name, entry.record.version, entry.deleted_by) == ("tips", 2, ALICE.id)
    assert dt.datetime.fromisoformat(entry.deleted_at).timestamp() >= before - 1
    assert library.trashed(BOB) == []  # only what the viewer may restore
    assert [t.record.version for t in library.trashed(ADMIN)] == [2]

    with pytest.raises(NotAllowed, match=r"Only its owner \(alice@example.com\).*restore"):
        library.restore_version("tips", 2, BOB)
    with pytest.raises(NotAllowed, match=r"Only its owner \(alice@example.com\).*delete"):
        library.delete_version("tips", 1, BOB)
    restored = library.restore_version("tips", 2, ALICE)
    assert restored.version == 2 and library.read("tips", viewer=BOB) == b"two"
    assert library.trashed(ALICE) == []
    with pytest.raises(StoreError, match="is not in the trash"):
        library.restore_version("tips", 2, ALICE)

    library.delete_version("tips", 1, ADMIN)  # an administrator may delete anyone's
    library.restore_version("tips", 1, ADMIN)
    assert numbers(library, "tips", BOB) == [1, 2]


def test_a_private_trashed_version_stays_hidden_from_others(library: Library) -> None:
    library.save("tips", b"one", by=ALICE, visibility=PRIVATE)
    library.delete_version("tips", 1, ALICE)

    assert library.trashed(BOB) == []
    with pytest.raises(StoreError, match="is not in the trash"):
        library.restore_version("tips", 1, BOB)  # not "only its owner": that would leak it
    assert library.trashed(ADMIN)[0].record.visibility == PRIVATE


def test_purge_removes_expired_versions_for_good_and_never_reuses_their_numbers(
    library_url: str, raw: RawStore
) -> None:
    library = open_library(library_url, grace=0)
    library.save("tips", b"one", by=ALICE)
    library.save("tips", b"two", by=ALICE)
    library.save("tips", b"three", by=ALICE)
    library.delete_version("tips", 3, ALICE)
    library.delete_version("tips", 2, ALICE)

    assert library.purge_expired(3600) == 0  # deleted just now: still restorable
    assert len(library.trashed(ALICE)) == 2
    assert library.purge_expired(3600, now=time.time() + 7200) == 2
    assert library.trashed(ALICE) == [] and numbers(library, "tips", ALICE) == [1]
    with pytest.raises(StoreError, match="is not in the trash"):
        library.restore_version("tips", 2, ALICE)
    listing = raw.listing()
    assert key_of(b"two") not in listing and key_of(b"three") not in listing
    assert (
        record_key("tips", 2) not in listing and record_key("tips", 2, "trash.json") not in listing
    )
    assert library.save("tips", b"four", by=ALICE).version == 4
    assert library.read("tips", 1, viewer=ALICE) == b"one"


def test_a_trashed_version_keeps_its_number_and_its_bytes(library_url: str, raw: RawStore) -> None:
    library = open_library(library_url, grace=0)  # collect every unreferenced byte at once
    library.save("tips", b"trashed", by=ALICE)
    library.save("other", b"other", by=BOB)
    library.delete_version("tips", 1, ALICE)
    library.delete_name("other", BOB)  # each delete runs the collector
    library.purge_expired(3600)  # and so does a purge (that purges nothing here)

    assert key_of(b"trashed") in raw.listing()
    assert library.save("tips", b"next", by=ALICE).version == 2
    library.restore_version("tips", 1, ALICE)
    assert library.read("tips", 1, viewer=ALICE) == b"trashed"
    assert numbers(library, "tips", ALICE) == [1, 2]


def test_delete_name_trashes_only_what_the_person_may_manage(library: Library) -> None:
    library.save("tips", b"alice 1", by=ALICE)
    library.save("tips", b"bob 2", by=BOB)
    library.save("tips", b"alice 3", by=ALICE)
    library.save("tips", b"bob private 4", by=BOB, visibility=PRIVATE)

    assert library.delete_name("tips", ALICE) == 1  # Bob's shared version 2 stays (4 unseen)
    assert numbers(library, "tips", ADMIN) == [2, 4]
    assert [t.record.version for t in library.trashed(ALICE)] == [3, 1]  # newest first
    with pytest.raises(NotAllowed) as error:
        library.delete_name("tips", ALICE)
    assert "bob@example.com" in str(error.value)
    assert library.delete_name("tips", ADMIN) == 0
    assert library.names(ADMIN) == []


# -- the audit log ---------------------------------------------------------------------------


def test_the_audit_log_records_changes_newest_first_and_another_server_reads_it(
    library_url: str,
) -> None:
    library = open_library(library_url)
    start = dt.datetime.now(dt.UTC)
    library.save("tips", b"one", by=ALICE, address="203.0.113.5")
    library.set_visibility("tips", 1, PRIVATE, ALICE, address="203.0.113.5")
    library.delete_version("tips", 1, ADMIN, address="198.51.100.7")
    library.restore_version("tips", 1, ALICE)
    library.delete_version("tips", 1, ALICE)
    library.purge_expired(0)
    library.audit.append(AuditEvent(action="download", who=BOB.id, name="tips", version=1))

    other = open_library(library_url)  # another server, nothing shared but the store
    events = other.audit.events()
    assert [(e.action, e.who, e.name, e.version) for e in events] == [
        ("download", BOB.id, "tips", 1),
        ("purge", None, "tips", 1),
        ("delete", ALICE.id, "tips", 1),
        ("restore", ALICE.id, "tips", 1),
        ("delete", ADMIN.id, "tips", 1),
        ("visibility", ALICE.id, "tips", 1),
        ("save", ALICE.id, "tips", 1),
    ]
    assert [e.address for e in events][-3:] == ["198.51.100.7", "203.0.113.5", "203.0.113.5"]
    assert events[-2].detail == PRIVATE
    times = [dt.datetime.fromisoformat(e.at) for e in events]
    assert times == sorted(times, reverse=True) and times[-1] >= start
    assert other.audit.events(limit=2) == events[:2]


def test_audit_events_are_never_overwritten(library: Library, raw: RawStore) -> None:
    now = dt.datetime.now(dt.UTC)
    at = now.isoformat(timespec="microseconds")
    first = library.audit.append(AuditEvent(at=at, action="load", who=ALICE.id, name="tips"))
    second = library.audit.append(AuditEvent(at=at, action="load", who=BOB.id, name="tips"))

    assert first != second
    assert first.startswith(f"audit/{now:%Y-%m-%d}/{now:%Y%m%dT%H%M%S.%f}Z-")
    assert json.loads(raw.get(first))["who"] == ALICE.id
    assert json.loads(raw.get(second))["who"] == BOB.id
    # The store itself refuses to replace an event (create-only-if-absent).
    assert not library.storage.create(first, b"{}")
    assert json.loads(raw.get(first))["who"] == ALICE.id
    events = library.audit.events()
    assert sorted(e.who or "" for e in events if e.at == at) == [ALICE.id, BOB.id]
    with pytest.raises(ValueError, match="unknown audit action"):
        library.audit.append(AuditEvent(action="steal"))


def test_old_days_and_damaged_events_are_left_out(library: Library, raw: RawStore) -> None:
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=40)).isoformat()
    library.audit.append(AuditEvent(at=old, action="load", who=ALICE.id))
    library.audit.append(AuditEvent(action="load", who=BOB.id))
    today = dt.datetime.now(dt.UTC)
    raw.put(f"audit/{today:%Y-%m-%d}/{today:%Y%m%dT%H%M%S.%f}Z-broken00.json", b"{oops")

    assert [e.who for e in library.audit.events()] == [BOB.id]
    assert [e.who for e in library.audit.events(days=41)] == [BOB.id, ALICE.id]


# -- configuration ---------------------------------------------------------------------------


def test_trash_retention_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODEL_STUDIO_TRASH_DAYS", raising=False)
    assert trash_retention_s() == 7 * 86400
    monkeypatch.setenv("MODEL_STUDIO_TRASH_DAYS", "0.5")
    assert trash_retention_s() == 43200
    for bad in ("a week", "-1", "nan", "inf"):
        monkeypatch.setenv("MODEL_STUDIO_TRASH_DAYS", bad)
        with pytest.raises(StoreError, match=r"MODEL_STUDIO_TRASH_DAYS is .* number of days"):
            trash_retention_s()


def test_a_server_that_remembers_owners_still_sees_every_visibility_change(
    library: Library, library_url: str
):
    """Owners and visibilities as saved are read once per server; changes are read every time."""
    library.save("tips", b"one", owner=ALICE.id, by=ALICE)
    library.save("tips", b"two", owner=ALICE.id, visibility="private", by=ALICE)
    other_server = open_library(library_url)
    assert other_server.names(viewer=BOB)[0].latest_version == 1
    assert [s.latest_version for s in library.names(viewer=BOB)] == [1]
    library.set_visibility("tips", 1, "private", by=ALICE)
    assert library.names(viewer=BOB) == []  # the same Library, its memory already filled
    library.set_visibility("tips", 2, "shared", by=ALICE)
    assert [(s.latest_version, s.count) for s in library.names(viewer=BOB)] == [(2, 1)]
    library.delete_version("tips", 2, by=ALICE)
    assert library.names(viewer=BOB) == []
    assert other_server.names(viewer=BOB) == []
