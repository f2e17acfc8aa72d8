"""Conformal prediction intervals and sets: coverage on held-out rows of real data, adaptivity,
the record in the model file, and hostile records."""

from __future__ import annotations

import copy
import io
import math

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.model_selection import train_test_split

from lib import conformal, training
from lib.display import predictions_csv
from lib.metadata import METADATA_ATTR, read_metadata, read_metadata_plain
from lib.model_info import describe_model
from lib.predict import predict, with_prediction_intervals
from lib.safe_load import load_model
from lib.samples import load_sample


def digits() -> pd.DataFrame:
    return datasets.load_digits(as_frame=True).frame


def table(name: str) -> pd.DataFrame:
    return digits() if name == "digits" else load_sample(name)


def held_out_coverage(name, target, model, seeds, levels=(0.8, 0.9), features=None):
    """Mean coverage over ``seeds`` random outer splits: train on 70 % with lib.training.train,
    apply the calibration stored in the file to the final model's predictions on the rest."""
    frame = table(name)
    shares: dict[float, list[float]] = {level: [] for level in levels}
    for seed in range(seeds):
        inner, outer = train_test_split(frame, test_size=0.3, random_state=seed)
        result = training.train(
            inner, target, model=model, features=features,
            options=training.Options(random_state=seed, check_leakage=False),
        )  # fmt: skip
        calibration = read_metadata(result.pipeline).metadata.prediction_intervals
        pipeline = result.pipeline
        for level in levels:
            if result.task == "regression":
                found = conformal.coverage(calibration, level, outer[target],
                                           pipeline.predict(outer))  # fmt: skip
            else:
                found = conformal.coverage(calibration, level, outer[target],
                                           proba=pipeline.predict_proba(outer),
                                           classes=pipeline.classes_)  # fmt: skip
            shares[level].append(found.share)
    return {level: float(np.mean(values)) for level, values in shares.items()}


# --- the quantile and the levels -----------------------------------------------------------


def test_conformal_quantile_is_the_finite_sample_rank():
    scores = np.arange(1.0, 20.0)  # 19 scores
    assert conformal.conformal_quantile(scores, 0.9) == 18.0  # ceil(20 * 0.9) = 18th
    assert conformal.conformal_quantile(scores, 0.5) == 10.0
    assert conformal.conformal_quantile(np.arange(5.0), 0.9) == math.inf  # needs the 6th of 5


def test_a_level_needs_enough_rows_and_bins_need_enough_rows():
    rng = np.random.default_rng(0)
    y_pred = rng.normal(size=30)
    cal = conformal.calibrate("regression", y_pred + rng.normal(size=30), y_pred)
    assert cal.available == [0.5, 0.8, 0.9, 0.95]  # 99 % needs 99 rows
    assert all(entry.edges == [] for entry in cal.levels)  # 30 rows: one bin
    y_pred = rng.normal(size=1000)
    cal = conformal.calibrate("regression", y_pred + rng.normal(size=1000), y_pred)
    assert len(cal.at(0.9).edges) == conformal.MAX_BINS - 1
    assert all(rows >= conformal.rows_needed(0.99) for rows in cal.at(0.99).rows)
    with pytest.raises(ValueError, match="available"):
        cal.at(0.42)


# --- coverage on held-out rows of real data -------------------------------------------------


GAPMINDER_WITHOUT_COUNTRY = ["continent", "year", "pop", "gdpPercap"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "target", "features"),
    [("diabetes", "progression", None), ("gapminder", "lifeExp", GAPMINDER_WITHOUT_COUNTRY)],
)
def test_regression_intervals_cover_near_nominal(name, target, features):
    """Measured: diabetes 81.9 % at 80 %, 91.4 % at 90 %; gapminder 81.3 %, 90.9 %."""
    coverage = held_out_coverage(name, target, "ridge", 20, features=features)
    for level, share in coverage.items():
        assert abs(share - level) <= 0.03, (level, share)


@pytest.mark.slow
def test_intervals_err_on_the_safe_side_when_the_refit_learns_much_more():
    """Gapminder with 'country' (142 countries, ~8 training rows each): the final model,
    refitted on every row, knows each country better than the holdout's model did, so the
    intervals hold the truth more often than nominal, never less (measured 82.7 % at 80 %,
    91.7 % at 90 % over these 20 splits)."""
    coverage = held_out_coverage("gapminder", "lifeExp", "ridge", 20)
    for level, share in coverage.items():
        assert level - 0.01 <= share <= level + 0.06, (level, share)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "target", "model", "seeds"),
    [
        ("digits", "target", "logistic_regression", 10),
        ("breast_cancer", "diagnosis", "logistic_regression", 20),
    ],
)
def test_prediction_sets_cover_near_nominal(name, target, model, seeds):
    coverage = held_out_coverage(name, target, model, seeds)
    for level, share in coverage.items():
        assert abs(share - level) <= 0.03, (level, share)


