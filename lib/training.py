"""Training a scikit-learn pipeline on a person's table, with honest validation.

The problem is prepared by ``lib.problem``; what training records and warns about is in
``lib.training_facts``.

``train`` holds out a stratified test split, cross-validates on the rest, scores a dummy
baseline the same way, warns about likely leakage, then refits the final pipeline on every
row. ``compare_models`` cross-validates several catalog models and ranks them.

Both take an optional time budget (``budget_s``, seconds from the call): no cross-validation
fold (``train``) or candidate (``compare_models``) starts once it is spent, and what finished is
kept. A fit that has started is never stopped midway; the job layer enforces a hard limit.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from lib import catalog, conformal, metadata, parallel, self_check, slices, threshold, uncertainty
from lib.catalog import ModelSpec
from lib.decision_record import DecisionRecord
from lib.errors import TrainingError
from lib.metrics import PRIMARY_METRIC, score
from lib.preprocessing import build_preprocessor
from lib.problem import Prepared, prepare, subset
from lib.profile import ColumnProfile
from lib.sampling import shuffled_indices
from lib.schema import (
    CLASSIFICATION,
    ModelMetadata,
    SliceScan,
    Task,
)
from lib.training_facts import data_facts, model_metadata, training_warnings

Progress = Callable[[float, str], None]
COMPARE_SAMPLE_ROWS = 20_000


@dataclass(frozen=True)
class Holdout:
    """Predictions on the held-out rows, for the first plots: arrays of shape (n_test,)."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None
    classes: np.ndarray | None


