"""The decision threshold of a binary classifier, tuned to the person's costs or constraint.

A decision goal is plain data (it travels in a job's parameters as JSON)::

    {"goal": "cost", "fp_cost": 1.0, "fn_cost": 5.0, "positive": "malignant"}
    {"goal": "min_precision" | "min_recall", "value": 0.9, "positive": "malignant"}

``Decision.parse`` checks it against the problem. ``tuner`` builds scikit-learn's
``TunedThresholdClassifierCV`` around the app's pipeline (so preprocessing is inside each fold)
and ``tuned`` reads its result: the threshold, the curve of the objective over thresholds and,
for costs, the cross-validated cost per row there and at the default 0.5.

The file does not keep the ``TunedThresholdClassifierCV``: its ``scoring`` is a function from
this module, which neither a notebook without the app nor the safe loader could load. ``wrap``
instead freezes the fitted pipeline inside a ``FixedThresholdClassifier`` (scikit-learn classes
only), and ``inner_pipeline`` unwraps it again for the code that needs the pipeline's steps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import make_scorer
from sklearn.model_selection import (
    FixedThresholdClassifier,
    StratifiedKFold,
    TunedThresholdClassifierCV,
)

from lib.decision_record import DecisionRecord
from lib.errors import TrainingError
from lib.literal import literal

GOALS = ("cost", "min_precision", "min_recall")
DEFAULT_THRESHOLD = 0.5
# The thresholds tried: every 0.01 from 0 to 1 (the default 0.5 among them), and finer towards
# both ends, where lopsided costs put the best threshold (costs 1:1000 put it near 0.001).
_ENDS = np.geomspace(1e-4, 5e-3, 7)
THRESHOLDS = np.unique(np.round(np.concatenate([np.linspace(0.0, 1.0, 101), _ENDS, 1 - _ENDS]), 6))
MAX_COST = 1e9


@dataclass(frozen=True)
class Decision:
    """A checked decision goal; ``positive`` is the class label as the model knows it."""

    goal: str
    positive: Any
    fp_cost: float = 1.0
    fn_cost: float = 1.0
    value: float = 0.0  # the minimum precision or recall, in (0, 1]

    @classmethod
    def parse(cls, plain: object, classes: list[Any] | None, has_proba: bool) -> Decision:
        """Check the goal ``plain`` for a problem with ``classes``; raises ``TrainingError``."""
        if not isinstance(plain, Mapping):
            raise TrainingError("The decision goal is not understood; choose it again.")
        if classes is None or len(classes) != 2:
            raise TrainingError(
                "A decision threshold is tuned only for a yes/no target (two classes); this "
                "target has "
                + ("numbers, not classes" if classes is None else f"{len(classes)} classes")
                + ". Choose 'Default' for the decision threshold."
            )
        if not has_proba:
            raise TrainingError(
                "This model gives no probabilities, so its decision threshold cannot be "
                "tuned. Pick another model, or choose 'Default' for the decision threshold."
            )
        goal = plain.get("goal")
        if goal not in GOALS:
            raise TrainingError(f"Unknown decision goal {goal!r}; choose one of {GOALS}.")
        positive = _known_class(plain.get("positive"), classes)
        if goal == "cost":
            fp, fn = (_cost(plain.get(k), what) for k, what in _COST_WORDS.items())
            if fp + fn == 0:
                raise TrainingError(
                    "Both mistakes cost 0, so every threshold is as good. Give at least one a "
                    "cost above 0."
                )
            return cls(goal, positive, fp_cost=fp, fn_cost=fn)
        value = plain.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise TrainingError(
                f"The minimum {_measure(goal)} must be a number above 0 and at most 1 (for "
                f"example 0.9); it is {value!r}."
            )
        return cls(goal, positive, value=float(value))

    def to_plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = {"goal": self.goal, "positive": plain_label(self.positive)}
        if self.goal == "cost":
            return plain | {"fp_cost": self.fp_cost, "fn_cost": self.fn_cost}
        return plain | {"value": self.value}

    def describe(self) -> str:
        """The goal in words: "a false positive costs 1, a false negative 5"."""
        if self.goal == "cost":
            return (
                f"a false positive costs {self.fp_cost:g}, a false negative "
                f"{self.fn_cost:g} (positive: {plain_label(self.positive)!r})"
            )
        return f"at least {self.value:g} {_measure(self.goal)} for {plain_label(self.positive)!r}"


@dataclass(frozen=True)
class Tuned:
    """What tuning found: ``threshold`` on the positive class's probability; the curve
    ``thresholds`` (n,) and ``objective`` (n,) cross-validated (for costs: cost per row, lower is
    better; for a constraint: the other measure where the constraint held in every fold, else
    None); ``reached`` is False when no threshold met the constraint in every fold."""

    threshold: float
    thresholds: list[float]
    objective: list[float | None]
    objective_label: str
    reached: bool
    cost_at_threshold: float | None
    cost_at_default: float | None


def tuner(pipeline: Any, decision: Decision, folds: int, random_state: int,
          n_jobs: int | None = None) -> TunedThresholdClassifierCV:  # fmt: skip
    """An unfitted ``TunedThresholdClassifierCV`` for ``pipeline`` (unfitted) on stratified
    ``folds`` like the app's cross-validation; fitting it also fits ``estimator_`` on all rows."""
    return TunedThresholdClassifierCV(
        pipeline,
        scoring=_scorer(decision, folds),
        response_method="predict_proba",
        thresholds=THRESHOLDS,
        cv=StratifiedKFold(folds, shuffle=True, random_state=random_state),
        refit=True,
        n_jobs=n_jobs,
        store_cv_results=True,
    )


