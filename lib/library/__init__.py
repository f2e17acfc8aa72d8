"""The versioned, shareable model library (local folder or S3), see ``_library`` and ``_storage``.

Public API: :func:`open_library`, :class:`Library`, :class:`VersionRecord`,
:class:`NameSummary`, :class:`LibraryProblem`, :func:`open_storage`.
"""

from lib.library._library import Library, LibraryProblem, open_library
from lib.library._records import NameSummary, VersionRecord
from lib.library._storage import LocalStorage, S3Storage, Storage, open_storage

__all__ = [
    "Library",
    "LibraryProblem",
    "LocalStorage",
    "NameSummary",
    "S3Storage",
    "Storage",
    "VersionRecord",
    "open_library",
    "open_storage",
]