@dataclass(frozen=True)
class TrainingResult:
    """A trained model and the evidence of how good it is.

    ``metrics`` and ``baseline_metrics`` are holdout figures; ``cv_scores`` maps each metric to
    its per-fold values on the training part; ``pipeline`` is refitted on all usable rows and
    carries ``metadata`` (see ``lib.metadata``). ``metric_intervals`` maps a metric to its 95 %
    interval [low, high] (``lib.uncertainty``): a bootstrap over the held-out rows around
    ``metrics``, or, with no holdout, the cross-validation spread around the folds' mean.
    """

    pipeline: Any  # a Pipeline, or a FixedThresholdClassifier around one (lib.threshold)
    task: Task
    target: str
    model_key: str
    features: list[str]
    left_out: dict[str, str]
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    cv_scores: dict[str, list[float]]
    holdout: Holdout | None
    warnings: list[str]
    metadata: ModelMetadata
    seconds: float
    n_rows: int
    n_dropped_missing_target: int
    metric_intervals: dict[str, list[float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    """How to validate: ``test_size`` 0 skips the holdout, ``cv_folds`` 0 skips cross-validation."""

    test_size: float = 0.2
    cv_folds: int = 5
    random_state: int = 0
    check_leakage: bool = True
    source_name: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    # A binary classifier's decision goal as plain data (lib.threshold.Decision.parse); None
    # keeps scikit-learn's default threshold.
    decision: dict[str, Any] | None = None


def train(
    df: pd.DataFrame,
    target: str,
    *,
    features: list[str] | None = None,
    task: str | None = None,
    model: str = catalog.DEFAULT_MODEL,
    options: Options | None = None,
    profiles: list[ColumnProfile] | None = None,
    progress: Progress | None = None,
    budget_s: float | None = None,
) -> TrainingResult:
    """Train ``model`` (a catalog key) to predict ``target`` from ``features`` of ``df``.

    With ``budget_s`` (seconds), cross-validation folds stop starting once it is spent: the
    folds that finished are kept (at least 2, else cross-validation is skipped) and a warning
    says so. The holdout scoring and the final fit always run.

    With ``options.decision`` (binary classification only) the decision threshold is tuned by
    cross-validation (``lib.threshold``): on the training part for the holdout figures, which
    are then the thresholded decisions', and on all rows for the final model, which is saved
    as a ``FixedThresholdClassifier`` around the fitted pipeline. The cross-validation figures
    stay at the default threshold (tuning inside every fold would cost folds x folds fits).
    """
    started = time.perf_counter()
    deadline = _Deadline(budget_s) if budget_s is not None else None
    options = options or Options()
    report = progress or (lambda fraction, message: None)
    problem = prepare(df, target, features, task, profiles)
    spec = catalog.get_model(problem.task, model)
    pipeline = make_pipeline(problem, spec, options)
    decision = _decision(options, problem, pipeline)
    n_rows = len(problem.y)

    folds = _folds(problem, options)
    n_steps = len(folds) + (1 if options.test_size else 0) + 1

    def report_fold(i: int) -> None:
        # Called as fold i is scored; the next phase reports the last fold's end.
        if i + 1 < len(folds):
            report((i + 1) / n_steps, f"Cross-validation fold {i + 2} of {len(folds)}")

    if folds:
        report(0.0, f"Cross-validation fold 1 of {len(folds)}")
    # Out-of-fold predictions calibrate the prediction intervals only when the holdout is too
    # small to do it alone (lib.conformal); on large tables they are not even kept.
    n_holdout = int(np.ceil(options.test_size * n_rows)) if options.test_size else 0
    out_of_fold: list[Holdout] | None = [] if n_holdout < conformal.HOLDOUT_ALONE_ROWS else None
    cv_scores = _cross_validate(pipeline, problem, folds, report_fold, deadline, out_of_fold)
    cv_scores, budget_notes = _kept_folds(cv_scores, len(folds), budget_s)
    step = len(folds)

    metrics, baseline_metrics, holdout, held_out_rows = {}, {}, None, None
    holdout_threshold = threshold.DEFAULT_THRESHOLD
    if options.test_size:
        report(step / n_steps, "Scoring on the held-out rows")
        train_idx, test_idx = _holdout_split(problem, options)
        if decision is None:
            fitted = _fit_and_score(pipeline, problem, train_idx, test_idx)
        else:
            report(step / n_steps, "Tuning the decision threshold, then scoring the held-out rows")
            fitted, holdout_threshold = _tuned_fit_and_score(
                pipeline, problem, train_idx, test_idx, decision, options
            )
        metrics, holdout = fitted.metrics, fitted.holdout
        held_out_rows = problem.X.iloc[test_idx]
        baseline = Pipeline([("model", _dummy(problem.task))])
        baseline_metrics = _fit_and_score(baseline, problem, train_idx, test_idx).metrics
        step += 1

    report(step / n_steps, f"Fitting the final model on all {n_rows:,} rows")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="training-data-facts") as pool:
        # Facts about the rows need no model: work them out while the final fit runs, which
        # leaves a core idle much of the time (on a million rows this hides ~0.3 s).
        pending_facts = pool.submit(data_facts, problem, options)
        pending_slices = pool.submit(_slice_scan, problem.task, held_out_rows, holdout, options)
        if decision is None:
            converged = _fit(pipeline, problem.X, problem.y)
        else:
            search = threshold.tuner(
                pipeline, decision, _tuning_folds(problem.y, options), options.random_state
            )
            converged = _fit(search, problem.X, problem.y)
            pipeline, found = search.estimator_, threshold.tuned(search, decision)
    facts = pending_facts.result()
    _predict_on_one_thread(pipeline)

    intervals = _intervals(problem.task, metrics, holdout, cv_scores, options)
    notes = budget_notes + training_warnings(problem, metrics, baseline_metrics) + facts.leakage
    if not converged:
        notes.append(
            f"{spec.label} stopped before it converged. Its figures may improve with more "
            "iterations (Hyperparameters), or with scaled or fewer features."
        )
    meta = model_metadata(
        problem, spec, options, pipeline, facts, metrics, baseline_metrics, cv_scores, intervals
    )
    calibration = _conformal_calibration(problem.task, out_of_fold or [], holdout, pipeline)
    meta = dataclasses.replace(meta, prediction_intervals=calibration)
    saved: Any = pipeline
    if decision is not None:
        if not found.reached:
            notes.append(threshold.unreachable_note(decision))
        elif note := threshold.one_class_note(decision, found):
            notes.append(note)
        record = _decision_record(decision, found, holdout, holdout_threshold)
        meta = dataclasses.replace(meta, decision=record)
        saved = threshold.wrap(pipeline, decision, found.threshold, problem.X, problem.y)
    # The check rows record what the saved model decides: with a threshold, the wrapper's.
    check = self_check.build(
        saved, problem.X, problem.y, problem.task, problem.groups, options.random_state
    )
    meta = dataclasses.replace(
        meta, warnings=notes, slices=pending_slices.result(), self_check=check
    )
    metadata.attach(saved, meta)
    report(1.0, "Done")
    return TrainingResult(
        pipeline=saved,
        task=problem.task,
        target=target,
        model_key=spec.key,
        features=problem.features,
        left_out=problem.left_out,
        metrics=metrics,
        baseline_metrics=baseline_metrics,
        cv_scores=cv_scores,
        holdout=holdout,
        warnings=notes,
        metadata=meta,
        seconds=time.perf_counter() - started,
        n_rows=n_rows,
        n_dropped_missing_target=problem.n_dropped_missing_target,
        metric_intervals={name: [low, high] for name, (low, high) in intervals.items()},
    )


def make_pipeline(problem: Prepared, spec: ModelSpec, options: Options) -> Pipeline:
    """The unfitted preprocessing + estimator pipeline for ``problem``."""
    estimator = spec.build(random_state=options.random_state, **options.params)
    n_categorical = len(problem.groups["categorical"])
    if spec.native_categorical and n_categorical:
        # The preprocessor puts categorical columns first (lib.preprocessing).
        estimator.set_params(categorical_features=list(range(n_categorical)))
    return Pipeline(
        [("preprocess", build_preprocessor(problem.groups, spec)), ("model", estimator)]
    )


def compare_models(
    df: pd.DataFrame,
    target: str,
    *,
    features: list[str] | None = None,
    task: str | None = None,
    model_keys: list[str] | None = None,
    options: Options | None = None,
    profiles: list[ColumnProfile] | None = None,
    progress: Progress | None = None,
    budget_s: float | None = None,
) -> pd.DataFrame:
    """Cross-validate several catalog models with their default settings and rank them.

    Returns a DataFrame, best first, with columns model (key), name, the primary metric's mean
    and std over folds, every other metric's mean, and fit seconds. On more than
    ``COMPARE_SAMPLE_ROWS`` rows a random sample of that size is used (``attrs["sampled"]``).
    With ``budget_s`` (seconds), no candidate starts once it is spent (they go a batch of
    ``parallel.n_jobs()`` at a time): the board holds those that finished,
    ``attrs["stopped_early"]`` is True and ``attrs["skipped"]`` lists the keys not run.
    """
    deadline = _Deadline(budget_s) if budget_s is not None else None
    options = options or Options()
    report = progress or (lambda fraction, message: None)
    problem = prepare(df, target, features, task, profiles)
    sampled = len(problem.y) > COMPARE_SAMPLE_ROWS
    if sampled:
        rows = shuffled_indices(len(problem.y), COMPARE_SAMPLE_ROWS, options.random_state)
        problem = subset(problem, rows)
    specs = (
        [catalog.get_model(problem.task, key) for key in model_keys]
        if model_keys
        else list(catalog.models_for(problem.task))
    )
    folds = _folds(problem, Options(cv_folds=max(options.cv_folds, 2), test_size=0.0))
    primary = PRIMARY_METRIC[problem.task]
    pipelines = [
        make_pipeline(problem, spec, Options(random_state=options.random_state)) for spec in specs
    ]
    # Every candidate's every fold is one task, so the pool stays busy across candidates.
    tasks = [(p, problem, train_idx, test_idx) for p in pipelines for train_idx, test_idx in folds]
    report(0.0, f"Cross-validating {specs[0].label}")
    scored: list[tuple[dict[str, float], float]] = []
    for done, found in enumerate(_results_within(tasks, deadline, len(folds)), start=1):
        scored.append(found)
        if done < len(tasks):
            report(done / len(tasks), f"Cross-validating {specs[done // len(folds)].label}")
    k = len(folds)
    board_rows = [
        _board_row(spec, primary, scored[i * k : (i + 1) * k])
        for i, spec in enumerate(specs[: len(scored) // k])
    ]
    skipped = [spec.key for spec in specs[len(board_rows) :]]
    if not board_rows:
        raise TrainingError(_budget_too_short(budget_s or 0.0, deadline))
    report(1.0, "Done")
    board = pd.DataFrame(board_rows).sort_values(
        f"{primary} mean", ascending=False, ignore_index=True
    )
    board.attrs["sampled"] = COMPARE_SAMPLE_ROWS if sampled else 0
    board.attrs["primary"] = primary
    board.attrs["stopped_early"] = bool(skipped)
    board.attrs["skipped"] = skipped
    return board


# --- internals --------------------------------------------------------------------------------


class _Deadline:
    """``budget_s`` seconds from now, by ``time.perf_counter`` (``_clock``, for the tests)."""

    def __init__(self, budget_s: float) -> None:
        self.budget_s = budget_s
        self.started = _clock()

    def elapsed(self) -> float:
        return _clock() - self.started

    def spent(self) -> bool:
        return self.elapsed() >= self.budget_s


_clock = time.perf_counter


def _seconds(value: float) -> str:
    """A budget or duration as a person reads it: 60 -> "60 s", 0.25 -> "0.25 s"."""
    return f"{value:,.3g} s" if value < 100 else f"{value:,.0f} s"


def _budget_too_short(budget_s: float, deadline: _Deadline | None) -> str:
    spent = deadline.elapsed() if deadline else 0.0
    return (
        f"The time budget of {_seconds(budget_s)} was spent before the first model could "
        f"start (reading and preparing the table took {_seconds(spent)}), so no model was "
        "compared. Allow more time, or compare fewer models on a sample of the rows."
    )


def _kept_folds(
    scores: dict[str, list[float]], n_folds: int, budget_s: float | None
) -> tuple[dict[str, list[float]], list[str]]:
    """The cross-validation scores to report, and the warning when the budget cut them short.

    ``scores`` maps metric -> the values of the folds that finished (fewer than ``n_folds``
    when the time budget ran out); fewer than 2 finished folds are dropped altogether.
    """
    n_done = len(next(iter(scores.values()), []))
    if n_done == n_folds:
        return scores, []
    budget = _seconds(budget_s or 0.0)
    if n_done >= 2:
        return scores, [
            f"The time budget of {budget} ran out after {n_done} of {n_folds} cross-validation "
            f"folds; the figures use those {n_done}."
        ]
    return {}, [
        f"The time budget of {budget} ran out after {n_done} of {n_folds} cross-validation "
        "folds, too few to cross-validate, so cross-validation was skipped; the held-out rows' "
        "figures still stand. Allow more time for cross-validated figures."
    ]


def _board_row(
    spec: ModelSpec, primary: str, fold_results: list[tuple[dict[str, float], float]]
) -> dict[str, Any]:
    """One leaderboard row from a candidate's (metrics, seconds) per fold."""
    fold_scores: dict[str, list[float]] = {}
    for metrics, _ in fold_results:
        for name, value in metrics.items():
            fold_scores.setdefault(name, []).append(value)
    row: dict[str, Any] = {"model": spec.key, "name": spec.label}
    row[f"{primary} mean"] = float(np.mean(fold_scores[primary]))
    row[f"{primary} std"] = float(np.std(fold_scores[primary]))
    row |= {name: float(np.mean(v)) for name, v in fold_scores.items() if name != primary}
    # Fit and scoring time summed over folds: the same figure however many workers ran them.
    row["seconds"] = sum(seconds for _, seconds in fold_results)
    return row


@dataclass(frozen=True)
class _Fitted:
    metrics: dict[str, float]
    holdout: Holdout


def _cross_validate(
    pipeline: Pipeline,
    problem: Prepared,
    folds: list[tuple[np.ndarray, np.ndarray]],
    on_fold: Callable[[int], None] | None = None,
    deadline: _Deadline | None = None,
    predictions: list[Holdout] | None = None,
) -> dict[str, list[float]]:
    """Per-fold scores of ``pipeline`` on ``problem``: metric name -> one value per fold.

    For each fold (train positions, test positions) of ``folds`` a fresh clone of ``pipeline``
    is fitted on the train rows and scored (``lib.metrics.score``) on the test rows, on
    ``lib.parallel`` workers; scores are in fold order and ``pipeline`` itself stays unfitted.
    ``on_fold(i)`` is called here once fold ``i`` is scored, in fold order. With a
    ``deadline``, no fold starts once it is spent: the lists then hold the folds that finished.
    Given ``predictions``, each finished fold's out-of-fold predictions are appended to it.
    """
    scores: dict[str, list[float]] = {}
    work = _score_fold if predictions is None else _score_fold_keeping_predictions
    results = _results_within(
        [(pipeline, problem, train_idx, test_idx) for train_idx, test_idx in folds],
        deadline,
        work=work,
    )
    for i, (metrics, _, *kept) in enumerate(results):
        if predictions is not None:
            predictions.extend(kept)
        for name, value in metrics.items():
            scores.setdefault(name, []).append(value)
        if on_fold:
            on_fold(i)
    return scores


def _fold_results(
    tasks: list[tuple[Pipeline, Prepared, np.ndarray, np.ndarray]],
    work: Callable[..., Any] | None = None,
) -> Iterator[Any]:
    """``work(*task)`` (default ``_score_fold``) for each task, in task order, on
    ``lib.parallel`` workers."""
    jobs = min(parallel.n_jobs(), len(tasks))
    if jobs > 1:
        # The pool is the parallelism: a forest's own threads would only compete for its cores.
        tasks = [(_single_threaded(p), *rest) for p, *rest in tasks]
    return parallel.in_order(work or _score_fold, tasks, jobs)


def _results_within(
    tasks: list[tuple[Pipeline, Prepared, np.ndarray, np.ndarray]],
    deadline: _Deadline | None,
    per_unit: int = 1,
    work: Callable[..., Any] | None = None,
) -> Iterator[Any]:
    """``_fold_results(tasks, work)``, but no task starts once ``deadline`` is spent.

    Without a deadline all tasks go to the pool at once. With one, they go a batch at a time,
    a batch being ``parallel.n_jobs()`` units of ``per_unit`` consecutive tasks (a candidate's
    folds), and the deadline is looked at before each batch, the first included.
    """
    if deadline is None:
        yield from _fold_results(tasks, work)
        return
    size = parallel.n_jobs() * max(per_unit, 1)
    for start in range(0, len(tasks), size):
        if deadline.spent():
            return
        yield from _fold_results(tasks[start : start + size], work)


def _score_fold(
    pipeline: Pipeline, problem: Prepared, train_idx: np.ndarray, test_idx: np.ndarray
) -> tuple[dict[str, float], float]:
    """One cross-validation fold, run in a worker: its metrics and the seconds it took."""
    started = time.perf_counter()
    metrics = _fit_and_score(pipeline, problem, train_idx, test_idx).metrics
    return metrics, time.perf_counter() - started


def _score_fold_keeping_predictions(
    pipeline: Pipeline, problem: Prepared, train_idx: np.ndarray, test_idx: np.ndarray
) -> tuple[dict[str, float], float, Holdout]:
    """``_score_fold``, plus the fold's out-of-fold predictions (no model: memory stays small)."""
    started = time.perf_counter()
    fitted = _fit_and_score(pipeline, problem, train_idx, test_idx)
    return fitted.metrics, time.perf_counter() - started, fitted.holdout


def _conformal_calibration(
    task: Task, out_of_fold: list[Holdout], holdout: Holdout | None, pipeline: Pipeline
) -> conformal.Calibration | None:
    """Prediction intervals or sets from out-of-sample predictions: the holdout's alone when it
    has ``conformal.HOLDOUT_ALONE_ROWS`` rows, else with the folds' (None with neither)."""
    parts = [holdout] if holdout is not None else []
    if len(holdout.y_true if holdout is not None else []) < conformal.HOLDOUT_ALONE_ROWS:
        parts += out_of_fold
    found = [(h.y_true, h.y_pred, h.proba, h.classes) for h in parts]
    classes = getattr(pipeline, "classes_", None) if task == CLASSIFICATION else None
    return conformal.calibrate_from_parts(task, found, classes)


def _single_threaded(pipeline: Pipeline) -> Pipeline:
    """``pipeline`` (unfitted), with its estimator's ``n_jobs`` at 1 where it has one."""
    if "n_jobs" not in pipeline.named_steps["model"].get_params():
        return pipeline
    pipeline = clone(pipeline)
    pipeline.named_steps["model"].set_params(n_jobs=1)
    return pipeline


def _fit_and_score(
    pipeline: Pipeline, problem: Prepared, train_idx: np.ndarray, test_idx: np.ndarray
) -> _Fitted:
    model = clone(pipeline)
    _fit(model, problem.X.iloc[train_idx], problem.y.iloc[train_idx])
    X_test, y_test = problem.X.iloc[test_idx], problem.y.iloc[test_idx].to_numpy()
    _predict_on_one_thread(model)
    y_pred = model.predict(X_test)
    proba = classes = None
    if problem.task == CLASSIFICATION and hasattr(model, "predict_proba"):
        proba, classes = model.predict_proba(X_test), model.classes_
    metrics = score(problem.task, y_test, y_pred, proba, classes)
    return _Fitted(metrics, Holdout(y_test, np.asarray(y_pred), proba, classes))


def _decision(options: Options, problem: Prepared, pipeline: Pipeline) -> threshold.Decision | None:
    """The checked decision goal of ``options``, or None for the default threshold."""
    if options.decision is None:
        return None
    if problem.task != CLASSIFICATION:
        raise TrainingError(
            "A decision threshold is tuned only for classification; this is regression. "
            "Choose 'Default' for the decision threshold."
        )
    return threshold.Decision.parse(
        options.decision, list(problem.classes or []), hasattr(pipeline, "predict_proba")
    )


def _tuning_folds(y: pd.Series, options: Options) -> int:
    """How many stratified folds tune the threshold: the CV folds (5 with CV off), at most the
    smallest class's row count."""
    wanted = options.cv_folds or 5
    smallest = int(y.value_counts().min())
    if smallest < 2:
        raise TrainingError(
            f"The class {_class_name(y.value_counts().idxmin())} has {smallest} row(s) here, too "
            "few to tune a decision threshold by cross-validation. Add rows of that class."
        )
    return min(wanted, smallest)


def _tuned_fit_and_score(
    pipeline: Pipeline,
    problem: Prepared,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    decision: threshold.Decision,
    options: Options,
) -> tuple[_Fitted, float]:
    """Tune the threshold on the train rows, score its decisions on the test rows; the
    figures and the threshold tuned."""
    y_train = problem.y.iloc[train_idx]
    search = threshold.tuner(
        pipeline, decision, _tuning_folds(y_train, options), options.random_state
    )
    _fit(search, problem.X.iloc[train_idx], y_train)
    found = threshold.tuned(search, decision)
    model = search.estimator_
    _predict_on_one_thread(model)
    X_test, y_test = problem.X.iloc[test_idx], problem.y.iloc[test_idx].to_numpy()
    proba, classes = model.predict_proba(X_test), model.classes_
    y_pred = threshold.decisions(proba, classes, decision, found.threshold)
    metrics = score(problem.task, y_test, y_pred, proba, classes)
    return _Fitted(metrics, Holdout(y_test, y_pred, proba, classes)), found.threshold


def _decision_record(
    decision: threshold.Decision,
    found: threshold.Tuned,
    holdout: Holdout | None,
    holdout_threshold: float,
) -> DecisionRecord:
    """What the file records about the tuned threshold (``lib.decision_record``); for costs
    with held-out rows, also their cost per row at the threshold tuned on the training part
    (``holdout_threshold``) and at the default."""
    plain = decision.to_plain()
    holdout_costs: dict[str, float | None] = {}
    if decision.goal == "cost" and holdout is not None and holdout.proba is not None:
        assert holdout.classes is not None
        for key, at in (("holdout_cost_at_threshold", holdout_threshold),
                        ("holdout_cost_at_default", threshold.DEFAULT_THRESHOLD)):  # fmt: skip
            said = threshold.decisions(holdout.proba, holdout.classes, decision, at)
            holdout_costs[key] = threshold.cost_per_row(holdout.y_true, said, decision)
    return DecisionRecord(
        goal=decision.goal,
        positive=plain["positive"],
        threshold=found.threshold,
        fp_cost=plain.get("fp_cost"),
        fn_cost=plain.get("fn_cost"),
        value=plain.get("value"),
        reached=found.reached,
        curve_thresholds=found.thresholds,
        curve_objective=found.objective,
        curve_label=found.objective_label,
        cost_at_threshold=found.cost_at_threshold,
        cost_at_default=found.cost_at_default,
        **holdout_costs,
    )


def _intervals(
    task: Task,
    metrics: dict[str, float],
    holdout: Holdout | None,
    cv_scores: dict[str, list[float]],
    options: Options,
) -> uncertainty.Intervals:
    """95 % intervals of the headline figures: the holdout's by bootstrap, else the folds'."""
    if holdout is None:
        return uncertainty.cv_intervals(cv_scores)
    return uncertainty.metric_intervals(
        task, holdout.y_true, holdout.y_pred, holdout.proba, holdout.classes,
        seed=options.random_state, point=metrics,
    )  # fmt: skip


def _slice_scan(
    task: Task, rows: pd.DataFrame | None, holdout: Holdout | None, options: Options
) -> SliceScan | None:
    """The worst groups on the held-out ``rows`` (``lib.slices.scan``), for the model card."""
    if rows is None or holdout is None:
        return None
    return slices.scan(task, rows, holdout.y_true, holdout.y_pred, holdout.classes,
                       seed=options.random_state)  # fmt: skip


def _predict_on_one_thread(pipeline: Pipeline) -> None:
    """Set a fitted ``pipeline``'s estimator to predict on one thread, where it has ``n_jobs``.

    Parallel forests add up tree outputs in thread-completion order, so predictions (and the
    figures scored from them) would differ in the last bits from call to call.
    """
    if "n_jobs" in pipeline.named_steps["model"].get_params():
        pipeline.named_steps["model"].set_params(n_jobs=None)


def _fit(pipeline: Pipeline, X: pd.DataFrame, y: pd.Series) -> bool:
    """Fit ``pipeline``; return False when the estimator stopped before converging."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            pipeline.fit(X, y)
        return not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    except ValueError as error:
        # scikit-learn's messages about the data itself are meaningful to a person.
        raise TrainingError(
            f"The model could not be fitted on this data: {error}. Check the feature columns "
            "for mixed types or values that are not numbers."
        ) from error


def _folds(problem: Prepared, options: Options) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds over the training part (everything but the holdout)."""
    if not options.cv_folds:
        return []
    if options.cv_folds < 2:
        raise TrainingError("Cross-validation needs at least 2 folds (or 0 to skip it).")
    train_idx = (
        _holdout_split(problem, options)[0] if options.test_size else np.arange(len(problem.y))
    )
    y_train = problem.y.iloc[train_idx]
    if len(y_train) < options.cv_folds:
        raise TrainingError(
            f"There are {len(y_train)} training rows but {options.cv_folds} cross-validation "
            "folds were asked for; each fold needs at least one row. Use fewer folds or add rows."
        )
    if problem.task == CLASSIFICATION:
        smallest = y_train.value_counts()
        if smallest.min() < options.cv_folds:
            raise TrainingError(
                f"The class {_class_name(smallest.idxmin())} has only {smallest.min()} "
                f"training row(s), fewer than the {options.cv_folds} cross-validation folds. "
                "Lower the number of folds, add rows of that class, or remove it."
            )
        splitter = StratifiedKFold(
            options.cv_folds, shuffle=True, random_state=options.random_state
        )
    else:
        splitter = KFold(options.cv_folds, shuffle=True, random_state=options.random_state)
    return [
        (train_idx[inner_train], train_idx[inner_test])
        for inner_train, inner_test in splitter.split(np.zeros(len(y_train)), y_train)
    ]


def _holdout_split(problem: Prepared, options: Options) -> tuple[np.ndarray, np.ndarray]:
    index = np.arange(len(problem.y))
    n_test = int(np.ceil(options.test_size * len(index)))
    stratify = None
    if problem.task == CLASSIFICATION:
        counts = problem.y.value_counts()
        if counts.min() < 2:
            raise TrainingError(
                f"The class {_class_name(counts.idxmin())} has only one row, so it cannot appear "
                "in both the training and the test rows. Add rows of that class or remove it."
            )
        if n_test < len(counts):
            raise TrainingError(
                f"The test split would have {n_test} rows, fewer than the {len(counts)} "
                "classes. Raise the test share or add rows."
            )
        stratify = problem.y
    if len(index) - n_test < 2:
        raise TrainingError(
            f"With {len(index)} rows there is not enough left to train on after holding out "
            f"{options.test_size:.0%} for testing. Add rows or lower the test share."
        )
    train_idx, test_idx = train_test_split(
        index, test_size=options.test_size, random_state=options.random_state, stratify=stratify
    )
    return np.sort(train_idx), np.sort(test_idx)


def _class_name(value: Any) -> str:
    """A class label as a person wrote it: 1 or 'yes', not np.int64(1)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _dummy(task: str):
    return DummyClassifier(strategy="prior") if task == CLASSIFICATION else DummyRegressor()
