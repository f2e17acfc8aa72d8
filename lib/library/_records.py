"""The small JSON record that makes one saved version visible, and where things live.

Layout under the library root::

    objects/sha256/ab/abcdef...            model bytes, named by their SHA-256 (immutable)
    records/<name key>/00000001.json       one record per version, created only if absent
    records/<name key>/00000002.deleted    marks a purged version: its number is never reused
    records/<name key>/00000003.trash.json marks a version in the trash (restorable; mutable)
    records/<name key>/00000003.access.json its visibility, once changed after saving (mutable)
    audit/<YYYY-MM-DD>/<time>-<uuid8>.json one audit event each, created once (see _audit)

The name key is the SHA-256 (hex) of the validated name: fixed length, lowercase hex, so it is
a safe key on every store, including case-insensitive disks and ones with 255-byte file names
(a 200-byte name in base64 would not fit). The display name is kept in the record.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from lib.access import SHARED, VISIBILITIES

OBJECTS = "objects/sha256"
RECORDS = "records"
RECORD_FORMAT = 1
# Records are small (figures, fingerprint summary); a larger one is damaged or hostile.
MAX_RECORD_BYTES = 4 * 1024 * 1024
MAX_SAVED_BY_CHARS = 200
_SHA = re.compile(r"[0-9a-f]{64}")
_VERSION_FILE = re.compile(r"(\d{8})\.(json|deleted|trash\.json|access\.json)")
RECORD_SUFFIX = "json"
DELETED_SUFFIX = "deleted"
TRASH_SUFFIX = "trash.json"
ACCESS_SUFFIX = "access.json"


@dataclass(frozen=True)
class VersionRecord:
    """One saved version: what the library page shows and what :meth:`Library.read` checks.

    ``object_key`` is where the bytes are (``objects/...``, or ``<name>.joblib`` for a model
    saved by the old one-file-per-name library, ``legacy=True``). ``owner`` is the id of who
    saved it (see :mod:`lib.access`; None for versions saved before owners were recorded) and
    ``visibility`` is "shared" or "private": as saved, or as changed since (the library applies
    the change when it lists the version). ``saved_by`` stays the display text.
    """

    name: str
    version: int
    sha256: str
    size_bytes: int
    created_at: str
    saved_by: str | None
    metadata: dict[str, Any] = field(repr=False)
    object_key: str = field(default="", repr=False)
    legacy: bool = False
    owner: str | None = None
    visibility: str = SHARED


@dataclass(frozen=True)
class TrashedVersion:
    """A version in the trash: its record, when (ISO-8601 UTC) and by whom it was deleted."""

    record: VersionRecord
    deleted_at: str
    deleted_by: str | None


@dataclass(frozen=True)
class NameSummary:
    """One name in the library: its newest version and how many versions it has."""

    name: str
    latest_version: int
    count: int
    latest: VersionRecord = field(repr=False)


def name_key(name: str) -> str:
    """The storage folder for an already validated ``name``: SHA-256 hex of its UTF-8."""
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def object_key(sha256: str) -> str:
    return f"{OBJECTS}/{sha256[:2]}/{sha256}"


def record_key(name: str, version: int, suffix: str = RECORD_SUFFIX) -> str:
    return f"{RECORDS}/{name_key(name)}/{version:08d}.{suffix}"


def parse_record_key(key: str) -> tuple[str, int, str] | None:
    """``records/<key>/<version>.<suffix>`` -> (name key, version, suffix), the suffix being
    one of json, deleted, trash.json, access.json; None for anything else (stray files are
    ignored)."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != RECORDS or not _SHA.fullmatch(parts[1]):
        return None
    match = _VERSION_FILE.fullmatch(parts[2])
    if not match or int(match.group(1)) < 1:
        return None
    return parts[1], int(match.group(1)), match.group(2)


def encode_record(record: VersionRecord) -> bytes:
    """The record's JSON bytes (plain data only; NaN is refused by the caller's _plain)."""
    plain = {
        "format": RECORD_FORMAT,
        "name": record.name,
        "version": record.version,
        "sha256": record.sha256,
        "size_bytes": record.size_bytes,
        "created_at": record.created_at,
        "saved_by": record.saved_by,
        "owner": record.owner,
        "visibility": record.visibility,
        "metadata": record.metadata,
    }
    return json.dumps(plain, ensure_ascii=False, allow_nan=False, indent=1).encode("utf-8")