@pytest.mark.slow
def test_prediction_sets_on_a_tiny_table_err_on_the_safe_side():
    """Wine: 124 rows to train on, so the calibration's models (80 rows per fold) are clearly
    less sure than the final one, refitted on all 124: the sets hold the truth more often than
    nominal, never less (measured 84.2 % at 80 % and 93.4 % at 90 % over these 20 splits; a
    10-fold calibration on all rows gave 83.4 % and 92.5 %)."""
    coverage = held_out_coverage("wine", "cultivar", "logistic_regression", 20)
    for level, share in coverage.items():
        assert level - 0.01 <= share <= level + 0.06, (level, share)


# --- adaptivity -----------------------------------------------------------------------------


def widest_bin_coverage(seed: int, max_bins: int) -> tuple[float, list[float]]:
    """Gapminder, ridge: coverage at 90 % of the held-out rows whose prediction falls in the
    widest bin of a Mondrian calibration, with ``max_bins`` bins; and that calibration's
    widths."""
    frame = load_sample("gapminder")
    inner, outer = train_test_split(frame, test_size=0.3, random_state=seed)
    options = training.Options(random_state=seed, check_leakage=False)
    mondrian = training.train(inner, "lifeExp", model="ridge", options=options)
    y_pred = mondrian.pipeline.predict(outer)
    level = mondrian.metadata.prediction_intervals.at(0.9)
    widest = np.searchsorted(level.edges, y_pred, "right") == np.argmax(level.quantiles)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(conformal, "MAX_BINS", max_bins)
        result = training.train(inner, "lifeExp", model="ridge", options=options)
    low, high = conformal.intervals(result.metadata.prediction_intervals, y_pred, 0.9)
    y_true = outer["lifeExp"].to_numpy()
    return float(np.mean(((y_true >= low) & (y_true <= high))[widest])), level.quantiles


def test_intervals_are_wider_where_the_model_erred_more():
    """Gapminder's life expectancy is harder to predict for some predicted values than others:
    the bins of the prediction get different widths, and the widest bin's held-out rows are
    covered near nominal, where one width for all rows (the same calibration rows, one bin)
    misses more of them. Averaged over 5 outer splits."""
    mondrian, pooled = [], []
    for seed in range(5):
        share, widths = widest_bin_coverage(seed, conformal.MAX_BINS)
        assert len(widths) >= 3 and max(widths) > 1.5 * min(widths)
        mondrian.append(share)
        pooled.append(widest_bin_coverage(seed, 1)[0])
    assert np.mean(mondrian) >= 0.86 and np.mean(mondrian) > np.mean(pooled) + 0.05, (
        mondrian, pooled
    )  # fmt: skip


# --- sets -------------------------------------------------------------------------------------


def test_sets_follow_the_threshold_of_the_predicted_class():
    classes = ["a", "b", "c"]
    level = conformal.LevelCalibration(0.9, [], [60, 60, 60], [0.3, 0.6, 0.05])
    cal = conformal.Calibration("classification", 180, [level], classes)
    proba = np.array([
        [0.75, 0.20, 0.05],  # predicted a: 1 - p <= 0.3 -> {a}
        [0.45, 0.50, 0.05],  # predicted b: 1 - p <= 0.6 -> {b, a}
        [0.10, 0.10, 0.80],  # predicted c: 1 - 0.8 > 0.05 -> empty
    ])  # fmt: skip
    assert conformal.prediction_sets(cal, proba, 0.9) == [["a"], ["b", "a"], []]
    # Columns in another order are matched by label.
    reordered = proba[:, [2, 0, 1]]
    assert conformal.prediction_sets(cal, reordered, 0.9, ["c", "a", "b"]) == [
        ["a"], ["b", "a"], []
    ]  # fmt: skip
    found = conformal.coverage(cal, 0.9, ["a", "a", "c"], proba=proba)
    assert found.share == pytest.approx(2 / 3) and found.mean_set_size == pytest.approx(1.0)
    assert found.extra["empty"] == pytest.approx(1 / 3)


def test_sets_hold_every_class_at_a_high_enough_level_on_real_rows():
    result = training.train(load_sample("wine"), "cultivar", model="logistic_regression",
                            options=training.Options(check_leakage=False))  # fmt: skip
    cal = result.metadata.prediction_intervals
    proba = result.pipeline.predict_proba(load_sample("wine"))
    sizes = {level: np.mean([len(s) for s in conformal.prediction_sets(cal, proba, level)])
             for level in cal.available}  # fmt: skip
    assert list(sizes.values()) == sorted(sizes.values())  # higher level, larger sets
    assert cal.classes == list(result.pipeline.classes_)


