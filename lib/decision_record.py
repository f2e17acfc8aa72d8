"""The model file's record of a tuned decision threshold (an optional part of ``ModelMetadata``).

Plain data under the metadata's "decision" key::

    {"goal": "cost", "positive": "malignant", "fp_cost": 1.0, "fn_cost": 5.0,
     "value": None, "threshold": 0.23, "reached": True,
     "curve": {"thresholds": [...], "objective": [... or None], "label": "..."},
     "cost_at_threshold": 0.41, "cost_at_default": 0.67,
     "holdout_cost_at_threshold": 0.38, "holdout_cost_at_default": 0.7}

``parse_decision`` checks types and sizes (a file may come from a stranger) and raises
``ValueError`` with what is wrong; ``lib.schema`` then drops the part with a warning.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

GOALS = ("cost", "min_precision", "min_recall")
MAX_CURVE_POINTS = 1_000
MAX_LABEL_CHARS = 300


@dataclass(frozen=True)
class DecisionRecord:
    """A binary classifier's tuned threshold and why: ``goal`` is one of ``GOALS``;
    ``threshold`` applies to ``positive``'s probability; ``curve_thresholds`` and
    ``curve_objective`` (same length) are the cross-validated objective (costs: cost per row;
    constraints: the other measure, None where the constraint failed in some fold)."""

    goal: str
    positive: Any
    threshold: float
    fp_cost: float | None = None
    fn_cost: float | None = None
    value: float | None = None
    reached: bool = True
    curve_thresholds: list[float] = field(default_factory=list)
    curve_objective: list[float | None] = field(default_factory=list)
    curve_label: str = ""
    cost_at_threshold: float | None = None
    cost_at_default: float | None = None
    holdout_cost_at_threshold: float | None = None
    holdout_cost_at_default: float | None = None

    def to_plain(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "positive": self.positive,
            "threshold": self.threshold,
            "fp_cost": self.fp_cost,
            "fn_cost": self.fn_cost,
            "value": self.value,
            "reached": self.reached,
            "curve": {
                "thresholds": list(self.curve_thresholds),
                "objective": list(self.curve_objective),
                "label": self.curve_label,
            },
            "cost_at_threshold": self.cost_at_threshold,
            "cost_at_default": self.cost_at_default,
            "holdout_cost_at_threshold": self.holdout_cost_at_threshold,
            "holdout_cost_at_default": self.holdout_cost_at_default,
        }


def parse_decision(plain: object) -> DecisionRecord:
    """The record in a file's "decision" part; raises ``ValueError`` when it is malformed."""
    if not isinstance(plain, Mapping):
        raise ValueError("the decision is not a mapping")
    goal = plain.get("goal")
    if goal not in GOALS:
        raise ValueError(f"the decision goal {goal!r} is unknown")
    positive = plain.get("positive")
    if isinstance(positive, float) and not math.isfinite(positive):
        raise ValueError("the positive class is not a label")
    if not isinstance(positive, str | int | float | bool) or len(str(positive)) > 1_000:
        raise ValueError("the positive class is not a label")
    curve = plain.get("curve") or {}
    if not isinstance(curve, Mapping):
        raise ValueError("the threshold curve is not a mapping")
    thresholds = _numbers(curve.get("thresholds", []), "the curve's thresholds", optional=False)
    objective = _numbers(curve.get("objective", []), "the curve's objective", optional=True)
    if len(thresholds) != len(objective):
        raise ValueError("the curve's thresholds and objective differ in length")
    label = curve.get("label", "")
    if not isinstance(label, str) or len(label) > MAX_LABEL_CHARS:
        raise ValueError("the curve's label is not a short text")
    reached = plain.get("reached", True)
    if not isinstance(reached, bool):
        raise ValueError("whether the goal was reached is not yes or no")
    fp_cost = _optional_number(plain.get("fp_cost"), "a false positive's cost")
    fn_cost = _optional_number(plain.get("fn_cost"), "a false negative's cost")
    value = _optional_number(plain.get("value"), "the minimum")
    if goal == "cost" and (fp_cost is None or fn_cost is None or min(fp_cost, fn_cost) < 0):
        raise ValueError("a cost goal needs two costs of at least 0")
    if goal != "cost" and (value is None or not 0 < value <= 1):
        raise ValueError("a minimum precision or recall needs a value in (0, 1]")
    return DecisionRecord(
        goal=goal,
        positive=positive,
        threshold=_share(plain.get("threshold"), "the threshold"),
        fp_cost=fp_cost,
        fn_cost=fn_cost,
        value=value,
        reached=reached,
        curve_thresholds=[t for t in thresholds if t is not None],
        curve_objective=objective,
        curve_label=label,
        **{
            key: _optional_number(plain.get(key), key.replace("_", " "))
            for key in (
                "cost_at_threshold",
                "cost_at_default",
                "holdout_cost_at_threshold",
                "holdout_cost_at_default",
            )
        },
    )


def _finite(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} is not a finite number")
    return float(value)


def _share(value: object, what: str) -> float:
    number = _finite(value, what)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{what} is outside 0..1")
    return number


def _optional_number(value: object, what: str) -> float | None:
    return None if value is None else _finite(value, what)


def _numbers(value: object, what: str, optional: bool) -> list[float | None]:
    if not isinstance(value, list) or len(value) > MAX_CURVE_POINTS:
        raise ValueError(f"{what} are not a list of at most {MAX_CURVE_POINTS:,} numbers")
    if optional:
        return [None if v is None else _finite(v, what) for v in value]
    return [_finite(v, what) for v in value]
