"""What training records about the rows and the model, and what it warns about.

Facts that need no model (the training summaries, the data fingerprint, the leakage check)
are worked out while the final fit runs; ``model_metadata`` gathers them with the figures into
the record stored in the model file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from lib import metadata
from lib.catalog import ModelSpec
from lib.metrics import LABELS, PRIMARY_METRIC, is_better
from lib.problem import Prepared, training_frame
from lib.sampling import shuffled_indices
from lib.schema import (
    CLASSIFICATION,
    CvFigure,
    EstimatorRecord,
    Figures,
    ModelMetadata,
    TrainingData,
    TrainingSummary,
)

if TYPE_CHECKING:
    from lib.training import Options

LEAKAGE_SAMPLE_ROWS = 5_000
LEAKAGE_THRESHOLD = 0.99


@dataclass(frozen=True)
class DataFacts:
    """What the model file and the warnings say about the training rows (no model needed)."""

    features: list[TrainingSummary]
    fingerprint: str
    leakage: list[str]


def data_facts(problem: Prepared, options: Options) -> DataFacts:
    return DataFacts(
        features=metadata.training_summaries(problem.X, problem.groups),
        fingerprint=metadata.frame_fingerprint(
            training_frame(problem.X, problem.y, problem.target)
        ),
        leakage=leakage_warnings(problem, options) if options.check_leakage else [],
    )


def training_warnings(
    problem: Prepared, metrics: dict[str, float], baseline: dict[str, float]
) -> list[str]:
    notes = []
    if problem.n_dropped_missing_target:
        notes.append(
            f"{problem.n_dropped_missing_target:,} rows with no value in '{problem.target}' "
            "were left out of training."
        )
    primary = PRIMARY_METRIC[problem.task]
    if metrics and baseline and not is_better(primary, metrics[primary], baseline[primary] + 1e-9):
        notes.append(
            f"The model's {LABELS[primary]} ({metrics[primary]:.3f}) is no better than always "
            f"guessing ({baseline[primary]:.3f}). The features may not carry information about "
            f"'{problem.target}', or the model needs other settings."
        )
    return notes


def leakage_warnings(problem: Prepared, options: Options) -> list[str]:
    """Flag a feature that on its own predicts the target almost perfectly on unseen rows."""
    n = min(len(problem.y), LEAKAGE_SAMPLE_ROWS)
    if n < 20:
        return []
    # Random order: the first half of the sample trains each tree, the second half tests it.
    sample = shuffled_indices(len(problem.y), n, options.random_state)
    y = problem.y.iloc[sample].to_numpy()
    if problem.task == CLASSIFICATION and pd.Series(y).value_counts(normalize=True).max() > 0.95:
        return []  # one class dominates: near-perfect accuracy says nothing
    rows = problem.X.iloc[sample]
    half = n // 2
    notes = []
    for name in problem.features:
        column = rows[[name]]
        if name in problem.groups["numeric"]:
            x = column.to_numpy(dtype="float64", na_value=np.nan)
            x = np.nan_to_num(x, nan=np.nanmedian(x) if np.isfinite(x).any() else 0.0)
        else:
            x = OrdinalEncoder().fit_transform(column.astype(str))
        if problem.task == CLASSIFICATION:
            tree = DecisionTreeClassifier(max_depth=6, random_state=0)
        else:
            tree = DecisionTreeRegressor(max_depth=6, random_state=0)
        tree.fit(x[:half], y[:half])
        fit_score = tree.score(x[half:], y[half:])
        if fit_score >= LEAKAGE_THRESHOLD:
            what = "accuracy" if problem.task == CLASSIFICATION else "R²"
            notes.append(
                f"'{name}' alone predicts '{problem.target}' almost perfectly ({what} "
                f"{fit_score:.3f} on unseen rows). If it is computed from the target or only "
                "known after the fact, untick it: otherwise these figures are too good to be true."
            )
    return notes


def model_metadata(
    problem: Prepared,
    spec: ModelSpec,
    options: Options,
    pipeline: Pipeline,
    facts: DataFacts,
    metrics: dict[str, float],
    baseline: dict[str, float],
    cv_scores: dict[str, list[float]],
    intervals: dict[str, tuple[float, float]],
) -> ModelMetadata:
    estimator = pipeline.named_steps["model"]
    plain = metadata.to_plain  # numpy scalars from the scorers become Python numbers
    return ModelMetadata(
        task=problem.task,
        target=problem.target,
        classes=plain(problem.classes),
        features=facts.features,
        left_out=dict(problem.left_out),
        model=EstimatorRecord(
            estimator=type(estimator).__name__,
            key=spec.key,
            label=spec.label,
            params={k: repr(v) for k, v in sorted(options.params.items())},
        ),
        figures=Figures(
            primary=PRIMARY_METRIC[problem.task],
            holdout=plain(metrics),
            baseline=plain(baseline),
            cv={
                name: CvFigure(float(np.mean(v)), float(np.std(v)), plain(v))
                for name, v in cv_scores.items()
            },
            intervals={name: (float(low), float(high)) for name, (low, high) in intervals.items()},
        ),
        validation={
            "test_size": options.test_size,
            "cv_folds": options.cv_folds,
            "random_state": options.random_state,
        },
        training_data=TrainingData(
            name=options.source_name,
            rows=len(problem.y),
            fingerprint=facts.fingerprint,
            rows_dropped_missing_target=problem.n_dropped_missing_target,
        ),
        versions=metadata.library_versions(),
        created_at=metadata.now_iso(),
    )
