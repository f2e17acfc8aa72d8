"""Where the app's knowledge about a model lives inside the model file.

The downloadable file is the fitted scikit-learn ``Pipeline`` itself; the app's metadata travels
in one attribute of it, as plain data (dict of str, int, float, bool, None, lists, dicts), so a
notebook with only scikit-learn installed loads the file and simply ignores the attribute.
"""

import datetime
import hashlib
import logging
import platform
from dataclasses import dataclass, field, replace
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn

from lib.profile import finite_values, numeric_stats
from lib.sampling import even_sample
from lib.schema import FORMAT, Histogram, MalformedMetadata, ModelMetadata, TrainingSummary

log = logging.getLogger(__name__)
METADATA_ATTR = "studio_metadata_"
# Quantiles and histograms of larger columns are estimated from this many sampled values.
SUMMARY_SAMPLE = 100_000
__all__ = ["FORMAT", "METADATA_ATTR", "ModelMetadata", "ReadMetadata", "read_metadata"]


@dataclass(frozen=True)
class ReadMetadata:
    """What a model file says about itself: ``metadata`` is None for a model made elsewhere, or
    when the app's record in it is malformed (``warnings`` then says what was wrong)."""

    metadata: ModelMetadata | None
    warnings: list[str] = field(default_factory=list)


def read_metadata(model: object) -> ReadMetadata:
    """Parse and check the app metadata stored on ``model``: the one place a file's record is
    read. A malformed record is refused as a whole, or loses its malformed optional parts, with
    a warning either way."""
    return read_metadata_plain(getattr(model, METADATA_ATTR, None))


def read_metadata_plain(plain: Any) -> ReadMetadata:
    """``read_metadata`` for the record already taken off the model (plain data or None)."""
    if plain is None:
        return ReadMetadata(None)
    try:
        metadata, warnings = ModelMetadata.from_plain(plain)
    except MalformedMetadata as error:
        log.info("model metadata refused: %s", error)
        return ReadMetadata(
            None,
            [
                f"The file's Model Studio record is damaged ({error}), so it is ignored: the "
                "model is treated as one saved elsewhere (no training summary, no figures)."
            ],
        )
    return ReadMetadata(metadata, warnings)


def attach(model: object, metadata: ModelMetadata) -> None:
    """Store ``metadata`` on ``model`` as plain data (what ``joblib.dump`` then writes)."""
    setattr(model, METADATA_ATTR, to_plain(metadata.to_plain()))


def training_summaries(frame: pd.DataFrame, groups: dict[str, list[str]]) -> list[TrainingSummary]:
    """What each feature looked like in training.

    Parameters
    ----------
    frame : DataFrame of shape (n_rows, n_columns)
        The rows the final model was fitted on.
    groups : dict
        "numeric", "categorical" and "datetime" feature names (``lib.preprocessing``).

    Returns
    -------
    list of TrainingSummary
        One per feature, in input order. Numeric ones have the exact min, max and mean, and
        quantiles, std and a 20-bin histogram from at most ``SUMMARY_SAMPLE`` values;
        categorical ones the 50 most frequent categories with counts; datetime ones the span.
    """
    kinds = {name: kind for kind, names in groups.items() for name in names}
    summaries = []
    for name in frame.columns:
        if name not in kinds:
            continue
        column = frame[name]
        n_missing = int(column.isna().sum())
        present = column.dropna() if n_missing else column
        summary = TrainingSummary(
            name=str(name),
            kind="numeric",
            dtype=str(column.dtype),
            missing_share=n_missing / len(column) if len(column) else 0.0,
        )
        if kinds[name] == "numeric":
            summary = _numeric_summary(summary, present)
        elif kinds[name] == "categorical":
            counts = present.astype(str).value_counts()
            pairs = [(str(v), int(c)) for v, c in counts.head(50).items()]
            summary = replace(summary, kind="categorical", categories=pairs, n_distinct=len(counts))
        else:
            dates = pd.to_datetime(present, errors="coerce").dropna()
            first = dates.min().isoformat() if len(dates) else None
            last = dates.max().isoformat() if len(dates) else None
            summary = replace(summary, kind="datetime", first=first, last=last)
        summaries.append(summary)
    return summaries


def _numeric_summary(summary: TrainingSummary, present: pd.Series) -> TrainingSummary:
    # Range and mean are exact; quantiles, spread and the histogram shape come from a sample
    # on large tables (passes over a million values per column cost more than the precision
    # is worth for a form's starting value and a drift overlay).
    values = finite_values(present)
    if values.size == 0:
        return summary
    shape = even_sample(values, SUMMARY_SAMPLE)
    stats = numeric_stats(values, shape)
    counts, edges = np.histogram(shape, bins=20, range=(stats["min"], stats["max"]))
    counts = np.round(counts * (values.size / shape.size)).astype(int)
    return replace(
        summary,
        min=stats["min"],
        max=stats["max"],
        mean=stats["mean"],
        median=stats["median"],
        std=stats["std"],
        q01=stats["q01"],
        q99=stats["q99"],
        integer=_all_integers(present.dtype, values, shape),
        histogram=Histogram(edges=edges.tolist(), counts=counts.tolist()),
    )


def _all_integers(dtype: Any, values: np.ndarray, shape: np.ndarray) -> bool:
    """Whether every value is a whole number; ``shape`` is a sample of ``values``."""
    if pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return True
    # The sample settles most float columns at once; only whole-looking ones need every value.
    return _whole(shape) and (shape is values or _whole(values))


def _whole(array: np.ndarray) -> bool:
    return bool(np.all(array == np.round(array)))


def frame_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of the frame's contents (names, dtypes and values), independent of its index.

    Numeric columns are hashed as their raw bytes (fast); other columns through
    ``pandas.util.hash_pandas_object``.
    """
    digest = hashlib.sha256()
    for name in frame.columns:
        column = frame[name]
        digest.update(f"{name}\x1f{column.dtype}\x1e".encode())
        if pd.api.types.is_numeric_dtype(
            column.dtype
        ) and not pd.api.types.is_extension_array_dtype(column.dtype):
            digest.update(np.ascontiguousarray(column.to_numpy()).data)
        else:
            digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model file depends on."""
    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "joblib": joblib.__version__,
    }


def now_iso() -> str:
    """The current UTC time, ISO-8601 to the second."""
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat()


def to_plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays turned into plain Python values, NaN kept."""
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value