# --- training stores it -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("test_size", "cv_folds", "rows"),
    [(0.2, 5, 442), (0.2, 0, 89), (0.0, 3, 442), (0.0, 0, None)],
)
def test_training_calibrates_on_every_unseen_prediction(test_size, cv_folds, rows):
    """Cross-validation's out-of-fold rows and the holdout together are every row once."""
    result = training.train(load_sample("diabetes"), "progression", model="ridge",
                            options=training.Options(test_size=test_size, cv_folds=cv_folds,
                                                     check_leakage=False))  # fmt: skip
    cal = result.metadata.prediction_intervals
    if rows is None:
        assert cal is None
    else:
        assert cal.n_rows == rows and conformal.DEFAULT_LEVEL in cal.available


def test_a_large_enough_holdout_calibrates_alone():
    """The holdout's model learnt from more rows than the folds' models: closer to the final
    one, so its scores alone give intervals nearer their nominal level."""
    result = training.train(load_sample("gapminder"), "lifeExp", model="ridge",
                            options=training.Options(check_leakage=False))  # fmt: skip
    n_holdout = math.ceil(0.2 * 1704)
    assert n_holdout >= conformal.HOLDOUT_ALONE_ROWS
    assert result.metadata.prediction_intervals.n_rows == n_holdout == len(result.holdout.y_true)


def test_compare_models_is_unchanged_by_kept_predictions():
    board = training.compare_models(load_sample("diabetes"), "progression",
                                    model_keys=["ridge", "lasso"])  # fmt: skip
    assert list(board["model"]) and "seconds" in board.columns


# --- the record in the file -------------------------------------------------------------------


@pytest.fixture(scope="module")
def iris_result():
    return training.train(load_sample("iris"), "species", model="logistic_regression",
                          options=training.Options(cv_folds=3))  # fmt: skip


@pytest.fixture(scope="module")
def diabetes_result():
    return training.train(load_sample("diabetes"), "progression", model="ridge")


@pytest.mark.parametrize("which", ["iris_result", "diabetes_result"])
def test_the_calibration_travels_in_the_file(which, request, tmp_path):
    result = request.getfixturevalue(which)
    path = tmp_path / "model.joblib"
    joblib.dump(result.pipeline, path)
    loaded = joblib.load(path)  # a file we made ourselves
    read = read_metadata(loaded)
    assert read.warnings == []
    assert read.metadata.prediction_intervals == result.metadata.prediction_intervals
    # Through the app's safe loader too: the record is plain data.
    safe = load_model(path.read_bytes(), sandbox=False)
    info = describe_model(safe.model)
    assert info.metadata.prediction_intervals == result.metadata.prediction_intervals
    # And the README's few numpy lines apply it: the record needs nothing of this app.
    record = loaded.studio_metadata_["prediction_intervals"]
    level = next(entry for entry in record["levels"] if entry["level"] == 0.9)
    rows = load_sample("iris" if which == "iris_result" else "diabetes")
    calibration = result.metadata.prediction_intervals
    if result.task == "regression":
        y_hat = loaded.predict(rows)
        half = np.asarray(level["quantiles"])[np.searchsorted(level["edges"], y_hat, "right")]
        expected = conformal.intervals(calibration, y_hat, 0.9)
        np.testing.assert_array_equal(y_hat - half, expected[0])
        np.testing.assert_array_equal(y_hat + half, expected[1])
    else:
        assert record["classes"] == list(loaded.classes_)
        proba = loaded.predict_proba(rows)
        in_set = (1 - proba) <= np.asarray(level["quantiles"])[proba.argmax(1)][:, None]
        expected = conformal.set_membership(calibration, proba, 0.9)
        np.testing.assert_array_equal(in_set, expected)


def hostile_variants(plain):
    """Records a stranger could write: each must be dropped with a warning, never crash."""
    cal = plain["prediction_intervals"]

    def changed(change):
        record = copy.deepcopy(plain)
        change(record["prediction_intervals"])
        return record

    yield "nan quantile", changed(lambda c: c["levels"][0]["quantiles"].__setitem__(0, math.nan))
    yield "negative", changed(lambda c: c["levels"][0]["quantiles"].__setitem__(0, -1.0))
    yield "text level", changed(lambda c: c["levels"][0].__setitem__("level", "0.9"))
    yield "level 1", changed(lambda c: c["levels"][0].__setitem__("level", 1.0))
    yield "short", changed(lambda c: c["levels"][0]["quantiles"].pop())
    yield "many levels", changed(lambda c: c.__setitem__("levels", c["levels"] * 10))
    yield "huge list", changed(lambda c: c["levels"][0].__setitem__("rows", [1] * 10**5))
    yield "wrong task", changed(lambda c: c.__setitem__("task", "clustering"))
    yield "not a mapping", changed(lambda c: c.clear() or c.update({"x": 1}))
    yield "bool rows", changed(lambda c: c.__setitem__("n_rows", True))
    if cal["task"] == "regression":
        yield "unsorted edges", changed(lambda c: c["levels"][2]["edges"].reverse())
        yield "inf edge", changed(lambda c: c["levels"][2]["edges"].__setitem__(0, math.inf))
    else:
        yield "other classes", changed(lambda c: c.__setitem__("classes", ["x", "y", "z"]))
        yield "twice", changed(lambda c: c.__setitem__("classes", ["setosa"] * 3))
        yield "over 1", changed(lambda c: c["levels"][0]["quantiles"].__setitem__(0, 1.5))