def tuned(search: TunedThresholdClassifierCV, decision: Decision) -> Tuned:
    """Read a fitted ``tuner``: the threshold and the cross-validated curve."""
    thresholds = np.asarray(search.cv_results_["thresholds"], dtype=float)
    scores = np.asarray(search.cv_results_["scores"], dtype=float)
    threshold = float(search.best_threshold_)
    if decision.goal == "cost":
        costs = -scores
        at_default = float(np.interp(DEFAULT_THRESHOLD, thresholds, costs))
        return Tuned(
            threshold=threshold,
            thresholds=thresholds.tolist(),
            objective=costs.tolist(),
            objective_label="Expected cost per row",
            reached=True,
            cost_at_threshold=float(-search.best_score_),
            cost_at_default=at_default,
        )
    # Scores >= 0 are the other measure where the constraint held in every fold (see _scorer).
    objective = [float(s) if s >= 0 else None for s in scores]
    other = "recall" if decision.goal == "min_precision" else "precision"
    return Tuned(
        threshold=threshold,
        thresholds=thresholds.tolist(),
        objective=objective,
        objective_label=f"{other.capitalize()} where {_measure(decision.goal)} ≥ "
        f"{decision.value:g} in every fold",
        reached=bool(search.best_score_ >= 0),
        cost_at_threshold=None,
        cost_at_default=None,
    )


def unreachable_note(decision: Decision) -> str:
    """What to say when no threshold met a constraint in every cross-validation fold."""
    measure = _measure(decision.goal)
    return (
        f"No threshold reached a {measure} of {decision.value:g} for "
        f"{plain_label(decision.positive)!r} in every cross-validation fold, so the threshold "
        f"chosen is the one that came closest, and the model does not meet the minimum. Ask "
        f"for a lower {measure}, or try another model or more features."
    )


def one_class_note(decision: Decision, found: Tuned) -> str | None:
    """What to say when the best threshold is 0 or 1, where the model calls every row the same
    class and so decides nothing; None otherwise."""
    if 0.0 < found.threshold < 1.0:
        return None
    every = "positive" if found.threshold <= 0.0 else "negative"
    return (
        f"The best threshold found is {found.threshold:g}: the model calls every row {every} "
        f"(positive: {plain_label(decision.positive)!r}), so it decides nothing. The goal is "
        "met only by not deciding; check the costs or the minimum, or try a better model."
    )


