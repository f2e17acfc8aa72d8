"""The one seam between the pages and a model: one (model, rows[, target column]) pair.

Everything a page shows about a model's behaviour on some rows (predictions, probabilities,
scores, drift, importance, partial dependence, what-if predictions, threshold figures and the
figures drawn from them) is asked of an ``Exploration``. It decides once how the rows become
model input (named columns or positional ones), runs the model only here, and computes each
result the first time it is asked for, then keeps it: a rerun, a page switch or a second tab
costs a dictionary look-up. A refusal (``UserError``) is kept too, so it is not recomputed.

A page never calls ``model.predict`` itself. The model runs through ``current.runner``: in this
process for the app's own models, in a sandboxed worker process for a model from outside.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from lib import conformal
from lib.drift import DriftReport, drift_report
from lib.errors import PredictionError, UserError
from lib.explain import Importance, PartialDependence, feature_importance, partial_dependence_data
from lib.metrics import at_threshold, score
from lib.model_info import ModelInfo
from lib.predict import (
    NO_ROWS,
    PredictionResult,
    align,
    predict,
    predict_aligned,
    with_prediction_intervals,
)
from lib.problem import is_training_data
from lib.records import CurrentModel, TableData
from lib.rows import actual_values, one_row_frame
from lib.schema import CLASSIFICATION, REGRESSION, Task
from lib.slices import BINS, SLICE_METRIC, groups_for, slice_table

T = TypeVar("T")


@dataclass(frozen=True)
class Labelled:
    """The rows whose target is known and usable: positions ``row_ids`` (n,) in the rows,
    ``y_true`` and ``y_pred`` (n,), ``proba`` (n, n_classes) or None, and up to five target
    values that are not classes the model knows (left out)."""

    row_ids: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    unknown_labels: list[str]

    def __len__(self) -> int:
        return len(self.row_ids)


class Exploration:
    """A model on some rows, with everything derived from the pair computed once.

    Parameters
    ----------
    current : CurrentModel
        The model and what is known about it.
    rows : TableData
        The rows to predict (n_rows x any columns).
    target : str, optional
        The column holding the true values; defaults to the model's own target. A model saved
        elsewhere names none, so the person may pick one.
    """

    def __init__(self, current: CurrentModel, rows: TableData, target: str | None = None):
        self.current = current
        self.rows = rows
        self.target = target or current.info.target
        self._memo: dict[Hashable, Any] = {}

    @property
    def key(self) -> tuple[str, str, str | None]:
        """What identifies the pair: the model's id, the rows' content hash, the target."""
        return (self.current.id, self.rows.sha, self.target)

    @property
    def info(self) -> ModelInfo:
        return self.current.info

    @property
    def task(self) -> Task:
        """The model's task; a model that does not say is treated as a regressor."""
        return self.info.task or REGRESSION

    @property
    def tag(self) -> str:
        """A short id of the pair, for widget keys that must change with it."""
        return f"{self.current.id[:8]}{self.rows.sha[:8]}"

    @property
    def n_rows(self) -> int:
        return len(self.rows.df)

    def memo(self, key: Hashable, compute: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``compute(*args, **kwargs)`` the first time ``key`` is asked for, then its result
        (or the ``UserError`` it raised) from then on."""
        if key not in self._memo:
            try:
                self._memo[key] = compute(*args, **kwargs)
            except UserError as error:
                self._memo[key] = error
        value = self._memo[key]
        if isinstance(value, UserError):
            raise value
        return value

    def figure(self, key: tuple[Hashable, ...], build: Callable[..., T], /, *args: Any,
               **kwargs: Any) -> T:  # fmt: skip
        """``build(*args, **kwargs)`` once per ``key`` (a tuple of what the figure shows)."""
        return self.memo(("figure", *key), build, *args, **kwargs)

    # --- model input and predictions ------------------------------------------------------

    def _model_input(self) -> tuple[pd.DataFrame | np.ndarray, list[str]]:
        return self.memo("input", align, self.rows.df, self.info)

    @property
    def model_input(self) -> pd.DataFrame | np.ndarray:
        """The rows as the model takes them: its columns in order, coerced (a frame), or an
        array (n_rows, n_features) for a model fitted without column names."""
        return self._model_input()[0]

    @property
    def model_frame(self) -> pd.DataFrame:
        """The model input as a frame with the model's column names, for explanations."""

        def build() -> pd.DataFrame:
            X = self.model_input
            if isinstance(X, pd.DataFrame):
                return X
            names = [feature.name for feature in self.info.features or []]
            return pd.DataFrame(X, columns=names, index=self.rows.df.index)

        return self.memo("frame", build)

    @property
    def predictions(self) -> PredictionResult:
        """The rows with the prediction (and probability) columns added."""

        def build() -> PredictionResult:
            if self.n_rows == 0:  # before aligning: "no rows" says more than "no columns"
                raise PredictionError(NO_ROWS)
            return predict_aligned(
                self.current.runner, self.rows.df, self._model_input(), self.info
            )

        return self.memo("predictions", build)

    # --- prediction intervals and sets (conformal, ``lib.conformal``) -----------------------

    @property
    def calibration(self) -> conformal.Calibration | None:
        """The model file's conformal calibration, when it fits this model (its task, and for
        classifiers probabilities over the calibrated classes); else None (``why_no_intervals``)."""
        meta = self.info.metadata
        found = meta.prediction_intervals if meta is not None else None
        if found is None or found.task != self.task or not found.levels:
            return None
        if found.task == CLASSIFICATION:
            classes = self.info.classes or []
            if not self.info.has_proba or sorted(map(repr, classes)) != sorted(
                map(repr, found.classes or [])
            ):
                return None
        return found

    @property
    def why_no_intervals(self) -> str:
        """Why ``calibration`` is None, in plain words (empty when there is one)."""
        what = "prediction sets" if self.task == CLASSIFICATION else "prediction intervals"
        meta = self.info.metadata
        if self.calibration is not None:
            return ""
        if meta is None:
            return (
                f"No {what}: this model was not trained in this app, so its file carries no "
                "calibration for them."
            )
        if meta.prediction_intervals is None:
            return (
                f"No {what}: this model was trained with neither held-out rows nor "
                "cross-validation (or before they existed), so there were no unseen rows to "
                "calibrate them on. Train it again with a test share or cross-validation folds."
            )
        return f"No {what}: the calibration in the model's file does not fit this model."

    def predictions_at(self, level: float | None) -> PredictionResult:
        """``predictions`` with the conformal columns at ``level`` (None, or no calibration:
        the predictions alone)."""
        calibration = self.calibration
        if level is None or calibration is None:
            return self.predictions
        target = self.target or "target"
        return self.memo(("predictions_at", level), with_prediction_intervals, self.predictions,
                         calibration, level, self.info.classes, target)  # fmt: skip

    def interval_coverage(self, level: float) -> conformal.Coverage | None:
        """How the intervals or sets at ``level`` did on the labelled rows (None without a
        calibration)."""
        calibration = self.calibration
        if calibration is None:
            return None
        labelled = self._require_labels()
        return self.memo(("coverage", level), conformal.coverage, calibration, level,
                         labelled.y_true, labelled.y_pred, labelled.proba,
                         self.info.classes)  # fmt: skip

    def interval_bounds(self, level: float) -> tuple[np.ndarray, np.ndarray] | None:
        """Regression: lower and upper bounds (n_labelled,) of the labelled rows at ``level``."""
        calibration = self.calibration
        if calibration is None or calibration.task != REGRESSION:
            return None
        labelled = self._require_labels()
        return self.memo(("bounds", level), conformal.intervals, calibration, labelled.y_pred,
                         level)  # fmt: skip

    def what_if(self, values: Mapping[str, Any]) -> PredictionResult:
        """The prediction for one row made of ``values`` (input column -> value)."""
        frame = one_row_frame(dict(values), self.info.kinds())
        key = ("what_if", tuple(sorted((name, repr(v)) for name, v in values.items())))
        return self.memo(key, predict, self.current.runner, frame, self.info)

    # --- the labelled rows ----------------------------------------------------------------

    @property
    def labelled(self) -> Labelled | None:
        """The rows with a usable target value, or None when the rows hold no target column."""
        return self.memo("labelled", self._labelled)

    def _labelled(self) -> Labelled | None:
        if not self.target or self.target not in self.rows.df.columns:
            return None
        actual, known, unknown = actual_values(
            self.rows.df[self.target], self.task, self.info.classes
        )
        result = self.predictions
        frame = result.frame
        proba = None
        if result.probability_columns:
            proba = frame[result.probability_columns].to_numpy()[known]
        return Labelled(
            row_ids=np.flatnonzero(known),
            y_true=actual[known],
            y_pred=frame[result.prediction_column].to_numpy()[known],
            proba=proba,
            unknown_labels=unknown,
        )

    @property
    def has_labels(self) -> bool:
        """Whether some rows have a usable target value to score the model on."""
        labelled = self.labelled
        return labelled is not None and len(labelled) > 0

    def _require_labels(self) -> Labelled:
        labelled = self.labelled
        if labelled is None or not len(labelled):
            raise UserError(f"The rows have no usable values in '{self.target}' to score on.")
        return labelled

    @property
    def scores(self) -> dict[str, float]:
        """Every figure that applies to the task, on the labelled rows."""

        def build() -> dict[str, float]:
            labelled = self._require_labels()
            classes = self.info.classes if labelled.proba is not None else None
            return score(self.task, labelled.y_true, labelled.y_pred, labelled.proba, classes)

        return self.memo("scores", build)

    def at_threshold(self, threshold: float) -> dict[str, Any]:
        """Binary models: precision, recall, F1 and counts when P(second class) >= threshold."""
        labelled = self._require_labels()
        classes = self.info.classes or []
        if labelled.proba is None or len(classes) != 2:
            raise UserError("A decision threshold needs a two-class model with probabilities.")
        threshold = round(threshold, 2)
        return self.memo(("at_threshold", threshold), at_threshold, labelled.y_true,
                         labelled.proba[:, 1], classes[1], threshold)  # fmt: skip

    def slices(self, column: str, bins: int = BINS, primary: str | None = None) -> pd.DataFrame:
        """``lib.slices.slice_table`` of the labelled rows grouped by ``column`` of the rows
        (quantile ``bins`` of a number), compared on ``primary`` (default: the task's
        ``SLICE_METRIC``)."""
        labelled = self._require_labels()
        if column not in self.rows.df.columns:
            raise UserError(f"The rows have no column '{column}' to slice by.")
        primary = primary or SLICE_METRIC[self.task]

        def build() -> pd.DataFrame:
            values = self.rows.df[column].iloc[labelled.row_ids]
            classes = self.info.classes if labelled.proba is not None else None
            return slice_table(self.task, labelled.y_true, labelled.y_pred, labelled.proba,
                               classes, groups_for(values, bins=bins), primary=primary)  # fmt: skip

        return self.memo(("slices", column, bins, primary), build)

    @property
    def slice_columns(self) -> list[str]:
        """What the rows can be sliced by: the model's input columns, then the rows' others
        (not the target)."""
        present = [name for name in self.rows.df.columns if name != self.target]
        inputs = [name for name in self.input_names if name in present]
        return inputs + [name for name in present if name not in inputs]

    @property
    def are_training_rows(self) -> bool:
        """Whether the rows are exactly those the model was fitted on (figures flatter it)."""
        return self.memo("seen", is_training_data, self.rows.df, self.info.metadata)

    # --- what the rows look like next to training -----------------------------------------

    @property
    def drift(self) -> DriftReport | None:
        """How the rows differ from the training summaries; None without summaries."""
        summaries = self.info.summaries
        if not summaries:
            return None
        return self.memo("drift", drift_report, summaries, self.rows.df)

    # --- why the model predicts what it does ----------------------------------------------

    @property
    def importance(self) -> Importance | None:
        """Permutation importance on the labelled rows, else the model's own (None: unknown)."""

        def build() -> Importance | None:
            labelled = self.labelled
            if labelled is not None and len(labelled):
                X = self.model_input
                X = X.iloc[labelled.row_ids] if isinstance(X, pd.DataFrame) else X[labelled.row_ids]
                return feature_importance(self.current.runner, X, labelled.y_true, self.task)
            return feature_importance(self.current.runner, self.model_input)

        return self.memo("importance", build)

    @property
    def has_importance(self) -> bool:
        """Whether ``importance`` has been computed (it takes seconds on a large model)."""
        return "importance" in self._memo

    @property
    def own_importance(self) -> Importance | None:
        """The model's own importances or weights: free to read (None: it has none)."""
        return self.memo("own_importance", feature_importance, self.current.runner,
                         self.model_input)  # fmt: skip

    def partial_dependence(self, feature: str, class_label: object | None) -> PartialDependence:
        """How the prediction (or ``class_label``'s probability) moves with ``feature``."""
        categorical = self.info.kinds().get(feature) == "categorical"
        return self.memo(("pdp", feature, class_label), partial_dependence_data,
                         self.current.runner, self.model_frame, feature,
                         categorical=categorical, class_label=class_label)  # fmt: skip

    def probability_class(self, chosen: object | None = None) -> object | None:
        """The class whose probability partial dependence shows: ``chosen`` for multi-class,
        the second class for binary, None for regression."""
        classes = self.info.classes
        if self.task != CLASSIFICATION or not classes:
            return None
        if len(classes) > 2:
            return chosen if chosen in classes else classes[0]
        return classes[-1]

    @cached_property
    def input_names(self) -> list[str]:
        return [feature.name for feature in self.info.features or []]


def exploration_for(
    previous: Exploration | None, current: CurrentModel, rows: TableData, target: str | None
) -> Exploration:
    """``previous`` when it is for the same (model, rows, target), else a new one: a session
    keeps one pair's results at a time."""
    wanted = (current.id, rows.sha, target or current.info.target)
    if previous is not None and previous.key == wanted:
        return previous
    return Exploration(current, rows, target)
