"""The versioned, shareable model library (local folder or S3), see ``_library`` and ``_storage``.

Public API: :func:`open_library`, :class:`Library`, :class:`VersionRecord`,
:class:`NameSummary`, :class:`TrashedVersion`, :class:`LibraryProblem`, :func:`open_storage`,
:func:`trash_retention_s`, and the audit log (:class:`AuditLog`, :class:`AuditEvent`).
Who may see and manage what: :mod:`lib.access`.
"""

from lib.library._audit import ACTIONS, AuditEvent, AuditLog
from lib.library._library import Library, LibraryProblem, open_library, trash_retention_s
from lib.library._records import NameSummary, TrashedVersion, VersionRecord
from lib.library._storage import LocalStorage, S3Storage, Storage, open_storage

__all__ = [
    "ACTIONS",
    "AuditEvent",
    "AuditLog",
    "Library",
    "LibraryProblem",
    "LocalStorage",
    "NameSummary",
    "S3Storage",
    "Storage",
    "TrashedVersion",
    "VersionRecord",
    "open_library",
    "open_storage",
    "trash_retention_s",
]
