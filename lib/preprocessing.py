"""Preprocessing built from the column profile, out of scikit-learn parts only.

The fitted pipeline must load in a notebook that has only scikit-learn, so nothing here is a
class or function of this project: dates become numbers through ``numpy.asarray`` casts inside
``FunctionTransformer``s, with periodic splines for the weekly and yearly cycles.
"""

from __future__ import annotations

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    OrdinalEncoder,
    SplineTransformer,
    StandardScaler,
)

from lib.catalog import ModelSpec
from lib.profile import BOOLEAN, CATEGORICAL, DATETIME, NUMERIC, ColumnProfile

# NaT becomes this integer when datetime64[D] is cast to int64.
_NAT_AS_INT = np.iinfo(np.int64).min
# Categories seen in fewer training rows than this are grouped as "infrequent".
RARE_CATEGORY_ROWS = 10
MAX_ONE_HOT_CATEGORIES = 30
MAX_NATIVE_CATEGORIES = 255


def feature_groups(profiles: list[ColumnProfile], features: list[str]) -> dict[str, list[str]]:
    """Split ``features`` into "numeric", "categorical" and "datetime" by their profiled kind."""
    by_name = {p.name: p for p in profiles}
    groups: dict[str, list[str]] = {"numeric": [], "categorical": [], "datetime": []}
    for name in features:
        profile = by_name[name]
        numeric_dtype = profile.dtype.startswith(("int", "uint", "float", "Int", "Float"))
        if profile.kind == NUMERIC or (profile.kind == BOOLEAN and numeric_dtype):
            groups["numeric"].append(name)
        elif profile.kind in (CATEGORICAL, BOOLEAN):
            groups["categorical"].append(name)
        elif profile.kind == DATETIME:
            groups["datetime"].append(name)
        else:
            raise ValueError(f"column {name!r} of kind {profile.kind!r} cannot be a feature")
    return groups


def build_preprocessor(groups: dict[str, list[str]], spec: ModelSpec) -> ColumnTransformer:
    """A ColumnTransformer for ``groups`` suited to the estimator ``spec`` describes.

    Output columns are ordered categorical first, so that HistGradientBoosting's
    ``categorical_features`` can be the leading positions (``lib.training.make_pipeline``).
    """
    transformers = []
    if groups["categorical"]:
        transformers.append(("categorical", _categorical_pipe(spec), groups["categorical"]))
    if groups["numeric"]:
        transformers.append(("numeric", _numeric_pipe(spec), groups["numeric"]))
    if groups["datetime"]:
        transformers.append(
            ("datetime", _date_pipe(spec, len(groups["datetime"])), groups["datetime"])
        )
    preprocessor = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=True)
    if [step for _, step, _ in transformers] == ["passthrough"]:
        # Numbers straight into the estimator: pandas output hands it the table's own columns,
        # where array output would first copy every value of a possibly large table.
        preprocessor.set_output(transform="pandas")
    return preprocessor


def _numeric_pipe(spec: ModelSpec) -> Pipeline | str:
    steps = []
    if not spec.native_missing:
        steps.append(("impute", SimpleImputer(strategy="median", add_indicator=True)))
    if spec.needs_scaling:
        steps.append(("scale", StandardScaler()))
    return Pipeline(steps) if steps else "passthrough"


def _categorical_pipe(spec: ModelSpec) -> Pipeline:
    if spec.native_categorical:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            max_categories=MAX_NATIVE_CATEGORIES,
            dtype=np.float64,
        )
    else:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=RARE_CATEGORY_ROWS,
            max_categories=MAX_ONE_HOT_CATEGORIES,
            sparse_output=False,
        )
    return Pipeline([("as_text", _as_text()), ("encode", encoder)])


def _as_text() -> FunctionTransformer:
    """Categories as text, whatever the input dtype: ``numpy.asarray(X, dtype=str)``.

    Booleans, numbers and strings in one column all become strings, and a missing value becomes
    the category "nan" (or "None"), the same in training and in any later ``predict(df)``.
    """
    return FunctionTransformer(np.asarray, kw_args={"dtype": str}, feature_names_out="one-to-one")


def _date_pipe(spec: ModelSpec, n_columns: int) -> Pipeline:
    """Dates (datetime64 or ISO-8601 strings) -> days since 1970, plus weekly and yearly cycles."""
    days = Pipeline(
        [
            ("as_objects", FunctionTransformer(np.asarray, kw_args={"dtype": object})),
            ("fill_missing", SimpleImputer(strategy="constant", fill_value="NaT")),
            ("to_time", FunctionTransformer(np.asarray, kw_args={"dtype": "datetime64[s]"})),
            ("to_date", FunctionTransformer(np.asarray, kw_args={"dtype": "datetime64[D]"})),
            ("to_days", FunctionTransformer(np.asarray, kw_args={"dtype": np.int64})),
            ("impute", SimpleImputer(missing_values=_NAT_AS_INT, strategy="median")),
            ("as_float", FunctionTransformer(np.asarray, kw_args={"dtype": np.float64})),
        ]
    )
    cycles = FeatureUnion(
        [
            ("trend", _scaled_or_passthrough(spec)),
            ("week", _cycle(7.0, 8, n_columns)),
            ("year", _cycle(365.25, 13, n_columns)),
        ]
    )
    return Pipeline([("days", days), ("cycles", cycles)])


def _cycle(period: float, n_knots: int, n_columns: int) -> SplineTransformer:
    """Periodic splines with knots spread over one period, repeating every ``period`` days."""
    knots = np.tile(np.linspace(0.0, period, n_knots)[:, None], (1, n_columns))
    return SplineTransformer(knots=knots, extrapolation="periodic")


def _scaled_or_passthrough(spec: ModelSpec) -> StandardScaler | str:
    return StandardScaler() if spec.needs_scaling else "passthrough"
