"""The versioned model library: every save under a name adds a version; nothing is overwritten.

A save writes the model bytes under their SHA-256 first, then creates the version's record with
a create-only-if-absent (see :mod:`lib.library._storage`), so a listed version always has its
complete bytes, and two servers saving one name at the same moment get two version numbers:
the one whose create fails takes the next number and tries again. No lock is held anywhere.

Deleting moves a version to the trash (a ``.trash.json`` marker: hidden, restorable, its record
and bytes kept); :meth:`Library.purge_expired` later removes it for good, leaving a small
``.deleted`` marker so its number is never reused while the name exists. Identical bytes are
stored once and shared by every version that has them. Who may see and manage which version:
:mod:`lib.access`; every change is also appended to the audit log (:mod:`._audit`).

Bytes are collected, not deleted with their version: after each delete and purge, every object
that no record (trashed ones included) refers to **and** that was last written more than
``grace`` ago (10 minutes by default) is removed. A save always re-puts its bytes (refreshing
their modification time) before creating its record, so a purge racing a save of
byte-identical bytes leaves them alone, and bytes left by a save that stopped before its record
(an orphan) go at the first delete after the grace period. So a purged version's bytes stay in
the store up to the grace period, then go at the next delete or purge. Known limit: a save that
takes longer than the grace period between its put and its record, or whose put, record and
check all fall between a collection's last look at the object and its removal (milliseconds),
can still lose its bytes; the save re-checks them after creating its record and puts them again
if they are gone, and a read in between says the version is damaged (nothing else is hidden).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import os
import re
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from lib import access
from lib.access import PRIVATE, SHARED, VISIBILITIES, Person, can_manage, can_see
from lib.errors import DamagedModelError, NotAllowed, StoreError
from lib.library import _legacy
from lib.library._audit import AuditEvent, AuditLog
from lib.library._records import (
    ACCESS_SUFFIX,
    DELETED_SUFFIX,
    MAX_RECORD_BYTES,
    MAX_SAVED_BY_CHARS,
    OBJECTS,
    RECORD_SUFFIX,
    RECORDS,
    TRASH_SUFFIX,
    NameSummary,
    TrashedVersion,
    VersionRecord,
    decode_access,
    decode_record,
    decode_trash,
    encode_access,
    encode_record,
    encode_trash,
    name_key,
    object_key,
    parse_record_key,
    record_key,
)
from lib.library._storage import Storage, open_storage
from lib.store import _plain as plain_data  # the old library's JSON-safe conversion
from lib.store import checked_save, validate_name

log = logging.getLogger(__name__)

# Each failed create means another server saved that name meanwhile; this many in a row means
# something is wrong (or extraordinarily busy) and the person should try again.
MAX_SAVE_ATTEMPTS = 100
# Unreferenced bytes younger than this are kept: a save may have put them and not yet created
# its record. Far longer than a save takes.
GRACE = 600.0
DEFAULT_TRASH_DAYS = 7.0
_SHA = re.compile(r"[0-9a-f]{64}")


@dataclass
class _Listing:
    """Keys by name key and version, from one listing: records not purged (``live``, trashed
    ones included), trash markers, access objects, purged numbers, and the highest number
    ever used."""

    live: dict[str, dict[int, str]]
    trashed: dict[str, dict[int, str]]
    access: dict[str, dict[int, str]]
    deleted: dict[str, set[int]]
    used: dict[str, int]

    def shown(self, key_of_name: str) -> dict[int, str]:
        """The record keys of ``key_of_name`` not in the trash: {version: key}."""
        trashed = self.trashed.get(key_of_name, {})
        return {v: k for v, k in self.live.get(key_of_name, {}).items() if v not in trashed}

    def legacy_shown(self, key_of_name: str) -> bool:
        """Whether an old-style entry of this name may be shown as version 1: no record,
        trash marker or purge marker claims that number."""
        return not (
            1 in self.live.get(key_of_name, {})
            or 1 in self.trashed.get(key_of_name, {})
            or 1 in self.deleted.get(key_of_name, set())
        )


@dataclass(frozen=True)
class _Access:
    """Who owns a version and who sees it (what ``lib.access`` rules look at)."""

    owner: str | None
    visibility: str


@dataclass(frozen=True)
class LibraryProblem:
    """A record the library could not read: where it is and what is wrong with it."""

    key: str
    reason: str


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def trash_retention_s() -> float:
    """How long deleted versions stay restorable, in seconds: ``MODEL_STUDIO_TRASH_DAYS``
    (days, fractions allowed, 0 = purge at the next purge run; default 7).

    :raises StoreError: the variable is not a number of days.
    """
    text = os.environ.get("MODEL_STUDIO_TRASH_DAYS", "").strip()
    if not text:
        return DEFAULT_TRASH_DAYS * 86400
    try:
        days = float(text)
    except ValueError:
        days = -1.0
    if not days >= 0 or days == float("inf"):
        raise StoreError(
            f"MODEL_STUDIO_TRASH_DAYS is {text!r}; set it to a number of days (0 or more, "
            f"e.g. 7) that deleted models stay restorable, or unset it for "
            f"{DEFAULT_TRASH_DAYS:g} days."
        )
    return days * 86400


def _version_text(name: str, version: int) -> str:
    return f"version {version} of '{name}'"


def _not_allowed(doing: str, record: VersionRecord) -> NotAllowed:
    """The message for someone who may not ``doing`` (delete, restore, ...) ``record``."""
    what = _version_text(record.name, record.version)
    if access.is_signed_in_id(record.owner):
        return NotAllowed(
            f"Only its owner ({record.owner}) or an administrator can {doing} {what}. "
            "Ask them to do it."
        )
    return NotAllowed(
        f"Only an administrator can {doing} {what}: it has no signed-in owner (it was saved "
        "before sign-in was turned on). Ask an administrator to do it."
    )


class Library:
    """Named, versioned models in a :class:`Storage` (local folder or S3).

    ``grace``: seconds an unreferenced object is kept after it was last written (see above).
    Read methods take an optional ``viewer`` (:class:`lib.access.Person`; None = sign-in off,
    everything visible): a version the viewer may not see behaves exactly like one that does
    not exist. Methods that change things take ``by`` (who does it, checked with
    :func:`lib.access.can_manage`) and an optional client ``address``, and append an
    :class:`AuditEvent` to :attr:`audit`.
    """

    def __init__(self, storage: Storage, grace: float = GRACE) -> None:
        self.storage = storage
        self.grace = grace
        self._audit = AuditLog(storage)
        # Record key -> (owner, visibility as saved): a record is created once and never
        # rewritten (its number is never reused), so a server reads each one once to decide
        # what a signed-in person may see. About 100 bytes a version.
        self._saved_access: dict[str, _Access] = {}

    def __repr__(self) -> str:
        return f"Library({self.storage!r})"

    @property
    def audit(self) -> AuditLog:
        """The library's append-only audit log (same storage, under ``audit/``)."""
        return self._audit

    def _log(
        self,
        action: str,
        by: Person | None,
        record: VersionRecord,
        address: str | None,
        detail: str | None = None,
        who: str | None = None,
    ) -> None:
        """Append an event; a failing store is logged, not raised: the change itself is done
        and saying it failed would be wrong."""
        event = AuditEvent(
            action=action,
            who=who if who is not None else access.who(by),
            name=record.name,
            version=record.version,
            address=address,
            detail=detail,
        )
        try:
            self._audit.append(event)
        except StoreError:
            log.exception("Could not append audit event %s", event)

    # -- scanning ----------------------------------------------------------------------------

    def _list(self, prefix: str) -> _Listing:
        """The record keys under ``prefix``, from one (paginated) listing, nothing read."""
        listing = _Listing(
            live=defaultdict(dict),
            trashed=defaultdict(dict),
            access=defaultdict(dict),
            deleted=defaultdict(set),
            used=defaultdict(int),
        )
        for key in self.storage.list(prefix):
            parsed = parse_record_key(key)
            if parsed is None:
                continue  # a stray file: not ours, ignored
            key_of_name, version, suffix = parsed
            listing.used[key_of_name] = max(listing.used[key_of_name], version)
            if suffix == DELETED_SUFFIX:
                listing.deleted[key_of_name].add(version)
            elif suffix == TRASH_SUFFIX:
                listing.trashed[key_of_name][version] = key
            elif suffix == ACCESS_SUFFIX:
                listing.access[key_of_name][version] = key
            else:
                listing.live[key_of_name][version] = key
        for key_of_name, versions in listing.deleted.items():
            for version in versions:  # a purge that stopped half-way still counts
                listing.live[key_of_name].pop(version, None)
                listing.trashed[key_of_name].pop(version, None)
                listing.access[key_of_name].pop(version, None)
        return listing

    def _decode(self, keys: list[str]) -> tuple[dict[str, VersionRecord], list[LibraryProblem]]:
        """Read and check the records at ``keys``: {key: record} and the unreadable ones."""
        records: dict[str, VersionRecord] = {}
        problems: list[LibraryProblem] = []
        for key, data in self.storage.read_many(keys).items():
            if isinstance(data, Exception):
                continue  # deleted between the listing and the read
            try:
                records[key] = decode_record(key, data)
            except (ValueError, UnicodeDecodeError, StoreError) as error:
                log.warning("Skipping unreadable model library record %s: %s", key, error)
                problems.append(LibraryProblem(key, str(error) or type(error).__name__))
        return records, problems

    def _with_access(self, records: list[VersionRecord], listing: _Listing) -> list[VersionRecord]:
        """``records`` with their visibility changes applied (see :meth:`_changed_access`)."""
        changed = self._changed_access(listing, [(name_key(r.name), r.version) for r in records])
        return [
            replace(r, visibility=changed[(name_key(r.name), r.version)])
            if (name_key(r.name), r.version) in changed
            else r
            for r in records
        ]

    def _changed_access(
        self, listing: _Listing, versions: list[tuple[str, int]]
    ) -> dict[tuple[str, int], str]:
        """The visibility of each (name key, version) in ``versions`` changed since saving: one
        read per version whose access object the listing shows. An unreadable one counts as
        private (nothing leaks; setting the visibility again rewrites it)."""
        keys = {listing.access[k][v]: (k, v) for k, v in versions if v in listing.access.get(k, {})}
        changed: dict[tuple[str, int], str] = {}
        if not keys:
            return changed
        for key, data in self.storage.read_many(list(keys)).items():
            if isinstance(data, FileNotFoundError):
                continue
            try:
                if isinstance(data, Exception):
                    raise ValueError(str(data))
                changed[keys[key]] = decode_access(data)
            except (ValueError, UnicodeDecodeError) as error:
                log.warning("Unreadable visibility %s (treated as private): %s", key, error)
                changed[keys[key]] = PRIVATE
        return changed

    def _scan(self, prefix: str) -> tuple[dict[str, list[VersionRecord]], list[LibraryProblem]]:
        """Every readable record under ``prefix`` (trashed ones too) by name key, oldest
        first, plus problems."""
        listing = self._list(prefix)
        keys = [key for versions in listing.live.values() for key in versions.values()]
        records, problems = self._decode(keys)
        by_key: dict[str, list[VersionRecord]] = defaultdict(list)
        for record in sorted(records.values(), key=lambda r: r.version):
            by_key[name_key(record.name)].append(record)
        return by_key, problems

    def _legacy(self, only: str | None = None) -> tuple[list[VersionRecord], list[LibraryProblem]]:
        """Old-layout entries (all, or only the one named ``only``) as version-1 records."""
        if only is not None:
            keys = [_legacy.sidecar_key(only)]
        else:
            keys = _legacy.legacy_keys(self.storage)
        records: list[VersionRecord] = []
        problems: list[LibraryProblem] = []
        for key, data in self.storage.read_many(keys).items():
            if isinstance(data, Exception):
                continue
            try:
                records.append(_legacy.decode_sidecar(key, data))
            except (ValueError, UnicodeDecodeError, StoreError) as error:
                log.warning(
                    "Skipping unreadable old-style model library sidecar %s: %s", key, error
                )
                problems.append(LibraryProblem(key, str(error) or type(error).__name__))
        return records, problems

    # -- listing -----------------------------------------------------------------------------

    def names(self, viewer: Person | None = None) -> list[NameSummary]:
        """Every name with a version ``viewer`` may see, with its newest such version and how
        many it has, sorted by name (case-blind). Trashed versions are not counted.

        This reads one record per name (the newest readable one) plus one per changed
        visibility, not every version. For a signed-in person who is not an administrator,
        any version may be private: the server reads each version's record once, the first
        time, to learn its owner and visibility as saved (they never change), and remembers
        them. ``count`` counts the stored versions; a damaged record among the older
        ones is counted here, skipped by :meth:`versions` and reported by :meth:`problems`.
        """
        listing = self._list(RECORDS)
        shown = {k: listing.shown(k) for k in list(listing.live)}
        if viewer is not None and viewer.signed_in and not viewer.is_admin:
            shown = self._visible(shown, listing, viewer)
        latest, counts = self._newest(shown)
        latest = {name_key(r.name): r for r in self._with_access(list(latest.values()), listing)}
        legacy, _ = self._legacy()
        for record in legacy:  # no owner: visible to everyone
            key_of_name = name_key(record.name)
            if not listing.legacy_shown(key_of_name):
                continue  # in the trash, purged, or clashes with a version 1 record
            counts[key_of_name] = counts.get(key_of_name, 0) + 1
            latest.setdefault(key_of_name, record)
        summaries = [
            NameSummary(record.name, record.version, counts[k], record)
            for k, record in latest.items()
        ]
        return sorted(summaries, key=lambda s: (s.name.casefold(), s.name))

    def _visible(
        self, shown: dict[str, dict[int, str]], listing: _Listing, viewer: Person
    ) -> dict[str, dict[int, str]]:
        """``shown`` (name key -> {version: record key}) cut to the versions ``viewer`` may
        see. Reads each record's owner and visibility once per server (they never change) and
        the visibility changes the listing shows; unreadable records are left out."""
        keys = [key for versions in shown.values() for key in versions.values()]
        unread = [key for key in keys if key not in self._saved_access]
        if unread:
            records, _ = self._decode(unread)
            for key, record in records.items():
                self._saved_access[key] = _Access(record.owner, record.visibility)
        changed = self._changed_access(listing, [(k, v) for k, vs in shown.items() for v in vs])
        visible: dict[str, dict[int, str]] = defaultdict(dict)
        for k, versions in shown.items():
            for v, key in versions.items():
                saved = self._saved_access.get(key)
                if saved is None:
                    continue
                now = _Access(saved.owner, changed.get((k, v), saved.visibility))
                if can_see(viewer, now):
                    visible[k][v] = key
        return visible

    def _newest(
        self, shown: dict[str, dict[int, str]]
    ) -> tuple[dict[str, VersionRecord], dict[str, int]]:
        """The newest readable record of each name and its number of versions (damaged newest
        ones not counted), reading one record per name in the usual case."""
        pending = {k: sorted(v, reverse=True) for k, v in shown.items() if v}
        latest: dict[str, VersionRecord] = {}
        damaged: dict[str, int] = defaultdict(int)
        while pending:  # one round in the usual case; another per damaged newest record
            asked = {shown[k][versions[0]]: k for k, versions in pending.items()}
            records, _ = self._decode(list(asked))
            for key, key_of_name in asked.items():
                if key in records:
                    latest[key_of_name] = records[key]
                    del pending[key_of_name]
                else:
                    damaged[key_of_name] += 1
                    pending[key_of_name] = pending[key_of_name][1:]
                    if not pending[key_of_name]:
                        del pending[key_of_name]
        counts = {k: len(v) - damaged[k] for k, v in shown.items() if v}
        return latest, counts

    def versions(self, name: str, viewer: Person | None = None) -> list[VersionRecord]:
        """The readable versions of ``name`` that ``viewer`` may see and that are not in the
        trash, oldest first ([] for a name not in the library or with none to see)."""
        name = validate_name(name)
        key_of_name = name_key(name)
        listing = self._list(f"{RECORDS}/{key_of_name}")
        found, _ = self._decode(list(listing.shown(key_of_name).values()))
        records = sorted(found.values(), key=lambda r: r.version)
        if (not records or records[0].version != 1) and listing.legacy_shown(key_of_name):
            legacy, _ = self._legacy(only=name)
            records = legacy + records
        return [r for r in self._with_access(records, listing) if can_see(viewer, r)]

    def problems(self) -> list[LibraryProblem]:
        """The records and old-style sidecars that can't be read (each is skipped in listings).

        Reads every record, so it costs more than :meth:`names`.
        """
        by_key, problems = self._scan(RECORDS)
        legacy, legacy_problems = self._legacy()
        for record in legacy:
            versions = by_key.get(name_key(record.name), [])
            if versions and versions[0].version == 1:
                problems.append(
                    LibraryProblem(
                        _legacy.sidecar_key(record.name),
                        "an old-style entry clashes with version 1",
                    )
                )
        return problems + legacy_problems

    def record(
        self, name: str, version: int | None = None, viewer: Person | None = None
    ) -> VersionRecord:
        """The record of ``version`` of ``name`` (the newest when ``version`` is None), among
        the versions ``viewer`` may see.

        :raises StoreError: no such name or version (or none the viewer may see).
        """
        name = validate_name(name)
        records = self.versions(name, viewer)
        if not records:
            raise StoreError(
                f"There is no saved model named '{name}'. Pick one from the list of saved models."
            )
        if version is None:
            return records[-1]
        for record in records:
            if record.version == version:
                return record
        numbers = ", ".join(str(r.version) for r in records)
        raise StoreError(
            f"The saved model '{name}' has no version {version}. Its versions are {numbers}; "
            "pick one of those."
        )

    # -- reading -----------------------------------------------------------------------------

    def read(self, name: str, version: int | None = None, viewer: Person | None = None) -> bytes:
        """The model bytes of ``version`` of ``name`` (newest by default), SHA-256 checked.

        :raises StoreError: no such name or version (or none ``viewer`` may see), or its bytes
            are missing or damaged.
        """
        name = validate_name(name)
        record = self.record(name, version, viewer)
        try:
            data = self.storage.read(record.object_key)
        except FileNotFoundError:
            log.warning("Model bytes %s missing from %s", record.object_key, self.storage)
            reason = "its model file is missing from the library"
            raise self._damaged(record, reason, viewer) from None
        if len(data) != record.size_bytes or hashlib.sha256(data).hexdigest() != record.sha256:
            log.warning("Checksum mismatch for %s in %s", record.object_key, self.storage)
            raise self._damaged(record, "its contents no longer match its checksum", viewer)
        return data

    def _damaged(
        self, record: VersionRecord, reason: str, viewer: Person | None
    ) -> DamagedModelError:
        """The message for a damaged ``record``, naming the versions of its name the viewer
        sees that share its bytes (stored once, so they are damaged too) and what to delete."""
        sharing = [
            r.version
            for r in self.versions(record.name, viewer)
            if r.object_key == record.object_key and r.version != record.version
        ]
        where = f"Version {record.version} of the saved model '{record.name}'"
        if not sharing:
            advice = "Delete this version and save the model again."
        else:
            both = sorted([record.version, *sharing])
            verb = "share this file and are" if len(sharing) > 1 else "shares this file and is"
            advice = (
                f"{'Versions' if len(sharing) > 1 else 'Version'} {_numbers(sharing)} {verb} "
                f"damaged too (identical models are stored once): delete versions "
                f"{_numbers(both)}, then save the model again."
            )
        return DamagedModelError(f"{where} is damaged: {reason}. {advice}")

    # -- saving ------------------------------------------------------------------------------

    def save(
        self,
        name: str,
        model_bytes: bytes,
        metadata: dict[str, Any] | None = None,
        *,
        saved_by: str | None = None,
        owner: str | None = None,
        visibility: str = SHARED,
        by: Person | None = None,
        address: str | None = None,
    ) -> VersionRecord:
        """Save ``model_bytes`` as the next version of ``name``; return its record.

        :param name: user-visible name, checked by :func:`lib.store.validate_name`.
        :param model_bytes: the exact file content to keep.
        :param metadata: plain data shown in the history (numpy scalars, NaN are converted).
        :param saved_by: the workspace or person saving, as shown to people, when known.
        :param owner: the owner's id (:attr:`lib.access.Person.id`); ``by.id`` when None.
        :param visibility: "shared" (default) or "private" (only for a signed-in owner).
        :param by: who saves, recorded in the audit log (with ``address``).
        :raises StoreError: bad name, empty model, record too large, private without a
            signed-in owner, store failure.
        :raises TypeError: ``model_bytes`` not bytes-like or metadata not plain data.
        :raises ValueError: an unknown visibility.
        """
        name, data = checked_save(name, model_bytes, metadata)
        saved_by = _check_saved_by(saved_by)
        owner = _check_saved_by(owner if owner is not None else access.who(by))
        _check_visibility(visibility)
        if visibility == PRIVATE and not access.is_signed_in_id(owner):
            raise StoreError(
                f"'{name}' can't be private: only a signed-in person can own a private model. "
                "Sign in, or save it as shared."
            )
        sha = hashlib.sha256(data).hexdigest()
        base = VersionRecord(
            name=name,
            version=1,
            sha256=sha,
            size_bytes=len(data),
            created_at=_now(),
            saved_by=saved_by,
            metadata=plain_data(metadata or {}),
            object_key=object_key(sha),
            owner=owner,
            visibility=visibility,
        )
        if len(encode_record(base)) > MAX_RECORD_BYTES:
            raise StoreError(
                f"The model's description is too large to keep in the library (over "
                f"{MAX_RECORD_BYTES // 2**20} MB). This is a bug; please report it."
            )
        # Bytes first: once the record exists, its bytes are complete.
        self.storage.put(base.object_key, data)
        version = self._next_version(name)
        for _ in range(MAX_SAVE_ATTEMPTS):
            record = replace(base, version=version)
            if self.storage.create(record_key(name, version), encode_record(record)):
                self._ensure_bytes(record, data)
                self._log("save", by, record, address, visibility, who=owner or saved_by)
                return record
            log.info("Version %d of %r was just taken by another save; trying next", version, name)
            version = max(version + 1, self._next_version(name))
        raise StoreError(
            f"Could not save '{name}': other saves of that name kept taking the next version "
            f"number ({MAX_SAVE_ATTEMPTS} tries). Wait a moment and save again."
        )

    def _ensure_bytes(self, record: VersionRecord, data: bytes) -> None:
        """Put the bytes again if a delete collected them between our put and our record."""
        try:
            self.storage.modified(record.object_key)
        except FileNotFoundError:
            log.warning("Bytes of %s were collected meanwhile; putting them again", record)
            self.storage.put(record.object_key, data)

    def _next_version(self, name: str) -> int:
        """One more than the highest version number of ``name`` ever given (trashed, purged
        and damaged ones included, so no number is given out twice); 2 after an old-style
        entry."""
        used = self._list(f"{RECORDS}/{name_key(name)}").used.get(name_key(name), 0)
        if used:
            return used + 1
        try:
            self.storage.read(_legacy.sidecar_key(name))
        except FileNotFoundError:
            return 1
        return 2

    # -- visibility --------------------------------------------------------------------------

    def set_visibility(
        self,
        name: str,
        version: int,
        visibility: str,
        by: Person | None = None,
        *,
        address: str | None = None,
    ) -> VersionRecord:
        """Make ``version`` of ``name`` "private" or "shared"; return its updated record.

        Kept in a small per-version object put whole each time (the last change wins).

        :raises StoreError: no such version (or not one ``by`` may see), or it has no
            signed-in owner and so can't be private.
        :raises NotAllowed: ``by`` is neither its owner nor an administrator.
        :raises ValueError: an unknown visibility.
        """
        _check_visibility(visibility)
        record = self.record(name, version, by)
        if not can_manage(by, record):
            raise _not_allowed("change the visibility of", record)
        if visibility == PRIVATE and not access.is_signed_in_id(record.owner):
            raise StoreError(
                f"Version {record.version} of '{record.name}' has no signed-in owner (it was "
                "saved before sign-in was turned on), so it is always shared."
            )
        data = encode_access(visibility, access.who(by), _now())
        self.storage.put(record_key(record.name, record.version, ACCESS_SUFFIX), data)
        self._log("visibility", by, record, address, visibility)
        return replace(record, visibility=visibility)

    # -- deleting, restoring, purging --------------------------------------------------------

    def delete_version(
        self, name: str, version: int, by: Person | None = None, *, address: str | None = None
    ) -> None:
        """Move ``version`` of ``name`` to the trash: hidden everywhere but :meth:`trashed`,
        restorable until :meth:`purge_expired` removes it; its bytes and its number stay.

        :raises StoreError: no such name or version (or not one ``by`` may see), or the store
            fails.
        :raises NotAllowed: ``by`` is neither its owner nor an administrator.
        """
        record = self.record(name, version, by)
        if not can_manage(by, record):
            raise _not_allowed("delete", record)
        self._trash(record, by, address)
        self._collect()  # orphans of saves that stopped half-way go at the first delete

    def delete_name(
        self, name: str, by: Person | None = None, *, address: str | None = None
    ) -> int:
        """Move every version of ``name`` that ``by`` may manage to the trash (a save racing
        this one survives as a version); return how many versions ``by`` can see were left
        because they belong to others (0: the name is gone).

        :raises StoreError: no such name (or none ``by`` may see), or the store fails.
        :raises NotAllowed: ``by`` may manage none of its versions.
        """
        name = validate_name(name)
        records = self.versions(name, by)
        if not records:
            raise StoreError(
                f"There is no saved model named '{name}'. Pick one from the list of saved models."
            )
        mine = [r for r in records if can_manage(by, r)]
        if not mine:
            owners = sorted({r.owner or "no signed-in owner" for r in records})
            raise NotAllowed(
                f"You can't delete '{name}': its versions belong to others "
                f"({', '.join(owners)}). Only their owners or an administrator can delete them."
            )
        for record in mine:
            self._trash(record, by, address)
        self._collect()
        return len(records) - len(mine)

    def _trash(self, record: VersionRecord, by: Person | None, address: str | None) -> None:
        marker = encode_trash(record.name, _now(), access.who(by))
        self.storage.put(record_key(record.name, record.version, TRASH_SUFFIX), marker)
        self._log("delete", by, record, address)

    def trashed(self, viewer: Person | None = None) -> list[TrashedVersion]:
        """The versions in the trash that ``viewer`` may manage (restore), newest deletion
        first. Reads every trash marker and its record."""
        found = self._trash_entries(self._list(RECORDS))
        return [entry for entry in found if can_manage(viewer, entry.record)]

    def _trash_entries(self, listing: _Listing) -> list[TrashedVersion]:
        """Every readable trashed version in ``listing`` (with its visibility changes)."""
        markers = {
            key: (key_of_name, version)
            for key_of_name, versions in listing.trashed.items()
            for version, key in versions.items()
        }
        marks: dict[tuple[str, int], tuple[str, str, str | None]] = {}
        for key, data in self.storage.read_many(list(markers)).items():
            if isinstance(data, Exception):
                continue
            try:
                marks[markers[key]] = decode_trash(data)
            except (ValueError, UnicodeDecodeError) as error:
                log.warning("Skipping unreadable trash marker %s: %s", key, error)
        record_keys = [listing.live[k][v] for (k, v) in marks if v in listing.live.get(k, {})]
        records, _ = self._decode(record_keys)
        by_version = {(name_key(r.name), r.version): r for r in records.values()}
        for (key_of_name, version), (name, _, _) in marks.items():
            if version == 1 and (key_of_name, 1) not in by_version:
                legacy, _ = self._legacy(only=name)  # an old-style entry in the trash
                for record in legacy:
                    if name_key(record.name) == key_of_name:
                        by_version[(key_of_name, 1)] = record
        shown = self._with_access(list(by_version.values()), listing)
        entries = [
            TrashedVersion(r, *marks[(name_key(r.name), r.version)][1:])
            for r in shown
            if (name_key(r.name), r.version) in marks
        ]
        return sorted(entries, key=lambda e: e.deleted_at, reverse=True)

    def restore_version(
        self, name: str, version: int, by: Person | None = None, *, address: str | None = None
    ) -> VersionRecord:
        """Take ``version`` of ``name`` out of the trash; return its record.

        :raises StoreError: it is not in the trash (never deleted, restored or purged
            already, or not one ``by`` may see).
        :raises NotAllowed: ``by`` is neither its owner nor an administrator.
        """
        name = validate_name(name)
        key_of_name = name_key(name)
        listing = self._list(f"{RECORDS}/{key_of_name}")
        entry = next(
            (
                e
                for e in self._trash_entries(listing)
                if e.record.version == version and e.record.name == name
            ),
            None,
        )
        if entry is None or not can_see(by, entry.record):
            raise StoreError(
                f"Version {version} of '{name}' is not in the trash (it may have been restored "
                "or purged already). Pick one from the list of deleted models."
            )
        if not can_manage(by, entry.record):
            raise _not_allowed("restore", entry.record)
        self.storage.delete(record_key(name, version, TRASH_SUFFIX))
        if version in self._list(f"{RECORDS}/{key_of_name}").deleted.get(key_of_name, set()):
            raise StoreError(
                f"Version {version} of '{name}' was purged from the trash just now and can't "
                "be restored."
            )
        self._log("restore", by, entry.record, address)
        return entry.record

    def purge_expired(self, retention_s: float, now: float | None = None) -> int:
        """Remove for good the versions in the trash for over ``retention_s`` seconds (see
        :func:`trash_retention_s`) as of ``now`` (epoch seconds, default the clock); return
        how many. Their numbers stay taken; their bytes go with the grace-period collection.
        """
        moment = time.time() if now is None else now
        listing = self._list(RECORDS)
        purged = 0
        for entry in self._trash_entries(listing):
            deleted_at = _dt.datetime.fromisoformat(entry.deleted_at)
            if deleted_at.tzinfo is None:
                deleted_at = deleted_at.replace(tzinfo=_dt.UTC)
            if moment - deleted_at.timestamp() < retention_s:
                continue
            self._purge(entry.record)
            deleter = entry.deleted_by or "someone unknown"
            detail = f"in the trash since {entry.deleted_at}, deleted by {deleter}"
            self._log("purge", None, entry.record, None, detail)
            purged += 1
        if purged:
            self._collect()
        return purged

    def _purge(self, record: VersionRecord) -> None:
        """Hard-delete a version: the purge marker first, so its number stays taken even if
        removing the rest fails; then its record (or old-style files), visibility and trash
        marker. Its bytes are left to :meth:`_collect`."""
        name, version = record.name, record.version
        marker = json.dumps({"deleted_at": _now()}).encode("utf-8")
        self.storage.put(record_key(name, version, DELETED_SUFFIX), marker)
        if record.legacy:
            # Same order as the old library: sidecar first, so it leaves the list at once.
            self.storage.delete(_legacy.sidecar_key(name))
            self.storage.delete(record.object_key)
        else:
            self.storage.delete(record_key(name, version, RECORD_SUFFIX))
        self.storage.delete(record_key(name, version, ACCESS_SUFFIX))
        self.storage.delete(record_key(name, version, TRASH_SUFFIX))

    def _collect(self) -> None:
        """Delete every object no record refers to that was last written over ``grace`` ago:
        the bytes of purged versions and those left by saves that stopped before their record.
        """
        referenced = self._referenced()
        if referenced is None:
            return
        # Listed after the records: a save creating its record now has put its bytes already,
        # so they show a fresh time here.
        for key, written in self.storage.list_modified(OBJECTS).items():
            sha = key.rsplit("/", 1)[-1]
            if key in referenced or not _SHA.fullmatch(sha) or key != object_key(sha):
                continue  # in use, or not ours
            if self.grace > 0:
                try:  # looked at again just before deleting: a save may have put it since
                    written = self.storage.modified(key)
                except FileNotFoundError:
                    continue
                if time.time() - written < self.grace:
                    continue
            log.info("Deleting unreferenced model bytes %s from %s", key, self.storage)
            self.storage.delete(key)

    def _referenced(self) -> set[str] | None:
        """The object keys the stored records refer to; None when a record can't be read now
        (then nothing may be collected: it could refer to anything)."""
        listing = self._list(RECORDS)
        keys = [key for versions in listing.live.values() for key in versions.values()]
        referenced: set[str] = set()
        for key, data in self.storage.read_many(keys).items():
            if isinstance(data, FileNotFoundError):
                continue  # deleted since the listing
            if isinstance(data, Exception):
                log.warning("Not collecting unreferenced bytes: can't read %s: %s", key, data)
                return None
            try:
                referenced.add(decode_record(key, data).object_key)
            except (ValueError, UnicodeDecodeError, StoreError):
                continue  # damaged beyond use: refers to nothing readable
        return referenced


def _check_saved_by(saved_by: str | None) -> str | None:
    if saved_by is None:
        return None
    if not isinstance(saved_by, str):
        raise TypeError(f"saved_by must be a str, not {type(saved_by).__name__}")
    cleaned = " ".join(saved_by.split())
    if len(cleaned) > MAX_SAVED_BY_CHARS:
        raise StoreError(
            f"The workspace or person name is {len(cleaned)} characters long; use at most "
            f"{MAX_SAVED_BY_CHARS}."
        )
    return cleaned or None


def _check_visibility(visibility: str) -> None:
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {VISIBILITIES}, not {visibility!r}")


def _numbers(numbers: list[int]) -> str:
    """[1, 2, 3] -> "1, 2 and 3"."""
    text = [str(n) for n in sorted(numbers)]
    return text[0] if len(text) == 1 else f"{', '.join(text[:-1])} and {text[-1]}"


def open_library(url_or_path: str | None = None, grace: float = GRACE) -> Library:
    """The library at ``url_or_path`` (default: ``MODEL_STUDIO_LIBRARY`` or saved_models/)."""
    return Library(open_storage(url_or_path), grace=grace)
