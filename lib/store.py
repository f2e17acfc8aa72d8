"""The model library on disk: named model files with a JSON sidecar each.

Each entry is ``<name>.joblib`` (the exact bytes given to :meth:`ModelStore.save`) plus
``<name>.json`` = ``{"name", "filename", "size_bytes", "sha256", "created_at", "metadata"}``.
Listing is driven by sidecars, and the sidecar is always put in place last, so a listed entry
always has its complete model file next to it.

This module only stores and returns bytes: it never unpickles anything. The safe loader parses
the bytes returned by :meth:`ModelStore.read`.

Concurrency: every change (save, delete) runs while holding an exclusive ``fcntl.flock`` on
``<root>/.library.lock``; :meth:`ModelStore.read` holds a shared lock so it never sees the model
of one save with the sidecar of another. See :class:`_LibraryLock` for why this primitive.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import math
import os
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib.errors import StoreError

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

log = logging.getLogger(__name__)

_REPO = Path(__file__).resolve().parent.parent


def default_root() -> Path:
    """The library folder: ``MODEL_STUDIO_LIBRARY`` when set (read now), else saved_models/."""
    return Path(os.environ.get("MODEL_STUDIO_LIBRARY") or _REPO / "saved_models").expanduser()


MODEL_SUFFIX = ".joblib"
SIDECAR_SUFFIX = ".json"
LOCK_NAME = ".library.lock"
TMP_PREFIX = ".tmp-"
TMP_SUFFIX = ".tmp"
MAX_NAME_CHARS = 100
# Most file systems allow 255 bytes per file name; keep room for ".joblib".
MAX_NAME_BYTES = 200
_GOOD_NAME = "Example of a good name: 'house prices v2'."
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}
_SIDECAR_KEYS = ("name", "filename", "size_bytes", "sha256", "created_at", "metadata")


@dataclass(frozen=True)
class LibraryEntry:
    """One saved model: its name, file, checksum, save time (ISO-8601 UTC) and metadata."""

    name: str
    filename: str
    size_bytes: int
    sha256: str
    created_at: str
    metadata: dict


def validate_name(name: str) -> str:
    """Return ``name`` stripped (and NFC-normalised), or raise StoreError saying which rule fails.

    :param name: the name a person typed.
    :returns: the name as it will be stored.
    :raises StoreError: empty, too long, path-like, hidden or containing invisible characters.
    """
    if name is None:
        name = ""
    if not isinstance(name, str):
        raise TypeError(f"a model name must be a str, not {type(name).__name__}")
    cleaned = unicodedata.normalize("NFC", name.strip())
    if not cleaned:
        raise StoreError(f"Please type a name for the model. {_GOOD_NAME}")
    if len(cleaned) > MAX_NAME_CHARS:
        raise StoreError(
            f"The name is {len(cleaned)} characters long; use at most {MAX_NAME_CHARS}. "
            f"{_GOOD_NAME}"
        )
    if "/" in cleaned or "\\" in cleaned:
        raise StoreError(
            "The name can't contain a slash or a backslash (model names are not folders). "
            "Use '-' or a space instead. " + _GOOD_NAME
        )
    for char in cleaned:
        if unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise StoreError(
                f"The name contains an invisible or control character (U+{ord(char):04X}). "
                f"Type it again using visible characters only. {_GOOD_NAME}"
            )
    if set(cleaned) <= {".", " "}:
        raise StoreError(f"The name can't be made only of dots and spaces. {_GOOD_NAME}")
    if cleaned.startswith("."):
        raise StoreError(
            f"The name can't start with '.' (such files are hidden). Start it with a letter or "
            f"digit. {_GOOD_NAME}"
        )
    if ".." in cleaned:
        raise StoreError(f"The name can't contain '..'. Use a single dot. {_GOOD_NAME}")
    if len(cleaned.encode("utf-8")) > MAX_NAME_BYTES:
        raise StoreError(
            "The name is too long to be a file name (it uses many non-Latin characters). "
            f"Shorten it. {_GOOD_NAME}"
        )
    return cleaned


def checked_save(name: str, model_bytes: Any, metadata: Any) -> tuple[str, bytes]:
    """What a save is given, checked: the name as stored (``validate_name``) and the bytes.

    :raises StoreError: bad name or empty model.
    :raises TypeError: ``model_bytes`` not bytes-like, ``metadata`` neither a dict nor None.
    """
    name = validate_name(name)
    if not isinstance(model_bytes, bytes | bytearray | memoryview):
        raise TypeError(f"model_bytes must be bytes, not {type(model_bytes).__name__}")
    data = bytes(model_bytes)
    if not data:
        raise StoreError("There is no model to save (it is empty). Train a model first.")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, not {type(metadata).__name__}")
    return name, data


def _now() -> str:
    """Return the current time as ISO-8601 UTC with microseconds (tests may patch this)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def _plain(value: Any, where: str = "metadata") -> Any:
    """Return ``value`` as JSON-safe plain data: numpy scalars/arrays unwrapped, NaN/inf -> None.

    :raises TypeError: for a value that has no plain-data form (a programming error).
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            plain_key = _plain(key, where)
            if not isinstance(plain_key, str | int | float | bool) and plain_key is not None:
                raise TypeError(f"{where}: key {key!r} can't be a JSON object key")
            out[str(plain_key) if not isinstance(plain_key, str) else plain_key] = _plain(
                item, f"{where}[{key!r}]"
            )
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if type(value).__module__ == "numpy":
        # numpy scalars (.item()) and arrays (.tolist()) become Python values, then recurse.
        if hasattr(value, "ndim") and getattr(value, "ndim", 0) > 0:
            return _plain(value.tolist(), where)
        if hasattr(value, "item"):
            return _plain(value.item(), where)
    raise TypeError(
        f"{where}: {type(value).__name__} value {value!r} is not plain data "
        "(use str, int, float, bool, None, lists and dicts)"
    )


def fsync_dir(directory: Path) -> None:
    """Flush the directory entry so a rename survives a power cut (POSIX only)."""
    if os.name != "posix":  # pragma: no cover - Windows can't open a directory
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_temp(directory: Path, data: bytes) -> Path:
    """Write ``data`` to a new hidden temp file in ``directory``, fsync it, return its path."""
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, suffix=TMP_SUFFIX, dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


class _LibraryLock:
    """A lock over the whole library, shared by threads and processes.

    Why ``flock`` on one lock file: it is released by the kernel when the holder's file is
    closed or the process dies (no stale lock files to clean up, unlike O_CREAT|O_EXCL lock
    files), each acquisition opens its own file description so threads of one process exclude
    each other too, and holding it across "does the sidecar exist?" and "put both files in
    place" makes check-and-create one atomic step. A crash between the model and the sidecar
    leaves only an unlisted model file, which the next save of that name (under the lock)
    simply replaces; with ``os.link`` as the exclusive primitive such a leftover would block the
    name forever. Saves are short (two small renames), so a library-wide lock costs nothing.
    On Windows ``msvcrt.locking`` gives an exclusive lock with the same lifetime.
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def hold(self, *, shared: bool = False) -> Iterator[None]:
        """Hold the lock (exclusive unless ``shared``) for the duration of the ``with`` block."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            else:  # pragma: no cover - Windows: exclusive only, retried by msvcrt for ~10 s
                msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
            yield
        finally:
            os.close(fd)  # closing releases flock / msvcrt locks


class ModelStore:
    """Named model files (``<name>.joblib``) with sidecars (``<name>.json``) under ``root``."""

    def __init__(self, root: Path | str | None = None) -> None:
        """Use ``root`` (default ``default_root()``) as the library folder, creating it."""
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = _LibraryLock(self.root / LOCK_NAME)

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    # -- paths -------------------------------------------------------------------------------

    def _model_path(self, name: str) -> Path:
        return self.root / f"{name}{MODEL_SUFFIX}"

    def _sidecar_path(self, name: str) -> Path:
        return self.root / f"{name}{SIDECAR_SUFFIX}"

    # -- sidecars ----------------------------------------------------------------------------

    def _load_sidecar(self, path: Path) -> LibraryEntry:
        """Parse one sidecar file into a LibraryEntry.

        :raises OSError: the file can't be read.
        :raises ValueError: the content is not a valid sidecar for this file name.
        """
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or any(key not in raw for key in _SIDECAR_KEYS):
            raise ValueError("not a sidecar object with all keys")
        name = raw["name"]
        stem = path.name[: -len(SIDECAR_SUFFIX)]
        if not isinstance(name, str) or name != stem:
            raise ValueError(f"name {name!r} does not match the file name")
        if raw["filename"] != f"{name}{MODEL_SUFFIX}":
            raise ValueError(f"filename {raw['filename']!r} does not match the name")
        size = raw["size_bytes"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ValueError(f"bad size_bytes {size!r}")
        sha = raw["sha256"]
        if not isinstance(sha, str) or len(sha) != 64:
            raise ValueError(f"bad sha256 {sha!r}")
        created = raw["created_at"]
        if not isinstance(created, str):
            raise ValueError(f"bad created_at {created!r}")
        _dt.datetime.fromisoformat(created)  # raises ValueError if not ISO-8601
        if not isinstance(raw["metadata"], dict):
            raise ValueError("metadata is not an object")
        return LibraryEntry(
            name=name,
            filename=raw["filename"],
            size_bytes=size,
            sha256=sha.lower(),
            created_at=created,
            metadata=raw["metadata"],
        )

    def _damaged(self, name: str) -> StoreError:
        return StoreError(
            f"The saved model '{name}' is damaged: its contents no longer match its checksum. "
            "Delete it and save it again."
        )

    def _missing(self, name: str) -> StoreError:
        return StoreError(
            f"There is no saved model named '{name}'. Pick one from the list of saved models."
        )

    # -- public API --------------------------------------------------------------------------

    def save(
        self,
        name: str,
        model_bytes: bytes,
        metadata: dict | None = None,
        *,
        overwrite: bool = False,
    ) -> LibraryEntry:
        """Store ``model_bytes`` as ``name`` with ``metadata``; return the new LibraryEntry.

        :param name: user-visible name, checked by :func:`validate_name`.
        :param model_bytes: the exact file content to keep (bytes-like).
        :param metadata: plain data (numpy scalars and NaN/inf are converted); ``None`` -> {}.
        :param overwrite: replace an existing entry of that name instead of refusing.
        :raises StoreError: bad name, name taken (without overwrite), empty model, disk error.
        :raises TypeError: ``model_bytes`` not bytes-like or metadata not plain data.
        """
        name, data = checked_save(name, model_bytes, metadata)
        plain_meta = _plain(metadata or {})

        entry = LibraryEntry(
            name=name,
            filename=f"{name}{MODEL_SUFFIX}",
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=_now(),
            metadata=plain_meta,
        )
        sidecar = json.dumps(
            {key: getattr(entry, key) for key in _SIDECAR_KEYS},
            ensure_ascii=False,
            allow_nan=False,
            indent=2,
            sort_keys=False,
        ).encode("utf-8")

        model_path, sidecar_path = self._model_path(name), self._sidecar_path(name)
        try:
            with self._lock.hold():
                if not overwrite and sidecar_path.exists():
                    raise StoreError(
                        f"A model named '{name}' already exists. "
                        "Pick another name or tick 'Overwrite'."
                    )
                self._place(data, sidecar, model_path, sidecar_path, new_entry=not overwrite)
        except OSError as error:
            log.exception("Could not save model %r in %s", name, self.root)
            raise StoreError(
                f"Could not save the model '{name}': {error.strerror or error}. Check that the "
                f"model library folder ({self.root}) is writable and has free space, then try "
                "again."
            ) from error
        return entry

    def _place(
        self, data: bytes, sidecar: bytes, model_path: Path, sidecar_path: Path, *, new_entry: bool
    ) -> None:
        """Atomically put model then sidecar in place; call only while holding the lock.

        Both temp files are written completely before any real name is touched, so a full disk
        or any write error leaves an existing entry exactly as it was. The model goes first and
        the sidecar last, so a listed entry always has its complete model; if the sidecar can't
        be placed for a ``new_entry``, the model is taken back out (still under the lock).
        """
        temps: list[Path] = []
        placed_model = False
        try:
            model_tmp = write_temp(self.root, data)
            temps.append(model_tmp)
            sidecar_tmp = write_temp(self.root, sidecar)
            temps.append(sidecar_tmp)
            os.replace(model_tmp, model_path)
            temps.remove(model_tmp)
            placed_model = new_entry
            os.replace(sidecar_tmp, sidecar_path)
            temps.remove(sidecar_tmp)
            placed_model = False
            fsync_dir(self.root)
        finally:
            for tmp in temps:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            if placed_model:
                with contextlib.suppress(OSError):
                    os.unlink(model_path)

    def list(self) -> list[LibraryEntry]:
        """Return all entries, newest first (ties by name); unreadable sidecars are logged and
        skipped."""
        entries: list[LibraryEntry] = []
        try:
            paths = sorted(self.root.iterdir())
        except FileNotFoundError:
            return []
        for path in paths:
            if path.name.startswith(".") or not path.name.endswith(SIDECAR_SUFFIX):
                continue  # temp files, the lock file, README.md, ...
            try:
                entries.append(self._load_sidecar(path))
            except (OSError, ValueError) as error:
                log.warning("Skipping unreadable model library sidecar %s: %s", path, error)
        entries.sort(key=lambda e: e.name)
        entries.sort(key=lambda e: _dt.datetime.fromisoformat(e.created_at), reverse=True)
        return entries

    def entry(self, name: str) -> LibraryEntry:
        """Return the LibraryEntry for ``name``.

        :raises StoreError: no such entry, or its sidecar is unreadable (damaged).
        """
        name = validate_name(name)
        path = self._sidecar_path(name)
        try:
            return self._load_sidecar(path)
        except FileNotFoundError:
            raise self._missing(name) from None
        except (OSError, ValueError) as error:
            log.warning("Model library sidecar %s is unreadable: %s", path, error)
            raise self._damaged(name) from error

    def exists(self, name: str) -> bool:
        """Return True if an entry called ``name`` is in the library (False for invalid names)."""
        try:
            name = validate_name(name)
        except StoreError:
            return False
        return self._sidecar_path(name).is_file()

    def read(self, name: str) -> bytes:
        """Return the model bytes of ``name`` after checking them against the stored SHA-256.

        :raises StoreError: no such entry, or the model file is missing or damaged.
        """
        name = validate_name(name)
        with self._lock.hold(shared=True):  # never mix the files of two concurrent saves
            entry = self.entry(name)
            try:
                data = self._model_path(name).read_bytes()
            except FileNotFoundError:
                log.warning("Model file for %r is missing from %s", name, self.root)
                raise self._damaged(name) from None
            except OSError as error:
                log.exception("Could not read model %r from %s", name, self.root)
                raise StoreError(
                    f"Could not read the saved model '{name}': {error.strerror or error}. "
                    "Try again; if it keeps failing, delete it and save it again."
                ) from error
        if len(data) != entry.size_bytes or hashlib.sha256(data).hexdigest() != entry.sha256:
            log.warning("Checksum mismatch for model %r in %s", name, self.root)
            raise self._damaged(name)
        return data

    def delete(self, name: str) -> None:
        """Remove the entry ``name`` (sidecar first, so it leaves the list at once, then model).

        :raises StoreError: no such entry, or the files can't be removed.
        """
        name = validate_name(name)
        sidecar_path, model_path = self._sidecar_path(name), self._model_path(name)
        try:
            with self._lock.hold():
                if not sidecar_path.exists():
                    with contextlib.suppress(FileNotFoundError):
                        model_path.unlink()  # tidy a leftover of an interrupted save
                    raise self._missing(name)
                sidecar_path.unlink()
                with contextlib.suppress(FileNotFoundError):
                    model_path.unlink()
                fsync_dir(self.root)
        except OSError as error:
            log.exception("Could not delete model %r from %s", name, self.root)
            raise StoreError(
                f"Could not delete the saved model '{name}': {error.strerror or error}. Check "
                f"that the model library folder ({self.root}) is writable, then try again."
            ) from error
