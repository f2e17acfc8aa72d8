"""The in-process safe parse: bytes -> checked object graph -> :class:`LoadedModel`."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field

import sklearn

from . import _allowlist
from ._audit import audit
from ._context import LoadContext
from ._decompress import inflate
from ._limits import Limits
from ._messages import damaged, too_big
from ._unpickler import SafeUnpickler

_ALLOW: _allowlist.AllowList | None = None
_ALLOW_LOCK = threading.Lock()


@dataclass(frozen=True)
class LoadedModel:
    """A safely loaded model and what was learned about its file.

    model: the estimator. file_sklearn_version: most common ``_sklearn_version`` in the file
    (None if absent). running_sklearn_version: this app's scikit-learn. compression: "none",
    "zlib", "gzip", "bz2", "lzma", "xz" or "lz4". pickle_protocol: 2-5, or None for protocol 0/1.
    warnings: plain-language notes for the person who uploaded the file.
    """

    model: object
    file_sklearn_version: str | None
    running_sklearn_version: str
    compression: str
    pickle_protocol: int | None
    warnings: list[str] = field(default_factory=list)


def allow_list() -> _allowlist.AllowList:
    """Return the process-wide allow-list, built on first use."""
    global _ALLOW
    with _ALLOW_LOCK:
        if _ALLOW is None:
            _ALLOW = _allowlist.build()
        return _ALLOW


def _sniff(stream: bytes) -> None:
    if stream.startswith(b"PK\x03\x04"):
        raise damaged("it is a zip archive (for example a .skops file), not a joblib file")
    if stream.startswith(b"\x93NUMPY"):
        raise damaged("it is a numpy .npy array file, not a saved model")
    if not stream:
        raise damaged("it is empty after decompression")


def load_in_process(data: bytes, limits: Limits) -> LoadedModel:
    """Parse ``data`` with the safe unpickler and return the checked result (raises UserError)."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise damaged("the upload did not contain file bytes")
    data = bytes(data)
    if not data:
        raise damaged("the file is empty")
    if len(data) > limits.max_file_bytes:
        raise too_big(f"the file has {len(data):,} bytes (limit {limits.max_file_bytes:,})")
    stream, compression = inflate(data, limits.max_inflated_bytes)
    _sniff(stream)
    ctx = LoadContext(limits=limits, allow=allow_list(), stream_len=len(stream))
    unpickler = SafeUnpickler(io.BytesIO(stream), ctx)
    model = unpickler.load()
    audit(model, ctx)
    _require_estimator(model)
    file_version = ctx.versions.most_common(1)[0][0] if ctx.versions else None
    running = sklearn.__version__
    notes = []
    if file_version is not None and file_version != running:
        notes.append(
            f"This file was written with scikit-learn {file_version}; this app runs {running}. "
            f"Predictions may differ or fail; re-train or re-save the model with {running} "
            "if you can."
        )
    return LoadedModel(
        model=model,
        file_sklearn_version=file_version,
        running_sklearn_version=running,
        compression=compression,
        pickle_protocol=unpickler.proto if unpickler.proto >= 2 else None,
        warnings=notes,
    )


def _require_estimator(model: object) -> None:
    from sklearn.base import BaseEstimator

    if isinstance(model, BaseEstimator):
        return
    if hasattr(type(model), "predict") or hasattr(type(model), "transform"):
        return
    from lib.errors import ModelFileError

    raise ModelFileError(
        f"This file holds a {type(model).__name__}, not a scikit-learn model. Upload the file you "
        "saved with joblib.dump(model, ...) after fitting the model."
    )
