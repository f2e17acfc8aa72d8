"""Where the model library keeps its objects: a local folder or an S3 bucket (through fsspec).

The library needs exactly these operations, addressed by ``/``-separated keys under one root:

* :meth:`Storage.put` - store a whole object; readers see the old object or the new one, never
  a part (local: temp file + ``os.replace``; S3: one ``PutObject``, atomic by definition).
* :meth:`Storage.create` - store a small object **only if the key does not exist yet**, atomically
  and exclusively: of two concurrent creates of one key exactly one succeeds (local: temp file +
  ``os.link``, which fails with EEXIST and never shows a half-written file; S3: ``PutObject`` with
  ``If-None-Match: *``, answered 412 PreconditionFailed when the key exists).
* :meth:`Storage.read`, :meth:`Storage.read_many`, :meth:`Storage.list`, :meth:`Storage.delete`.
* :meth:`Storage.modified` and :meth:`Storage.list_modified` - when an object was last written
  (local: the file's mtime; S3: ``LastModified``), for the library's grace period before it
  deletes bytes no version refers to.

Guarantees relied on (judge another fsspec protocol by these): whole-object atomic put, atomic
conditional create, read-after-write and list-after-write consistency (a created key is listed
and readable by every server at once; S3 is strongly consistent since December 2020, and so are
local POSIX file systems; NFS with attribute caching is not). Only ``file`` and ``s3`` are
accepted; any other protocol is refused with a message rather than silently losing versions.

Every failure of the store itself (unreachable, no permission, disk full) becomes a
:class:`lib.errors.StoreError` saying where and what to check; a missing key is
``FileNotFoundError`` and an existing key on create is ``False``, which callers handle.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from lib.errors import StoreError
from lib.store import default_root, fsync_dir, write_temp

# s3fs reads at most this many objects at once in read_many (its own default batch size).
_S3_BATCH = 64


class Storage(ABC):
    """Objects under one root, addressed by relative ``/``-separated keys."""

    location: str  # shown to people in messages: a folder path or an s3:// URL

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key`` atomically (replacing any object there)."""

    @abstractmethod
    def create(self, key: str, data: bytes) -> bool:
        """Store ``data`` at ``key`` only if it does not exist; return False if it did."""

    @abstractmethod
    def read(self, key: str) -> bytes:
        """Return the object at ``key``. :raises FileNotFoundError: no such key."""

    def read_many(self, keys: Iterable[str]) -> dict[str, bytes | Exception]:
        """Return each key's bytes, or the exception reading it raised (missing, ...)."""
        out: dict[str, bytes | Exception] = {}
        for key in keys:
            try:
                out[key] = self.read(key)
            except (FileNotFoundError, StoreError) as error:
                out[key] = error
        return out

    @abstractmethod
    def list(self, prefix: str = "", *, recursive: bool = True) -> list[str]:
        """Return the keys of all objects under ``prefix`` (a folder; '' = the root), sorted.

        With ``recursive=False`` only the objects directly in that folder.
        """

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object at ``key``; a missing key is not an error."""

    @abstractmethod
    def modified(self, key: str) -> float:
        """When the object at ``key`` was last written, in seconds since the epoch (the store's
        clock; S3 gives whole seconds). :raises FileNotFoundError: no such key."""

    @abstractmethod
    def list_modified(self, prefix: str) -> dict[str, float]:
        """Every object under ``prefix`` (recursive) with its :meth:`modified` time."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"

    def _failed(self, doing: str, error: BaseException) -> StoreError:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return StoreError(
            f"Could not {doing} the model library at {self.location}: {reason}. Check that it "
            "exists, is reachable and writable (and, for S3, the credentials), then try again."
        )