@pytest.mark.parametrize("which", ["iris_result", "diabetes_result"])
def test_hostile_records_are_dropped_with_a_warning(which, request):
    plain = request.getfixturevalue(which).pipeline.__dict__[METADATA_ATTR]
    for what, record in hostile_variants(plain):
        read = read_metadata_plain(record)
        assert read.metadata is not None, what  # the rest of the record stands
        assert read.metadata.prediction_intervals is None, what
        assert any("prediction intervals were ignored" in w for w in read.warnings), what


def test_a_file_without_intervals_still_reads():
    plain = training.train(load_sample("tips"), "tip", model="ridge",
                           options=training.Options(test_size=0.0, cv_folds=0))  # fmt: skip
    record = plain.pipeline.__dict__[METADATA_ATTR]
    assert "prediction_intervals" not in record
    read = read_metadata_plain(record)
    assert read.warnings == [] and read.metadata.prediction_intervals is None


# --- predictions with intervals ---------------------------------------------------------------


def test_predictions_and_csv_carry_the_interval_columns(diabetes_result):
    rows = load_sample("diabetes").head(40)
    info = describe_model(diabetes_result.pipeline)
    result = predict(diabetes_result.pipeline, rows, info)
    cal = diabetes_result.metadata.prediction_intervals
    wide = with_prediction_intervals(result, cal, 0.9, None, "progression")
    narrow = with_prediction_intervals(result, cal, 0.5, None, "progression")
    lower, upper = wide.frame["lower progression"], wide.frame["upper progression"]
    predicted = wide.frame["predicted progression"]
    assert ((lower < predicted) & (predicted < upper)).all()
    assert (narrow.frame["lower progression"] > lower).all()
    columns = list(wide.frame.columns)
    assert columns[columns.index("predicted progression") + 1] == "lower progression"
    csv = pd.read_csv(io.BytesIO(predictions_csv(wide.frame)))
    assert {"lower progression", "upper progression"} <= set(csv.columns)
    assert "lower progression" not in result.frame.columns  # the plain result is untouched


def test_prediction_set_columns(iris_result):
    rows = load_sample("iris")
    info = describe_model(iris_result.pipeline)
    result = predict(iris_result.pipeline, rows, info)
    cal = iris_result.metadata.prediction_intervals
    out = with_prediction_intervals(result, cal, 0.95, info.classes, "species")
    sets = out.frame["prediction set"]
    assert (out.frame["set size"] == sets.map(lambda s: len(s.split(" | ")) if s else 0)).all()
    predicted = out.frame["predicted species"]
    assert all(p in s.split(" | ") for p, s in zip(predicted, sets, strict=True) if s)
    csv = pd.read_csv(io.BytesIO(predictions_csv(out.frame)), keep_default_na=False)
    assert list(csv["prediction set"]) == list(sets)


def test_the_band_on_predicted_vs_actual(diabetes_result):
    from lib import plots

    rows = load_sample("diabetes")
    y_pred = diabetes_result.pipeline.predict(rows)
    cal = diabetes_result.metadata.prediction_intervals
    low, high = conformal.intervals(cal, np.tile(y_pred, 5), 0.9)  # 2,210 rows: thinned
    name = "90 % prediction interval"
    fig = plots.predicted_vs_actual(np.tile(rows["progression"], 5), np.tile(y_pred, 5),
                                    band=(low, high), band_name=name)  # fmt: skip
    band, points = fig.data[0], fig.data[1]
    assert band.fill == "toself" and band.customdata is None  # not selectable as rows
    assert len(band.x) == 2 * plots.CURVE_POINTS and len(points.x) == len(rows) * 5
    assert min(band.x) == pytest.approx(low.min(), rel=1e-6)
    assert max(band.x) == pytest.approx(high.max(), rel=1e-6)
    assert list(band.y[: plots.CURVE_POINTS]) == sorted(band.y[: plots.CURVE_POINTS])
    assert fig.layout.title.subtitle.text == "Shaded: 90 % prediction interval"
