"""Models saved by the old one-file-per-name library (``lib/store.py``), read in place.

The old layout is ``<name>.joblib`` + ``<name>.json`` at the library root. Each such entry is
shown as version 1 of its name, read-only and untouched: no migration step, nothing is moved or
rewritten on start, the old app keeps working on the same folder, and going back to it loses
nothing. The first new save under that name becomes version 2 (a normal record), so the two
layouts never claim the same version; deleting version 1 removes the two old files.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging

from lib.library._records import MAX_RECORD_BYTES, VersionRecord
from lib.library._storage import Storage
from lib.store import MODEL_SUFFIX, SIDECAR_SUFFIX, validate_name

log = logging.getLogger(__name__)


def decode_sidecar(key: str, data: bytes) -> VersionRecord:
    """Parse the old sidecar at ``key`` as version 1 (same checks as ``ModelStore``).

    :raises ValueError: saying what is wrong.
    """
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError(f"sidecar is {len(data)} bytes, over {MAX_RECORD_BYTES}")
    raw = json.loads(data.decode("utf-8"))
    if not isinstance(raw, dict):
        raise ValueError("sidecar is not a JSON object")
    name = raw.get("name")
    stem = key[: -len(SIDECAR_SUFFIX)]
    if not isinstance(name, str) or name != stem or validate_name(name) != name:
        raise ValueError(f"name {name!r} does not match the file name")
    if raw.get("filename") != f"{name}{MODEL_SUFFIX}":
        raise ValueError(f"filename {raw.get('filename')!r} does not match the name")
    size = raw.get("size_bytes")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError(f"bad size_bytes {size!r}")
    sha = raw.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64:
        raise ValueError(f"bad sha256 {sha!r}")
    created = raw.get("created_at")
    if not isinstance(created, str):
        raise ValueError(f"bad created_at {created!r}")
    _dt.datetime.fromisoformat(created)
    metadata = raw.get("metadata")
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not an object")
    return VersionRecord(
        name=name,
        version=1,
        sha256=sha.lower(),
        size_bytes=size,
        created_at=created,
        saved_by=None,
        metadata=metadata,
        object_key=f"{name}{MODEL_SUFFIX}",
        legacy=True,
    )


def legacy_keys(storage: Storage) -> list[str]:
    """The old sidecar keys at the library root (``<name>.json``)."""
    return [key for key in storage.list("", recursive=False) if key.endswith(SIDECAR_SUFFIX)]


def sidecar_key(name: str) -> str:
    return f"{name}{SIDECAR_SUFFIX}"