def decode_record(key: str, data: bytes) -> VersionRecord:
    """Parse and check the record stored at ``key``.

    :raises ValueError: saying what is wrong (bad JSON, missing or mistyped field, a name or
        version that does not match the key).
    """
    from lib.store import validate_name  # the same name rules as the old library

    parsed = parse_record_key(key)
    if parsed is None or parsed[2] != RECORD_SUFFIX:
        raise ValueError("not a record key")
    key_of_name, version, _ = parsed
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError(f"record is {len(data)} bytes, over {MAX_RECORD_BYTES}")
    raw = json.loads(data.decode("utf-8"))
    if not isinstance(raw, dict):
        raise ValueError("record is not a JSON object")
    if raw.get("format") != RECORD_FORMAT:
        raise ValueError(f"unknown record format {raw.get('format')!r}")
    name = raw.get("name")
    if not isinstance(name, str) or validate_name(name) != name or name_key(name) != key_of_name:
        raise ValueError(f"name {name!r} does not match the record's folder")
    if raw.get("version") != version or isinstance(raw.get("version"), bool):
        raise ValueError(f"version {raw.get('version')!r} does not match the file name")
    sha = raw.get("sha256")
    if not isinstance(sha, str) or not _SHA.fullmatch(sha):
        raise ValueError(f"bad sha256 {sha!r}")
    size = raw.get("size_bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"bad size_bytes {size!r}")
    created = raw.get("created_at")
    if not isinstance(created, str) or len(created) > 64:
        raise ValueError(f"bad created_at {created!r}")
    _dt.datetime.fromisoformat(created)  # ValueError if not ISO-8601
    saved_by = raw.get("saved_by")
    if saved_by is not None and (
        not isinstance(saved_by, str) or len(saved_by) > MAX_SAVED_BY_CHARS
    ):
        raise ValueError("bad saved_by")
    owner = raw.get("owner")  # absent in records saved before owners: None, shared
    if owner is not None and (not isinstance(owner, str) or len(owner) > MAX_SAVED_BY_CHARS):
        raise ValueError("bad owner")
    visibility = raw.get("visibility", SHARED)
    if visibility not in VISIBILITIES:
        raise ValueError(f"bad visibility {visibility!r}")
    metadata = raw.get("metadata")
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not an object")
    return VersionRecord(
        name=name,
        version=version,
        sha256=sha,
        size_bytes=size,
        created_at=created,
        saved_by=saved_by,
        metadata=metadata,
        object_key=object_key(sha),
        owner=owner,
        visibility=visibility,
    )


def encode_trash(name: str, deleted_at: str, deleted_by: str | None) -> bytes:
    """A trash marker's JSON: the display name (the folder is only its hash), when, by whom."""
    plain = {"name": name, "deleted_at": deleted_at, "deleted_by": deleted_by}
    return json.dumps(plain, ensure_ascii=False).encode("utf-8")


def decode_trash(data: bytes) -> tuple[str, str, str | None]:
    """(name, deleted_at, deleted_by) of a trash marker. :raises ValueError: damaged."""
    raw = json.loads(data.decode("utf-8"))
    if not isinstance(raw, dict):
        raise ValueError("trash marker is not a JSON object")
    name, deleted_at, deleted_by = raw.get("name"), raw.get("deleted_at"), raw.get("deleted_by")
    if not isinstance(name, str) or not isinstance(deleted_at, str):
        raise ValueError("trash marker without name or deleted_at")
    _dt.datetime.fromisoformat(deleted_at)
    if deleted_by is not None and not isinstance(deleted_by, str):
        raise ValueError("bad deleted_by")
    return name, deleted_at, deleted_by


def encode_access(visibility: str, changed_by: str | None, changed_at: str) -> bytes:
    """A visibility change's JSON (the whole object is put again on every change)."""
    plain = {"visibility": visibility, "changed_by": changed_by, "changed_at": changed_at}
    return json.dumps(plain, ensure_ascii=False).encode("utf-8")


def decode_access(data: bytes) -> str:
    """The visibility in an access object. :raises ValueError: damaged."""
    raw = json.loads(data.decode("utf-8"))
    if not isinstance(raw, dict) or raw.get("visibility") not in VISIBILITIES:
        raise ValueError("access object without a valid visibility")
    return str(raw["visibility"])