class LocalStorage(Storage):
    """A folder on this machine (POSIX semantics; hidden ``.tmp-`` files are never listed)."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).expanduser()
        self.location = str(self.root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = write_temp(path.parent, data)
            try:
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            fsync_dir(path.parent)  # the rename survives a power cut
        except OSError as error:
            raise self._failed("write to", error) from error

    def create(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = write_temp(path.parent, data)
            try:
                os.link(tmp, path)  # atomic and exclusive: EEXIST if the key exists
            except FileExistsError:
                return False
            finally:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            fsync_dir(path.parent)
        except OSError as error:
            raise self._failed("write to", error) from error
        return True

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            raise FileNotFoundError(key) from None
        except OSError as error:
            raise self._failed("read from", error) from error

    def list(self, prefix: str = "", *, recursive: bool = True) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        keys: list[str] = []
        try:
            for folder, dirs, files in _walk(base, recursive):
                rel = folder.relative_to(self.root).as_posix()
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                keys.extend(
                    name if rel == "." else f"{rel}/{name}"
                    for name in files
                    if not name.startswith(".")
                )
        except OSError as error:
            raise self._failed("list", error) from error
        return sorted(keys)

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return
        except OSError as error:
            raise self._failed("delete from", error) from error

    def modified(self, key: str) -> float:
        try:
            return self._path(key).stat().st_mtime
        except (FileNotFoundError, NotADirectoryError):
            raise FileNotFoundError(key) from None
        except OSError as error:
            raise self._failed("read from", error) from error

    def list_modified(self, prefix: str) -> dict[str, float]:
        out: dict[str, float] = {}
        for key in self.list(prefix):
            with contextlib.suppress(FileNotFoundError):  # deleted since the listing
                out[key] = self.modified(key)
        return out


def _walk(base: Path, recursive: bool) -> Iterator[tuple[Path, list[str], list[str]]]:
    """``os.walk`` as Paths (nothing for a missing folder); only the top when not recursive."""
    for folder, dirs, files in os.walk(base):
        yield Path(folder), dirs, files
        if not recursive:
            return


class S3Storage(Storage):
    """An S3 bucket and prefix through s3fs (AWS settings from the environment as usual;
    ``AWS_ENDPOINT_URL`` points it at MinIO, moto or another S3-compatible store)."""

    def __init__(self, url: str) -> None:
        import s3fs  # imported here: a local library never needs it

        self.root = url.split("://", 1)[-1].strip("/")
        self.location = f"s3://{self.root}"
        if not self.root or self.root.startswith("/"):
            raise StoreError(
                f"The model library address {url!r} has no bucket name. Write it as "
                "s3://bucket or s3://bucket/folder."
            )
        # No listing cache: another server may have added a version since the last listing.
        self.fs = s3fs.S3FileSystem(skip_instance_cache=True, use_listings_cache=False)
        self._create_checked = False

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}" if key else self.root

    @contextlib.contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn the store's failures (network, credentials, ...) into a StoreError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (FileNotFoundError, FileExistsError):
            raise
        except (OSError, BotoCoreError, ClientError) as error:
            raise self._failed(doing, error) from error

    def _no_bucket(self) -> StoreError:
        bucket = self.root.split("/", 1)[0]
        return StoreError(
            f"Could not write to the model library at {self.location}: there is no bucket "
            f"named '{bucket}' (or no permission to see it). Create the bucket or correct the "
            "address in MODEL_STUDIO_LIBRARY, then try again."
        )

    def put(self, key: str, data: bytes) -> None:
        try:
            with self._errors("write to"):
                self.fs.pipe_file(self._path(key), data)
        except FileNotFoundError:
            raise self._no_bucket() from None

    def create(self, key: str, data: bytes) -> bool:
        if not self._create_checked:
            self._check_create_is_exclusive()
        return self._create(key, data)

    def _check_create_is_exclusive(self) -> None:
        """Once per process: refuse a store that ignores If-None-Match (some S3-compatible
        stores do, silently), since there two saves could overwrite each other's version."""
        probe = f"probes/{uuid.uuid4().hex}"
        try:
            first, second = self._create(probe, b"1"), self._create(probe, b"2")
        finally:
            self.delete(probe)
        if not (first and not second):
            raise StoreError(
                f"The store at {self.location} ignores 'create only if absent' (If-None-Match), "
                "so two servers saving at once could overwrite each other's models. Use AWS S3, "
                "a recent MinIO or another store that supports it, or a local folder."
            )
        self._create_checked = True

    def _create(self, key: str, data: bytes) -> bool:
        try:
            with self._errors("write to"):
                # mode="create" sends If-None-Match: * (also on a multipart upload's completion)
                # and s3fs maps the 412 PreconditionFailed to FileExistsError; tests/library
                # checks both against moto's server. AWS S3 (since 2024) and MinIO honour it.
                self.fs.pipe_file(self._path(key), data, mode="create")
        except FileExistsError:
            return False
        except FileNotFoundError:
            raise self._no_bucket() from None
        return True

    def read(self, key: str) -> bytes:
        with self._errors("read from"):
            return bytes(self.fs.cat_file(self._path(key)))

    def read_many(self, keys: Iterable[str]) -> dict[str, bytes | Exception]:
        keys = list(keys)
        out: dict[str, bytes | Exception] = {}
        for start in range(0, len(keys), _S3_BATCH):
            batch = keys[start : start + _S3_BATCH]
            with self._errors("read from"):
                got: dict[str, Any] = self.fs.cat([self._path(k) for k in batch], on_error="return")
            for key in batch:
                value = got.get(self._path(key), FileNotFoundError(key))
                if isinstance(value, FileNotFoundError):
                    out[key] = FileNotFoundError(key)
                elif isinstance(value, BaseException):
                    raise self._failed("read from", value)
                else:
                    out[key] = bytes(value)
        return out

    def list(self, prefix: str = "", *, recursive: bool = True) -> list[str]:
        base = self._path(prefix)
        with self._errors("list"):
            try:
                if recursive:
                    paths = self.fs.find(base, detail=False)
                else:
                    paths = [
                        info["name"]
                        for info in self.fs.ls(base, detail=True)
                        if info.get("type") == "file"
                    ]
            except FileNotFoundError:
                return []
        cut = len(self.root) + 1
        return sorted(str(path)[cut:] for path in paths if str(path) != base)

    def delete(self, key: str) -> None:
        with self._errors("delete from"), contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._path(key))

    def modified(self, key: str) -> float:
        with self._errors("read from"):
            info = self.fs.info(self._path(key))
        if info.get("type") != "file":
            raise FileNotFoundError(key)
        return _timestamp(info)

    def list_modified(self, prefix: str) -> dict[str, float]:
        base = self._path(prefix)
        with self._errors("list"):
            try:
                found: dict[str, Any] = self.fs.find(base, detail=True)
            except FileNotFoundError:
                return {}
        cut = len(self.root) + 1
        return {
            str(path)[cut:]: _timestamp(info)
            for path, info in found.items()
            if str(path) != base and info.get("type") == "file"
        }