def wrap(pipeline: Any, decision: Decision, threshold: float, X: Any, y: Any) -> Any:
    """The fitted ``pipeline`` frozen inside a ``FixedThresholdClassifier`` at ``threshold``.

    Fitting the wrapper refits nothing (``FrozenEstimator.fit`` is a no-op); it only records
    the input columns and checks the target is binary. ``predict`` gives ``positive`` where its
    probability is at least ``threshold``.
    """
    return FixedThresholdClassifier(
        FrozenEstimator(pipeline),
        threshold=threshold,
        pos_label=decision.positive,
        response_method="predict_proba",
    ).fit(X, y)


def inner_pipeline(model: Any) -> Any:
    """The model inside threshold wrappers (``FixedThresholdClassifier``,
    ``TunedThresholdClassifierCV``, ``FrozenEstimator``), or ``model`` itself."""
    for _ in range(10):  # a bounded unwrap: a hostile file could nest without end
        if isinstance(model, FixedThresholdClassifier | TunedThresholdClassifierCV):
            fitted = getattr(model, "estimator_", None)
            model = model.estimator if fitted is None else fitted
        elif isinstance(model, FrozenEstimator):
            model = model.estimator
        else:
            return model
    return model


def threshold_step(model: Any) -> str:
    """The wrapper as one step of a model's description: "threshold: FixedThresholdClassifier
    (0.23 on 'malignant')"."""
    words = type(model).__name__
    at = getattr(model, "threshold", None)
    if isinstance(at, int | float) and not isinstance(at, bool):
        words += f" ({at:.3g} on {plain_label(getattr(model, 'pos_label', None))!r})"
    return f"threshold: {words}"


def decisions(proba: np.ndarray, classes: np.ndarray, decision: Decision,
              threshold: float) -> np.ndarray:  # fmt: skip
    """Class labels (n,) from probabilities (n, 2): ``positive`` where its probability is at
    least ``threshold`` (as ``FixedThresholdClassifier.predict`` decides)."""
    index = list(classes).index(decision.positive)
    negative = classes[1 - index]
    return np.where(proba[:, index] >= threshold, decision.positive, negative)


def cost_per_row(y_true: Any, y_pred: Any, decision: Decision) -> float:
    """The mean cost of the mistakes in ``y_pred`` against ``y_true`` (both (n,))."""
    return _cost_per_row(
        np.asarray(y_true), np.asarray(y_pred), pos_label=decision.positive,
        fp_cost=decision.fp_cost, fn_cost=decision.fn_cost,
    )  # fmt: skip


def plain_label(label: Any) -> Any:
    """A class label as plain Python (numpy scalars become ints, floats, bools)."""
    return label.item() if isinstance(label, np.generic) else label


def positive_default(y: pd.Series) -> Any:
    """The class a person most likely calls "positive": the less frequent one."""
    return plain_label(y.value_counts().idxmin())


def summary_lines(record: DecisionRecord) -> list[str]:
    """What a tuned threshold achieved, in sentences (Markdown) for the Train page; the class
    name is shown literally (``lib.literal``)."""
    at, positive = f"{record.threshold:.3g}", literal(repr(record.positive))
    lines = []
    if record.goal == "cost" and record.cost_at_threshold is not None:
        assert record.fp_cost is not None and record.fn_cost is not None  # parse_decision
        default = (
            f", against {record.cost_at_default:.3g} at the default {DEFAULT_THRESHOLD:g}"
            if record.cost_at_default is not None
            else ""
        )
        lines.append(
            f"At **{at}** the expected cost is **{record.cost_at_threshold:.3g} per row**"
            f"{default} (cross-validated on all rows; a false positive costs "
            f"{record.fp_cost:g}, a false negative {record.fn_cost:g})."
        )
        held, held_default = record.holdout_cost_at_threshold, record.holdout_cost_at_default
        if held is not None and held_default is not None:
            lines.append(
                f"On the held-out rows, with the threshold tuned without them: {held:.3g} per "
                f"row, against {held_default:.3g} at {DEFAULT_THRESHOLD:g}."
            )
    elif record.goal != "cost":
        measure = "precision" if record.goal == "min_precision" else "recall"
        other = "recall" if record.goal == "min_precision" else "precision"
        index = _nearest(record.curve_thresholds, record.threshold)
        value = record.curve_objective[index] if index is not None else None
        if record.reached and value is not None:
            lines.append(
                f"At **{at}** the {measure} is at least {record.value:g} in every "
                f"cross-validation fold, and the {other} is **{value:.3g}** on average."
            )
        else:
            lines.append(
                f"No threshold gave a {measure} of {record.value:g} in every "
                f"cross-validation fold; the model uses **{at}**, the closest."
            )
    lines.append(
        f"The saved model says {positive} where that class's probability is at least {at}: "
        "`joblib.load(path).predict(df)` in a notebook makes the same decisions."
    )
    return lines


