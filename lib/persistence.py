"""The downloadable model file: the fitted scikit-learn object, written by ``joblib.dump``.

Nothing from this project is pickled, so ``joblib.load(path).predict(df)`` works in any Python
with scikit-learn, joblib and pandas. The app's metadata rides along as plain data in one
attribute (``lib.metadata.METADATA_ATTR``).
"""

from __future__ import annotations

import io

import joblib

from lib.metadata import METADATA_ATTR

# Name shown to a person -> joblib's ``compress`` argument.
COMPRESSIONS: dict[str, object] = {
    "zlib": ("zlib", 3),
    "none": 0,
    "gzip": ("gzip", 3),
    "bz2": ("bz2", 3),
    "lzma": ("lzma", 3),
    "xz": ("xz", 3),
    "lz4": ("lz4", 3),
}
DEFAULT_COMPRESSION = "zlib"
# How a notebook uses a downloaded file (Markdown), shown beside every model download.
NOTEBOOK_USE = (
    "The file is the fitted scikit-learn pipeline itself. In a notebook:  \n"
    "`model = joblib.load(path)` then `model.predict(df)`."
)


def dump_model(
    model: object, metadata: dict | None = None, compression: str = DEFAULT_COMPRESSION
) -> bytes:
    """The bytes of a ``.joblib`` file holding ``model``.

    Parameters
    ----------
    model : fitted scikit-learn estimator or Pipeline
    metadata : dict, optional
        Plain data stored on the model as ``METADATA_ATTR`` before dumping (replacing any).
    compression : str
        A key of ``COMPRESSIONS``: "zlib" (default: small and fast), "none" (fastest to load),
        "gzip", "bz2", "lzma", "xz" or "lz4".

    Returns
    -------
    bytes
        Exactly what ``joblib.dump(model, path, compress=...)`` would write to ``path``.
    """
    if compression not in COMPRESSIONS:
        raise ValueError(f"unknown compression {compression!r}; choose from {list(COMPRESSIONS)}")
    if metadata is not None:
        setattr(model, METADATA_ATTR, metadata)
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=COMPRESSIONS[compression])
    return buffer.getvalue()
