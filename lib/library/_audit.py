"""The library's append-only audit log: saves, loads, downloads, deletions and the like.

Kept with the library, in the same storage (local folder or S3), one small JSON object per
event::

    audit/2026-12-07/20261207T064805.123456Z-1a2b3c4d.json

Each event is created with create-only-if-absent under a key that sorts by time (the UTC day as
a folder, then the time to the microsecond, then 8 random hex digits so two events in one
microsecond, on one server or several, are both kept). The app never overwrites or deletes an
event; removing old ones is left to the store's own tools (e.g. an S3 lifecycle rule on
``audit/``). Reading lists only the folders of the last ``days`` days, newest first.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import uuid
from dataclasses import asdict, dataclass, field

from lib.errors import StoreError
from lib.library._storage import Storage

log = logging.getLogger(__name__)

AUDIT = "audit"
ACTIONS = ("save", "load", "download", "delete", "restore", "purge", "visibility")
MAX_EVENT_BYTES = 64 * 1024
_MAX_TEXT = 2000


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """One event. ``at``: ISO-8601 UTC time (now by default); ``action``: one of
    :data:`ACTIONS`; ``who``: the person's or workspace's id (None: unknown, e.g. the trash
    retention); ``name``/``version``: the saved model concerned; ``address``: the client's
    address when known; ``detail``: short free text (e.g. the new visibility)."""

    at: str = field(default_factory=_now)
    action: str
    who: str | None = None
    name: str | None = None
    version: int | None = None
    address: str | None = None
    detail: str | None = None


def _moment(at: str) -> _dt.datetime:
    """``at`` as an aware UTC datetime. :raises ValueError: not ISO-8601."""
    moment = _dt.datetime.fromisoformat(at)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_dt.UTC)
    return moment.astimezone(_dt.UTC)


def _check(event: AuditEvent) -> None:
    if event.action not in ACTIONS:
        raise ValueError(f"unknown audit action {event.action!r}; use one of {ACTIONS}")
    _moment(event.at)
    for text in (event.who, event.name, event.address, event.detail):
        if text is not None and (not isinstance(text, str) or len(text) > _MAX_TEXT):
            raise ValueError(f"audit text fields must be str of at most {_MAX_TEXT} characters")
    if event.version is not None and (
        not isinstance(event.version, int) or isinstance(event.version, bool)
    ):
        raise ValueError("audit version must be an int or None")


def _decode(data: bytes) -> AuditEvent:
    if len(data) > MAX_EVENT_BYTES:
        raise ValueError(f"audit event is {len(data)} bytes, over {MAX_EVENT_BYTES}")
    raw = json.loads(data.decode("utf-8"))
    if not isinstance(raw, dict):
        raise ValueError("audit event is not a JSON object")
    at, action = raw.get("at"), raw.get("action")
    if not isinstance(at, str) or not isinstance(action, str):
        raise ValueError("audit event without at or action")
    event = AuditEvent(
        at=at,
        action=action,
        who=raw.get("who"),
        name=raw.get("name"),
        version=raw.get("version"),
        address=raw.get("address"),
        detail=raw.get("detail"),
    )
    _check(event)
    return event


class AuditLog:
    """The audit events under ``audit/`` in ``storage``: :meth:`append` and :meth:`events`."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def __repr__(self) -> str:
        return f"AuditLog({self.storage!r})"

    def append(self, event: AuditEvent) -> str:
        """Store ``event`` as a new object (never replacing one); return its key.

        :raises ValueError: an unknown action or badly typed field (a bug in the caller).
        :raises StoreError: the store fails.
        """
        _check(event)
        moment = _moment(event.at)
        data = json.dumps(asdict(event), ensure_ascii=False).encode("utf-8")
        folder = f"{AUDIT}/{moment:%Y-%m-%d}"
        for _ in range(10):  # a clash needs the same microsecond and the same 32 random bits
            key = f"{folder}/{moment:%Y%m%dT%H%M%S.%f}Z-{uuid.uuid4().hex[:8]}.json"
            if self.storage.create(key, data):
                return key
        raise StoreError("Could not record an audit event: every key tried was taken.")

    def events(self, limit: int = 500, days: int = 30) -> list[AuditEvent]:
        """The newest ``limit`` events of the last ``days`` days (UTC), newest first; events
        that can't be read are skipped (and logged)."""
        today = _dt.datetime.now(_dt.UTC).date()
        keys: list[str] = []
        for back in range(max(days, 1)):
            day = today - _dt.timedelta(days=back)
            keys.extend(sorted(self.storage.list(f"{AUDIT}/{day:%Y-%m-%d}"), reverse=True))
            if len(keys) >= limit:
                break
        keys = keys[:limit]
        events: list[AuditEvent] = []
        for key, data in self.storage.read_many(keys).items():
            if isinstance(data, Exception):
                continue
            try:
                events.append(_decode(data))
            except (ValueError, TypeError, UnicodeDecodeError) as error:
                log.warning("Skipping unreadable audit event %s: %s", key, error)
        # read_many keeps the order of keys on both stores, but sort to be sure
        return sorted(events, key=lambda e: _moment(e.at), reverse=True)