# --- scorers: module-level functions, so the folds can run in worker processes ---------------


def _cost_per_row(y_true: np.ndarray, y_pred: np.ndarray, pos_label: Any, fp_cost: float,
                  fn_cost: float) -> float:  # fmt: skip
    actual, said = np.asarray(y_true) == pos_label, np.asarray(y_pred) == pos_label
    fp, fn = np.sum(said & ~actual), np.sum(~said & actual)
    return float((fp * fp_cost + fn * fn_cost) / max(len(actual), 1))


def _negative_cost(y_true: np.ndarray, y_pred: np.ndarray, pos_label: Any, fp_cost: float,
                   fn_cost: float) -> float:  # fmt: skip
    return -_cost_per_row(y_true, y_pred, pos_label, fp_cost, fn_cost)


def _constrained(y_true: np.ndarray, y_pred: np.ndarray, pos_label: Any, goal: str,
                 value: float, penalty: float) -> float:  # fmt: skip
    """The measure to maximise where the constraint holds (in [0, 1]), else below ``-penalty``.

    With ``penalty`` the number of folds, the folds' mean is >= 0 only where every fold met the
    constraint, and otherwise larger where the shortfall is smaller.
    """
    actual, said = np.asarray(y_true) == pos_label, np.asarray(y_pred) == pos_label
    tp = np.sum(said & actual)
    precision = tp / said.sum() if said.any() else 0.0
    recall = tp / actual.sum() if actual.any() else 0.0
    held, other = (precision, recall) if goal == "min_precision" else (recall, precision)
    return float(other) if held >= value else float(held - value - penalty)


def _scorer(decision: Decision, folds: int) -> Any:
    if decision.goal == "cost":
        return make_scorer(
            _negative_cost, pos_label=decision.positive,
            fp_cost=decision.fp_cost, fn_cost=decision.fn_cost,
        )  # fmt: skip
    return make_scorer(
        _constrained, pos_label=decision.positive, goal=decision.goal, value=decision.value,
        penalty=float(folds),
    )  # fmt: skip


# --- helpers ------------------------------------------------------------------------------------

_COST_WORDS = {"fp_cost": "a false positive", "fn_cost": "a false negative"}


def _measure(goal: str) -> str:
    return "precision" if goal == "min_precision" else "recall"


def _cost(value: object, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 <= value <= MAX_COST
    ):
        raise TrainingError(
            f"The cost of {what} must be a number from 0 to {MAX_COST:,.0f}; it is {value!r}."
        )
    return float(value)


def _known_class(positive: object, classes: list[Any]) -> Any:
    """The class label ``positive`` names (the model's own value: 1, not "1")."""
    for label in classes:
        if plain_label(label) == positive or str(plain_label(label)) == str(positive):
            return label
    names = ", ".join(repr(plain_label(c)) for c in classes)
    raise TrainingError(
        f"The positive class {positive!r} is not one of the target's classes ({names}); pick "
        "one of them."
    )


def _nearest(values: list[float], at: float) -> int | None:
    if not values:
        return None
    return int(np.argmin(np.abs(np.asarray(values) - at)))
