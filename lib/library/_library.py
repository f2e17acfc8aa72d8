"""The versioned model library: every save under a name adds a version; nothing is overwritten.

A save writes the model bytes under their SHA-256 first, then creates the version's record with
a create-only-if-absent (see :mod:`lib.library._storage`), so a listed version always has its
complete bytes, and two servers saving one name at the same moment get two version numbers:
the one whose create fails takes the next number and tries again. No lock is held anywhere.

A deleted version leaves a small ``.deleted`` marker so its number is never reused while the
name exists. Identical bytes are stored once and shared by every version that has them.

Bytes are collected, not deleted with their version: after each delete, every object that no
record refers to **and** that was last written more than ``grace`` ago (10 minutes by default)
is removed. A save always re-puts its bytes (refreshing their modification time) before
creating its record, so a delete racing a save of byte-identical bytes leaves them alone, and
bytes left by a save that stopped before its record (an orphan) go at the first delete after
the grace period. So a deleted version's bytes stay in the store up to the grace period, then
go at the next delete of any version. Known limit: a save that takes longer than the grace
period between its put and its record, or whose put, record and check all fall between a
delete's last look at the object and its removal (milliseconds), can still lose its bytes; the
save re-checks them after creating its record and puts them again if they are gone, and a read
in between says the version is damaged (nothing else is hidden).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from lib.errors import DamagedModelError, StoreError
from lib.library import _legacy
from lib.library._records import (
    DELETED_SUFFIX,
    MAX_RECORD_BYTES,
    MAX_SAVED_BY_CHARS,
    OBJECTS,
    RECORDS,
    NameSummary,
    VersionRecord,
    decode_record,
    encode_record,
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
_SHA = re.compile(r"[0-9a-f]{64}")


@dataclass
class _Listing:
    """Record keys by name key: live versions {version: key}, highest number ever used, all."""

    live: dict[str, dict[int, str]]
    used: dict[str, int]
    keys: list[str]


@dataclass(frozen=True)
class LibraryProblem:
    """A record the library could not read: where it is and what is wrong with it."""

    key: str
    reason: str


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


class Library:
    """Named, versioned models in a :class:`Storage` (local folder or S3).

    ``grace``: seconds an unreferenced object is kept after it was last written (see above).
    """

    def __init__(self, storage: Storage, grace: float = GRACE) -> None:
        self.storage = storage
        self.grace = grace

    def __repr__(self) -> str:
        return f"Library({self.storage!r})"

    # -- scanning ----------------------------------------------------------------------------

    def _list(self, prefix: str) -> _Listing:
        """The record keys under ``prefix``, from one (paginated) listing, nothing read."""
        listing = _Listing(live=defaultdict(dict), used=defaultdict(int), keys=[])
        deleted: list[tuple[str, int]] = []
        for key in self.storage.list(prefix):
            parsed = parse_record_key(key)
            if parsed is None:
                continue  # a stray file: not ours, ignored
            key_of_name, version, suffix = parsed
            listing.keys.append(key)
            listing.used[key_of_name] = max(listing.used[key_of_name], version)
            if suffix == DELETED_SUFFIX:
                deleted.append((key_of_name, version))
            else:
                listing.live[key_of_name][version] = key
        for key_of_name, version in deleted:  # a delete that stopped half-way still counts
            listing.live[key_of_name].pop(version, None)
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

    def _scan(self, prefix: str) -> tuple[dict[str, list[VersionRecord]], list[LibraryProblem]]:
        """Every readable version under ``prefix`` by name key (oldest first), plus problems."""
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

    def names(self) -> list[NameSummary]:
        """Every name with its newest version and version count, sorted by name (case-blind).

        Reads one record per name (the newest readable one), not every version: listing cost
        grows with the number of names. ``count`` counts the stored versions; a damaged record
        among the older ones is counted here, skipped by :meth:`versions` and reported by
        :meth:`problems`.
        """
        listing = self._list(RECORDS)
        pending = {k: sorted(v, reverse=True) for k, v in listing.live.items() if v}
        latest: dict[str, VersionRecord] = {}
        damaged: dict[str, int] = defaultdict(int)
        while pending:  # one round in the usual case; another per damaged newest record
            asked = {listing.live[k][versions[0]]: k for k, versions in pending.items()}
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
        counts = {k: len(v) - damaged[k] for k, v in listing.live.items()}
        legacy, _ = self._legacy()
        for record in legacy:
            key_of_name = name_key(record.name)
            if 1 in listing.live.get(key_of_name, {}):
                continue  # clashes with a version 1 record: reported by problems()
            counts[key_of_name] = counts.get(key_of_name, 0) + 1
            latest.setdefault(key_of_name, record)
        summaries = [
            NameSummary(record.name, record.version, counts[k], record)
            for k, record in latest.items()
        ]
        return sorted(summaries, key=lambda s: (s.name.casefold(), s.name))

    def versions(self, name: str) -> list[VersionRecord]:
        """The readable versions of ``name``, oldest first ([] for a name not in the library)."""
        name = validate_name(name)
        by_key, _ = self._scan(f"{RECORDS}/{name_key(name)}")
        records = by_key.get(name_key(name), [])
        if not records or records[0].version != 1:
            legacy, _ = self._legacy(only=name)
            records = legacy + records
        return records

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

    def record(self, name: str, version: int | None = None) -> VersionRecord:
        """The record of ``version`` of ``name`` (the newest when ``version`` is None).

        :raises StoreError: no such name or version.
        """
        name = validate_name(name)
        records = self.versions(name)
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

    def read(self, name: str, version: int | None = None) -> bytes:
        """The model bytes of ``version`` of ``name`` (newest by default), SHA-256 checked.

        :raises StoreError: no such name or version, or its bytes are missing or damaged.
        """
        name = validate_name(name)
        record = self.record(name, version)
        try:
            data = self.storage.read(record.object_key)
        except FileNotFoundError:
            log.warning("Model bytes %s missing from %s", record.object_key, self.storage)
            raise self._damaged(record, "its model file is missing from the library") from None
        if len(data) != record.size_bytes or hashlib.sha256(data).hexdigest() != record.sha256:
            log.warning("Checksum mismatch for %s in %s", record.object_key, self.storage)
            raise self._damaged(record, "its contents no longer match its checksum")
        return data

    def _damaged(self, record: VersionRecord, reason: str) -> DamagedModelError:
        """The message for a damaged ``record``, naming the versions of its name that share
        its bytes (stored once, so they are damaged too) and what to delete."""
        sharing = [
            r.version
            for r in self.versions(record.name)
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
    ) -> VersionRecord:
        """Save ``model_bytes`` as the next version of ``name``; return its record.

        :param name: user-visible name, checked by :func:`lib.store.validate_name`.
        :param model_bytes: the exact file content to keep.
        :param metadata: plain data shown in the history (numpy scalars, NaN are converted).
        :param saved_by: the workspace or person saving, when known.
        :raises StoreError: bad name, empty model, record too large, store failure.
        :raises TypeError: ``model_bytes`` not bytes-like or metadata not plain data.
        """
        name, data = checked_save(name, model_bytes, metadata)
        saved_by = _check_saved_by(saved_by)
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
        """One more than the highest version number of ``name`` ever given (deleted and
        damaged ones included, so no number is given out twice); 2 after an old-style entry."""
        used = self._list(f"{RECORDS}/{name_key(name)}").used.get(name_key(name), 0)
        if used:
            return used + 1
        try:
            self.storage.read(_legacy.sidecar_key(name))
        except FileNotFoundError:
            return 1
        return 2

    # -- deleting ----------------------------------------------------------------------------

    def delete_version(self, name: str, version: int) -> None:
        """Remove ``version`` of ``name`` (its number is not reused while the name exists).

        :raises StoreError: no such name or version, or the store fails.
        """
        record = self.record(name, version)
        if record.legacy:
            # Same order as the old library: sidecar first, so it leaves the list at once.
            self.storage.delete(_legacy.sidecar_key(record.name))
            self.storage.delete(record.object_key)
            self._collect()
            return
        # The marker first: the number stays taken even if deleting the record fails.
        marker = json.dumps({"deleted_at": _now()}).encode("utf-8")
        self.storage.put(record_key(record.name, record.version, DELETED_SUFFIX), marker)
        self.storage.delete(record_key(record.name, record.version))
        self._collect()

    def delete_name(self, name: str) -> None:
        """Remove ``name`` with all its versions (a save racing this one survives as a version).

        :raises StoreError: no such name, or the store fails.
        """
        name = validate_name(name)
        # List first: a version created after this listing (a concurrent save) is kept.
        keys = [
            key for key in self.storage.list(f"{RECORDS}/{name_key(name)}") if parse_record_key(key)
        ]
        records = self.versions(name)
        if not records:
            raise StoreError(
                f"There is no saved model named '{name}'. Pick one from the list of saved models."
            )
        for record in records:
            if record.legacy:
                self.storage.delete(_legacy.sidecar_key(record.name))
                self.storage.delete(record.object_key)
        for key in keys:
            self.storage.delete(key)
        self._collect()

    def _collect(self) -> None:
        """Delete every object no record refers to that was last written over ``grace`` ago:
        the bytes of deleted versions and those left by saves that stopped before their record.
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


def _numbers(numbers: list[int]) -> str:
    """[1, 2, 3] -> "1, 2 and 3"."""
    text = [str(n) for n in sorted(numbers)]
    return text[0] if len(text) == 1 else f"{', '.join(text[:-1])} and {text[-1]}"


def open_library(url_or_path: str | None = None, grace: float = GRACE) -> Library:
    """The library at ``url_or_path`` (default: ``MODEL_STUDIO_LIBRARY`` or saved_models/)."""
    return Library(open_storage(url_or_path), grace=grace)