def _timestamp(info: dict[str, Any]) -> float:
    """An s3fs info's ``LastModified`` (a datetime, or its ISO text) as epoch seconds."""
    value = info["LastModified"]
    if isinstance(value, str):
        value = _dt.datetime.fromisoformat(value)
    return float(value.timestamp())


def open_storage(url_or_path: str | Path | None = None) -> Storage:
    """The library's storage: a local folder (default :func:`lib.store.default_root`, which reads
    ``MODEL_STUDIO_LIBRARY``) or an ``s3://bucket/prefix`` URL; ``file://`` means a folder.

    :raises StoreError: a protocol whose guarantees the library can't rely on.
    """
    if url_or_path is None:
        env = os.environ.get("MODEL_STUDIO_LIBRARY", "").strip()
        url_or_path = env or default_root()
    if isinstance(url_or_path, Path):
        return LocalStorage(url_or_path)
    text = url_or_path.strip()
    if "://" not in text:
        return LocalStorage(text)
    protocol, rest = text.split("://", 1)
    protocol = protocol.lower()
    if protocol == "file":
        return LocalStorage(rest)
    if protocol in {"s3", "s3a"}:
        return S3Storage(f"s3://{rest}")
    raise StoreError(
        f"The model library address {text!r} uses '{protocol}://', which the library does not "
        "support: it needs atomic uploads and a create-only-if-absent operation to keep every "
        "saved version. Use a folder path or an s3:// address (also for MinIO and other "
        "S3-compatible stores, with AWS_ENDPOINT_URL)."
    )
