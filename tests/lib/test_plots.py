"""Figure builders: right kind of trace, capped point counts, honest titles, and the values
drawn checked against scikit-learn's own functions on real sample tables."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from lib import explain, plots, samples, training
from lib.metrics import at_threshold
from lib.schema import Histogram, TrainingSummary
from lib.training import Options

BIG = 300_000


def n_points(fig) -> int:
    return sum(len(trace.x) for trace in fig.data if trace.x is not None and trace.mode != "lines")


def all_points(fig) -> int:
    """Every point a figure sends: x/y values of all traces (lines too), heatmap cells."""
    total = 0
    for trace in fig.data:
        if getattr(trace, "z", None) is not None:
            total += np.asarray(trace.z).size
        else:
            total += max(len(v) if v is not None else 0 for v in (trace.x, trace.y))
    return total


def arr(values) -> np.ndarray:
    return np.asarray(values, dtype="float64")


def test_predicted_vs_actual_has_the_identity_line():
    y = np.arange(100.0)
    fig = plots.predicted_vs_actual(y, y + 1, target="price")
    assert fig.layout.title.text == "Predicted vs actual"
    assert fig.layout.xaxis.title.text == "actual price"
    line = fig.data[1]
    assert list(line.x) == [0.0, 100.0] and list(line.y) == [0.0, 100.0]


def test_predicted_vs_actual_samples_above_the_cap_and_says_so():
    y = np.random.default_rng(0).normal(size=60_000)
    fig = plots.predicted_vs_actual(y, y)
    # The cap counts every trace: 4,998 sampled rows plus the 2 points of the y = x line.
    assert n_points(fig) == plots.SCATTER_POINTS - 2 and all_points(fig) == plots.SCATTER_POINTS
    assert "random sample of 4,998 of 60,000 rows" in fig.layout.title.text


def test_confusion_matrix_counts_and_order():
    fig = plots.confusion_matrix(["a", "b", "b", "c"], ["a", "b", "c", "c"], labels=["c", "b", "a"])
    heat = fig.data[0]
    assert list(heat.x) == ["c", "b", "a"]
    assert np.asarray(heat.z).tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 1]]
    assert "3 of 4 rows right" in fig.layout.title.text


@pytest.mark.parametrize("n", [10, 1_000_000])
def test_distribution_is_aggregated(n):
    values = np.random.default_rng(1).normal(size=n)
    fig = plots.prediction_distribution(values, bins=30)
    assert len(fig.data[0].x) == 30
    assert int(np.sum(fig.data[0].y)) == n


def test_distribution_of_classes_counts_each_label():
    fig = plots.prediction_distribution(["x", "y", "y"], task="classification")
    assert list(fig.data[0].x) == ["x", "y"] and list(fig.data[0].y) == [1, 2]


def test_distribution_without_finite_values():
    fig = plots.prediction_distribution([np.nan, np.inf])
    assert "No finite predictions" in fig.layout.title.text


def test_cv_spread_one_panel_per_metric():
    fig = plots.cv_spread({"r2": [0.5, 0.6, 0.7], "mae": [1.0, 1.1, 0.9]}, {"r2": "R²"})
    assert [trace.name for trace in fig.data] == ["R²", "mae"]
    assert list(fig.data[0].y) == [0.5, 0.6, 0.7]


# --- real sample tables, trained fast (no cross-validation) --------------------------------


@pytest.fixture(scope="module")
def fitted():
    """``fitted(key)``: (frame, TrainingResult) of a fast model on sample table ``key``."""
    cache = {}

    def get(key):
        if key not in cache:
            frame = samples.load_sample(key)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = training.train(
                    frame,
                    samples.SAMPLES[key].target,
                    options=Options(cv_folds=0, params={"max_iter": 20}),
                )
            cache[key] = (frame, result)
        return cache[key]

    return get


# tips, iris (multiclass) and breast_cancer (binary) in `make test-fast`; all in `make test`.
SLOW = pytest.mark.slow
REGRESSION = ["tips", pytest.param("diabetes", marks=SLOW), pytest.param("gapminder", marks=SLOW)]
CLASSIFICATION = ["iris", pytest.param("wine", marks=SLOW), "breast_cancer"]


@pytest.mark.parametrize("key", REGRESSION)
def test_regression_scatters_draw_each_row_with_its_id(fitted, key):
    _, result = fitted(key)
    y, pred = result.holdout.y_true.astype(float), result.holdout.y_pred
    fig = plots.predicted_vs_actual(y, pred, target=result.target)
    rows = fig.data[0]
    assert np.allclose(arr(rows.x), y) and np.allclose(arr(rows.y), pred)
    assert list(rows.customdata) == list(range(len(y)))
    assert fig.layout.yaxis.title.text == f"predicted {result.target}"

    fig = plots.residuals_vs_predicted(y, pred, target=result.target, row_ids=np.arange(len(y)))
    assert fig.layout.title.text == "Residuals vs predicted"
    assert np.allclose(arr(fig.data[0].x), pred)
    assert np.allclose(arr(fig.data[0].y), y - pred)  # residual = actual - predicted
    assert fig.layout.xaxis.title.text == f"predicted {result.target}"
    assert "actual − predicted" in fig.layout.yaxis.title.text
    assert fig.layout.shapes[0].y0 == 0  # the zero line


@pytest.mark.parametrize("key", REGRESSION)
def test_residual_distribution_counts_every_residual(fitted, key):
    _, result = fitted(key)
    residual = result.holdout.y_true.astype(float) - result.holdout.y_pred
    fig = plots.residual_distribution(result.holdout.y_true, result.holdout.y_pred, bins=15)
    counts, edges = np.histogram(residual, bins=15)
    assert list(fig.data[0].y) == counts.tolist()
    assert np.allclose(arr(fig.data[0].x), (edges[:-1] + edges[1:]) / 2)
    assert f"{len(residual):,} rows" in fig.layout.title.text
    assert fig.layout.xaxis.title.text == "residual (actual − predicted)"


@pytest.mark.parametrize(
    ("key", "feature"),
    [("tips", "total_bill"), ("tips", "size"), ("tips", "day"), ("diabetes", "bmi"),
     ("gapminder", "year"), ("gapminder", "country"), ("gapminder", "continent")],
)  # fmt: skip
def test_error_by_feature_bin_means_equal_a_groupby(fitted, key, feature):
    frame, result = fitted(key)
    X = frame[result.features]
    error = np.abs(frame[result.target].to_numpy(dtype=float) - result.pipeline.predict(X))
    fig = plots.error_by_feature(X[feature], error, feature=feature, bins=10)
    values = X[feature]
    if pd.api.types.is_numeric_dtype(values) and values.nunique() > 10:
        groups = pd.qcut(values, 10, duplicates="drop")
    elif pd.api.types.is_numeric_dtype(values):
        groups = values
    else:
        top = values.value_counts().index[: plots.TOP_CATEGORIES]
        groups = values.where(values.isin(top), "other")
    expected = pd.Series(error).groupby(groups.to_numpy()).agg(["mean", "size"])
    if not pd.api.types.is_numeric_dtype(values):  # bars: most frequent first, "other" last
        order = [*top, *(["other"] if "other" in expected.index else [])]
        expected = expected.reindex(order)
    bars = fig.data[0]
    assert np.allclose(arr(bars.y), expected["mean"].to_numpy())
    assert list(bars.customdata) == expected["size"].tolist()  # row counts for the hover
    assert len(bars.x) <= plots.TOP_CATEGORIES + 1
    assert fig.layout.xaxis.title.text == feature
    assert fig.layout.yaxis.title.text == "mean |actual − predicted|"


def test_error_by_feature_gives_missing_values_their_own_bar():
    values = pd.Series([1.0, np.nan, 2.0, np.nan])
    fig = plots.error_by_feature(values, np.array([1.0, 3.0, 2.0, 5.0]), feature="x")
    assert list(fig.data[0].x) == ["1", "2", "missing"]
    assert list(fig.data[0].y) == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("key", CLASSIFICATION)
def test_confusion_matrix_counts_and_shares_match_sklearn(fitted, key):
    _, result = fitted(key)
    h = result.holdout
    expected = skm.confusion_matrix(h.y_true, h.y_pred, labels=h.classes)
    fig = plots.confusion_matrix(h.y_true, h.y_pred, labels=h.classes, target=result.target)
    assert np.asarray(fig.data[0].z).tolist() == expected.tolist()
    fig = plots.confusion_matrix(h.y_true, h.y_pred, labels=h.classes, normalize=True)
    shares = np.asarray(fig.data[0].z, dtype=float)
    assert np.allclose(shares.sum(axis=1), 1.0)
    norm = skm.confusion_matrix(h.y_true, h.y_pred, labels=h.classes, normalize="true")
    assert np.allclose(shares, norm)
    assert str(fig.data[0].text[0][0]).endswith("%")
    assert "share of each actual class" in fig.layout.title.text


@pytest.mark.parametrize("key", CLASSIFICATION)
def test_roc_curves_match_sklearn_with_the_auc_in_the_legend(fitted, key):
    _, result = fitted(key)
    h = result.holdout
    fig = plots.roc_curves(h.y_true, h.proba, h.classes)
    columns = [1] if len(h.classes) == 2 else range(len(h.classes))
    curves = fig.data[:-1]
    assert len(curves) == len(columns) and fig.data[-1].name.startswith("chance")
    for curve, i in zip(curves, columns, strict=True):
        positive = h.y_true == h.classes[i]
        fpr, tpr, _ = skm.roc_curve(positive, h.proba[:, i])
        auc = skm.roc_auc_score(positive, h.proba[:, i])
        assert curve.name == f"{h.classes[i]} (AUC {auc:.3f})"
        assert np.allclose(arr(curve.x), fpr) and np.allclose(arr(curve.y), tpr)  # not thinned
        assert (curve.x[0], curve.y[0], curve.x[-1], curve.y[-1]) == (0, 0, 1, 1)
    assert fig.layout.xaxis.title.text == "false positive rate"
    assert fig.layout.yaxis.title.text == "true positive rate"


@pytest.mark.parametrize("key", CLASSIFICATION)
def test_precision_recall_curves_match_sklearn(fitted, key):
    _, result = fitted(key)
    h = result.holdout
    fig = plots.precision_recall_curves(h.y_true, h.proba, h.classes)
    binary = len(h.classes) == 2
    columns = [1] if binary else range(len(h.classes))
    curves = [t for t in fig.data if "AP" in t.name]
    assert len(curves) == len(columns)
    for curve, i in zip(curves, columns, strict=True):
        positive = h.y_true == h.classes[i]
        precision, recall, _ = skm.precision_recall_curve(positive, h.proba[:, i])
        ap = skm.average_precision_score(positive, h.proba[:, i])
        assert curve.name == f"{h.classes[i]} (AP {ap:.3f})"
        assert np.allclose(arr(curve.x), recall) and np.allclose(arr(curve.y), precision)
    if binary:  # the chance line sits at the share of positives
        chance = next(t for t in fig.data if t.name.startswith("chance"))
        assert np.allclose(arr(chance.y), np.mean(h.y_true == h.classes[1]))
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("recall", "precision")


@pytest.mark.parametrize("key", CLASSIFICATION)
def test_calibration_matches_sklearn_calibration_curve(fitted, key):
    _, result = fitted(key)
    h = result.holdout
    fig = plots.calibration(h.y_true, h.proba, h.classes, n_bins=5)
    columns = [1] if len(h.classes) == 2 else range(len(h.classes))
    assert len(fig.data) == len(columns) + 1 and fig.data[-1].name == "perfectly calibrated"
    for curve, i in zip(fig.data[:-1], columns, strict=True):
        observed, predicted = calibration_curve(
            (h.y_true == h.classes[i]).astype(int), h.proba[:, i], n_bins=5, strategy="quantile"
        )
        assert curve.name == str(h.classes[i])
        assert np.allclose(arr(curve.x), predicted) and np.allclose(arr(curve.y), observed)
        assert sum(curve.customdata) == len(h.y_true)  # rows per bin, for the hover
    assert fig.layout.xaxis.title.text == "mean predicted probability"


@pytest.mark.parametrize("key", CLASSIFICATION)
def test_probability_distributions_one_panel_per_class(fitted, key):
    _, result = fitted(key)
    h = result.holdout
    fig = plots.probability_distributions(h.proba, h.classes, bins=10)
    assert [t.name for t in fig.data] == [str(c) for c in h.classes]
    for i, bars in enumerate(fig.data):
        counts, _ = np.histogram(h.proba[:, i], bins=np.linspace(0, 1, 11))
        assert list(bars.y) == counts.tolist()
    assert [a.text for a in fig.layout.annotations] == [str(c) for c in h.classes]


def test_probability_distributions_show_at_most_ten_classes():
    proba = np.random.default_rng(0).dirichlet(np.ones(12), size=100)
    fig = plots.probability_distributions(proba, [f"c{i}" for i in range(12)])
    assert len(fig.data) == 10 and "first 10 of 12 classes" in fig.layout.title.text


@pytest.mark.parametrize("threshold", [0.0, 0.2, 0.5, 0.77, 1.0, 1.5])
def test_at_threshold_equals_sklearn_scores(fitted, threshold):
    _, result = fitted("breast_cancer")
    h = result.holdout
    pos = h.classes[1]
    got = at_threshold(h.y_true, h.proba[:, 1], pos, threshold)
    actual, predicted = h.y_true == pos, h.proba[:, 1] >= threshold
    assert got["precision"] == pytest.approx(
        skm.precision_score(actual, predicted, zero_division=0)
    )
    assert got["recall"] == pytest.approx(skm.recall_score(actual, predicted, zero_division=0))
    assert got["f1"] == pytest.approx(skm.f1_score(actual, predicted, zero_division=0))
    tn, fp, fn, tp = skm.confusion_matrix(actual, predicted, labels=[False, True]).ravel()
    assert (got["tp"], got["fp"], got["fn"], got["tn"]) == (tp, fp, fn, tn)


def test_threshold_curve_values_and_the_marked_threshold(fitted):
    _, result = fitted("breast_cancer")
    h = result.holdout
    pos = h.classes[1]
    fig = plots.threshold_curve(h.y_true, h.proba[:, 1], pos_label=pos, threshold=0.3)
    lines = {t.name: t for t in fig.data if t.mode == "lines"}
    assert list(lines) == ["precision", "recall", "F1"]
    assert len(lines["F1"].x) <= 200
    for k in (0, 10, 30, 50, 90):
        t = lines["recall"].x[k]
        at = at_threshold(h.y_true, h.proba[:, 1], pos, t)
        assert lines["recall"].y[k] == pytest.approx(at["recall"])
        assert lines["F1"].y[k] == pytest.approx(at["f1"])
        if at["tp"] + at["fp"]:
            assert lines["precision"].y[k] == pytest.approx(at["precision"])
    marks = {t.name: t.y[0] for t in fig.data if t.mode == "markers"}
    here = at_threshold(h.y_true, h.proba[:, 1], pos, 0.3)
    assert marks == {"precision": here["precision"], "recall": here["recall"], "F1": here["f1"]}
    assert fig.layout.shapes[0].x0 == 0.3
    assert f"F1 {here['f1']:.3f}" in fig.layout.title.subtitle.text


@pytest.mark.parametrize("key", ["tips", "iris"])
def test_importance_bars_best_at_the_top_with_std_error_bars(fitted, key):
    frame, result = fitted(key)
    X = frame[result.features]
    imp = explain.feature_importance(result.pipeline, X, frame[result.target], task=result.task)
    fig = plots.importance_bars(imp, top=3)
    bars = fig.data[0]
    assert list(bars.y) == imp.table["feature"].head(3).tolist()
    assert np.allclose(arr(bars.x), imp.table["importance"].head(3))
    assert np.allclose(arr(bars.error_x.array), imp.table["std"].head(3))
    assert fig.layout.yaxis.autorange == "reversed"  # first (best) bar at the top
    assert fig.layout.title.subtitle.text == imp.note
    assert f"top 3 of {len(imp.table)}" in fig.layout.title.text


@pytest.mark.parametrize(
    ("key", "feature", "categorical"),
    [("tips", "total_bill", False), ("tips", "day", True), ("iris", "petal width (cm)", False)],
)
def test_partial_dependence_plot_average_and_ice_lines(fitted, key, feature, categorical):
    frame, result = fitted(key)
    X = frame[result.features]
    dep = explain.partial_dependence_data(result.pipeline, X, feature, categorical=categorical)
    fig = plots.partial_dependence_plot(dep, target=result.target)
    ice, average = fig.data
    assert np.allclose(arr(average.y), dep.average)
    n_lines, n_grid = dep.individual.shape
    if categorical:
        assert average.mode == "markers" and list(average.x) == [str(v) for v in dep.grid]
        assert np.allclose(arr(ice.y), dep.individual.ravel())
    else:
        assert average.line.width > ice.line.width
        ys = arr(ice.y).reshape(n_lines, n_grid + 1)  # one trace, lines split by gaps
        assert np.allclose(ys[:, :-1], dep.individual) and np.isnan(ys[:, -1]).all()
    assert fig.layout.xaxis.title.text == feature
    if result.task == "classification":
        assert fig.layout.yaxis.title.text == f"probability of species = {dep.class_label}"
    else:
        assert fig.layout.yaxis.title.text == f"predicted {result.target}"


def test_drift_overlay_numeric_shares_on_the_training_edges(fitted):
    frame, result = fitted("tips")
    summary = result.metadata.feature("total_bill")
    new = frame["total_bill"] * 1.3
    fig = plots.drift_overlay(summary, new)
    train, fresh = fig.data
    counts = np.asarray(summary.histogram.counts)
    assert np.allclose(arr(train.y), counts / counts.sum())
    edges = np.asarray(summary.histogram.edges)
    inside = new[(new >= edges[0]) & (new <= edges[-1])]
    assert np.allclose(arr(fresh.y), np.histogram(inside, bins=edges)[0] / len(new))
    outside = len(new) - len(inside)
    assert f"({outside:,} outside the training range)" in fig.layout.title.text
    assert f"{outside / len(new):.1%} of the new values" in fig.layout.title.subtitle.text


def test_drift_overlay_categorical_shares(fitted):
    frame, result = fitted("tips")
    summary = result.metadata.feature("day")
    new = pd.Series(["Sat"] * 6 + ["Mon"] * 2 + ["Fri"] * 2)
    fig = plots.drift_overlay(summary, new)
    train, fresh = fig.data
    expected = frame["day"].value_counts(normalize=True)
    assert list(train.x) == [*expected.index, "other"]
    assert np.allclose(arr(train.y[:-1]), expected.to_numpy()) and train.y[-1] == 0
    shares = dict(zip(fresh.x, fresh.y, strict=True))
    assert shares["Sat"] == 0.6 and shares["Fri"] == 0.2 and shares["other"] == pytest.approx(0.2)
    assert "2 never seen in training" in fig.layout.title.text


# --- 300,000 rows: every builder stays under the cap ---------------------------------------


@pytest.fixture(scope="module")
def big():
    rng = np.random.default_rng(7)
    y = rng.normal(50, 10, BIG)
    pred = y + rng.normal(0, 3, BIG)
    proba = rng.dirichlet([1, 1, 1], BIG)
    classes = np.array(["a", "b", "c"])
    labels = (proba.cumsum(axis=1) < rng.random((BIG, 1))).sum(axis=1)  # drawn from proba
    y_cls = classes[labels]
    binary = rng.random(BIG)
    y_bin = np.where(rng.random(BIG) < binary, "yes", "no")
    return {
        "y": y, "pred": pred, "proba": proba, "classes": classes, "y_cls": y_cls,
        "pred_cls": classes[proba.argmax(axis=1)], "p_bin": np.stack([1 - binary, binary], 1),
        "y_bin": y_bin, "numeric": pd.Series(rng.normal(size=BIG)),
        "words": pd.Series(rng.integers(0, 5_000, BIG).astype(str)),
    }  # fmt: skip


def _big_summary(big):
    counts, edges = np.histogram(big["numeric"][:1000], bins=20)
    histogram = Histogram(edges=edges.tolist(), counts=counts.tolist())
    return TrainingSummary(name="x", kind="numeric", histogram=histogram)


def _big_importance(big):
    names = big["words"].unique()  # 5,000 features
    table = pd.DataFrame({"feature": names, "importance": 1.0, "std": 0.1})
    return explain.Importance(table, "permutation", "synthetic")


def _big_dependence(big):
    lines = big["proba"][:, :1] + np.linspace(0, 1, 30)  # 300,000 ICE lines of 30 points
    return explain.PartialDependence("x", np.linspace(0, 1, 30), lines.mean(0), lines, False, None)


def _big_categories():
    categories = [(str(i), 100 - i) for i in range(50)]
    return TrainingSummary(name="w", kind="categorical", n_distinct=50, categories=categories)


BIG_BUILDERS = {
    "predicted_vs_actual": lambda b: plots.predicted_vs_actual(b["y"], b["pred"]),
    "residuals_vs_predicted": lambda b: plots.residuals_vs_predicted(b["y"], b["pred"]),
    "residual_distribution": lambda b: plots.residual_distribution(b["y"], b["pred"], bins=200),
    "error_by_feature numeric": lambda b: plots.error_by_feature(
        b["numeric"], np.abs(b["y"] - b["pred"]), feature="x"
    ),
    "error_by_feature categories": lambda b: plots.error_by_feature(
        b["words"], np.abs(b["y"] - b["pred"]), feature="w"
    ),
    "prediction_distribution": lambda b: plots.prediction_distribution(b["pred"]),
    "prediction_distribution classes": lambda b: plots.prediction_distribution(
        b["words"], task="classification"
    ),
    "confusion_matrix": lambda b: plots.confusion_matrix(b["y_cls"], b["pred_cls"]),
    "confusion_matrix many classes": lambda b: plots.confusion_matrix(
        b["words"], b["words"].str[:-1] + "0", normalize=True
    ),
    "roc_curves": lambda b: plots.roc_curves(b["y_cls"], b["proba"], b["classes"]),
    "roc_curves binary": lambda b: plots.roc_curves(b["y_bin"], b["p_bin"], ["no", "yes"]),
    "precision_recall_curves": lambda b: plots.precision_recall_curves(
        b["y_cls"], b["proba"], b["classes"]
    ),
    "calibration": lambda b: plots.calibration(b["y_cls"], b["proba"], b["classes"]),
    "probability_distributions": lambda b: plots.probability_distributions(
        b["proba"], b["classes"]
    ),
    "threshold_curve": lambda b: plots.threshold_curve(
        b["y_bin"], b["p_bin"][:, 1], pos_label="yes", threshold=0.4
    ),
    "importance_bars": lambda b: plots.importance_bars(_big_importance(b)),
    "partial_dependence_plot": lambda b: plots.partial_dependence_plot(_big_dependence(b)),
    "drift_overlay numeric": lambda b: plots.drift_overlay(_big_summary(b), b["numeric"] * 2),
    "drift_overlay categorical": lambda b: plots.drift_overlay(_big_categories(), b["words"]),
}
SAMPLED = {"predicted_vs_actual", "residuals_vs_predicted", "partial_dependence_plot"}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BIG_BUILDERS))
def test_300k_rows_draw_at_most_50k_points(big, name):
    fig = BIG_BUILDERS[name](big)
    assert 0 < all_points(fig) <= plots.MAX_POINTS
    assert all_points(fig) == plots.drawn_points(fig)
    title = fig.layout.title.text + (fig.layout.title.subtitle.text or "")
    assert ("random" in title) == (name in SAMPLED)
    if name in {"predicted_vs_actual", "residuals_vs_predicted"}:
        assert re.search(r"random sample of [\d,]+ of 300,000 rows", title)


@pytest.mark.slow
@pytest.mark.parametrize("multiclass", [True, False])
def test_300k_curves_are_thinned_but_the_auc_is_exact(big, multiclass):
    y, proba, classes = (
        (big["y_cls"], big["proba"], big["classes"])
        if multiclass
        else (big["y_bin"], big["p_bin"], np.array(["no", "yes"]))
    )
    roc = plots.roc_curves(y, proba, classes)
    pr = plots.precision_recall_curves(y, proba, classes)
    i = 0 if multiclass else 1
    positive = y == classes[i]
    assert len(skm.roc_curve(positive, proba[:, i])[0]) > plots.CURVE_POINTS
    for curve in (*roc.data[:-1], *[t for t in pr.data if "AP" in t.name]):
        assert 2 <= len(curve.x) <= plots.CURVE_POINTS
    auc = skm.roc_auc_score(positive, proba[:, i])
    ap = skm.average_precision_score(positive, proba[:, i])
    assert roc.data[0].name == f"{classes[i]} (AUC {auc:.3f})"
    assert next(t.name for t in pr.data if "AP" in t.name) == f"{classes[i]} (AP {ap:.3f})"
    first = roc.data[0]
    assert (first.x[0], first.y[0], first.x[-1], first.y[-1]) == (0, 0, 1, 1)
    # the thinned curve is a subset of the exact one
    fpr, tpr, _ = skm.roc_curve(positive, proba[:, i])
    exact = set(zip(fpr.round(12), tpr.round(12), strict=True))
    assert set(zip(arr(first.x).round(12), arr(first.y).round(12), strict=True)) <= exact


@pytest.mark.parametrize("builder", [plots.predicted_vs_actual, plots.residuals_vs_predicted])
def test_customdata_maps_a_point_back_to_its_row(big, builder):
    ids = np.arange(BIG)[::-1] + 1_000  # the caller's own row positions, not 0..n-1
    fig = builder(big["y"], big["pred"], row_ids=ids)
    rows = fig.data[0]
    assert len(rows.customdata) == len(rows.x) == len(rows.y) < BIG
    for point in (0, 1234, len(rows.x) - 1):
        position = BIG - 1 - (int(rows.customdata[point]) - 1_000)
        actual, predicted = big["y"][position], big["pred"][position]
        expected = (actual, predicted)
        if builder is plots.residuals_vs_predicted:
            expected = (predicted, actual - predicted)
        # drawn as float32: equal to the row's values to 7 significant digits
        assert (rows.x[point], rows.y[point]) == tuple(np.float32(expected))


def test_row_ids_must_match_the_rows():
    with pytest.raises(ValueError, match="row_ids"):
        plots.predicted_vs_actual([1.0, 2.0], [1.0, 2.0], row_ids=[0])


def test_tuning_scores_draws_every_candidate_against_each_setting():
    board = pd.DataFrame({
        "alpha": ["0.001", "0.1", "10.0", "0.01"], "max_depth": ["None", "12", "3", "8"],
        "round": [2, 1, 1, 2], "r2 mean": [0.8, 0.5, 0.4, 0.7],
    })  # fmt: skip
    fig = plots.tuning_scores(board, ["alpha", "max_depth"], "r2 mean", "R²")
    points = [(trace.xaxis, len(trace.x)) for trace in fig.data]
    assert sorted(points) == [("x", 2), ("x", 2), ("x2", 2), ("x2", 2)]  # rounds 1 and 2
    assert fig.layout.xaxis.type == "log"  # alpha spans four decades
    assert list(fig.layout.xaxis2.categoryarray) == ["None", "3", "8", "12"]
    assert fig.layout.yaxis.title.text == "R²"


def test_names_from_strangers_reach_plotly_escaped():
    """Plotly reads <a href>, <b> and <br> in titles, ticks, legends and hover text, and
    %{...} in a hovertemplate: class, column and category names arrive as entities."""
    link, template = '<a href="http://evil.example">x</a>', "%{y} <b>b</b>"
    y = np.array([link, template, link, template])
    fig = plots.confusion_matrix(y, y[::-1], target=link)
    by_feature = plots.error_by_feature(pd.Series(y), np.ones(4), feature=template)
    for figure in (fig, by_feature):
        spec = figure.to_json()
        assert "<a href" not in spec and "<b>" not in spec
        assert "&lt;a href=" in spec
    assert list(fig.data[0].x) == [plots.plot_text(template), plots.plot_text(link)]
    assert fig.layout.xaxis.title.text == "predicted " + plots.plot_text(link)
    assert by_feature.data[0].hovertemplate.startswith("&#37;{y} &lt;b&gt;b&lt;/b&gt; %{x}")
