"""Slices: per-group figures on real data, with intervals, worst first, small groups flagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib import plots
from lib.display import slices_frame
from lib.exploration import Exploration
from lib.metrics import score
from lib.model_info import describe_model
from lib.records import CurrentModel, TableData, sha256
from lib.slices import MIN_SLICE_ROWS, MISSING, groups_for, slice_table


@pytest.fixture(scope="module")
def tips_fit(trained, sample_frames):
    """Tips with a ridge model's predictions on every row."""
    tips = sample_frames["tips"]
    result = trained("tips", "ridge")
    return tips, tips["tip"].to_numpy(dtype=float), result.pipeline.predict(tips)


@pytest.fixture(scope="module")
def iris_fit(trained, sample_frames):
    iris = sample_frames["iris"]
    result = trained("iris", "logistic_regression")
    return iris, iris["species"].to_numpy(), result.pipeline.predict(iris)


def test_group_rows_add_up_and_each_figure_is_the_groups_own(tips_fit):
    tips, y, pred = tips_fit
    groups = groups_for(tips["day"])
    table = slice_table("regression", y, pred, None, None, groups, primary="mae")
    assert table["rows"].sum() == len(tips)
    assert table.attrs["metrics"] == ["mae", "rmse", "r2"]
    for row in table.itertuples():
        rows = (tips["day"] == row.group).to_numpy()
        assert row.mae == pytest.approx(score("regression", y[rows], pred[rows])["mae"])
    assert table.attrs["overall"] == pytest.approx(np.abs(y - pred).mean())


def test_gap_is_positive_when_worse_for_lower_and_higher_is_better(tips_fit, iris_fit):
    tips, y, pred = tips_fit
    table = slice_table("regression", y, pred, None, None, groups_for(tips["day"]), primary="mae")
    assert np.allclose(table["gap"], table["mae"] - table.attrs["overall"])  # MAE: lower better
    table = slice_table("regression", y, pred, None, None, groups_for(tips["day"]), primary="r2")
    assert np.allclose(table["gap"], table.attrs["overall"] - table["r2"])  # R²: higher better
    iris, y, pred = iris_fit
    groups = groups_for(iris["sepal width (cm)"], bins=3)
    table = slice_table("classification", y, pred, None, None, groups, primary="accuracy")
    assert np.allclose(table["gap"], table.attrs["overall"] - table["accuracy"])


@pytest.mark.parametrize("primary", ["mae", "r2"])
def test_a_corrupted_group_sorts_first(tips_fit, primary):
    tips, y, pred = tips_fit
    bad = pred.copy()
    saturday = (tips["day"] == "Sat").to_numpy()
    bad[saturday] += 3.0  # three dollars off on every Saturday tip
    table = slice_table("regression", y, bad, None, None, groups_for(tips["day"]), primary=primary)
    assert table["group"].iloc[0] == "Sat" and table["gap"].iloc[0] > 0
    assert table["gap"].iloc[0] == table["gap"].max()


def test_a_tiny_group_is_flagged_with_no_interval_and_sorts_after(tips_fit):
    tips, y, pred = tips_fit
    table = slice_table("regression", y, pred, None, None, groups_for(tips["day"]), primary="mae")
    friday = table.set_index("group").loc["Fri"]  # 19 rows
    assert friday["too_small"] and "fewer than 30 rows" in friday["note"]
    assert np.isnan(friday["low"]) and np.isnan(friday["high"])
    judged = table[~table["too_small"]]
    assert (judged["low"] <= judged["mae"]).all() and (judged["mae"] <= judged["high"]).all()
    assert table["too_small"].tolist() == sorted(table["too_small"])  # judged ones first
    assert (judged["gap"].diff().dropna() <= 0).all()  # worst first


def test_one_class_group_has_no_interval(iris_fit):
    iris, y, pred = iris_fit
    groups = groups_for(iris["species"])  # each group is one class
    table = slice_table("classification", y, pred, None, None, groups, primary="accuracy")
    assert table["too_small"].all() and table["low"].isna().all()
    assert all("one class" in note for note in table["note"])


def test_numbers_get_quantile_bins_with_range_labels(sample_frames):
    bills = sample_frames["tips"]["total_bill"]
    groups = groups_for(bills, bins=4)
    edges = np.quantile(bills, [0, 0.25, 0.5, 0.75, 1])
    assert groups.cat.categories[0] == f"{edges[0]:.4g} – {edges[1]:.4g}"
    assert groups.cat.categories[-1] == f"{edges[3]:.4g} – {edges[4]:.4g}"
    counts = groups.value_counts()
    assert len(counts) == 4 and counts.max() - counts.min() <= 0.05 * len(bills)
    assert list(groups_for(pd.Series([1, 2, 2, 1]), bins=4).cat.categories) == ["1", "2"]


def test_categories_keep_the_most_frequent_and_missing_values_get_a_group(sample_frames):
    countries = sample_frames["gapminder"]["country"]
    groups = groups_for(countries, max_groups=5)
    assert list(groups.cat.categories) == [*countries.value_counts().index[:4], "other"]
    values = pd.Series([1.5, np.nan, 2.5, 3.5, np.nan, 4.5, 5.5, 6.5])
    groups = groups_for(values, bins=2)
    assert groups[values.isna()].eq(MISSING).all() and groups.notna().all()
    assert list(groups_for(pd.Series([True, False, None, True])).cat.categories) == [
        "True", "False", MISSING,
    ]  # fmt: skip


def test_same_seed_same_table(iris_fit):
    iris, y, pred = iris_fit
    groups = groups_for(iris["petal length (cm)"], bins=2)
    one = slice_table("classification", y, pred, None, None, groups, primary="accuracy", seed=3)
    two = slice_table("classification", y, pred, None, None, groups, primary="accuracy", seed=3)
    pd.testing.assert_frame_equal(one, two)


def test_exploration_slices_are_cached_and_drawn(trained, sample_frames):
    tips = sample_frames["tips"].assign(waiter=lambda t: np.where(t.index % 3, "Ann", "Bo"))
    pipeline = trained("tips", "ridge").pipeline
    current = CurrentModel(pipeline, describe_model(pipeline), "test", "m")
    ex = Exploration(current, TableData("t.csv", tips, sha256(tips.to_csv().encode())))
    assert ex.slice_columns == [*ex.input_names, "waiter"]  # not the target
    assert ex.slices("waiter")["rows"].sum() == len(tips)  # a column the model does not use
    table = ex.slices("size", 3)
    assert ex.slices("size", 3) is table and table.attrs["primary"] == "mae"
    shown = slices_frame(table)
    assert list(shown.columns) == [
        "group", "rows", "MAE", "RMSE", "R²", "95 % interval", "gap to all rows", "note",
    ]  # fmt: skip
    assert all(g.endswith(("worse", "better", "same")) for g in shown["gap to all rows"])
    fig = plots.slice_metrics(table, column="size")
    assert fig.layout.shapes[0].x0 == pytest.approx(table.attrs["overall"])  # the all-rows line
    assert sum(len(trace.y) for trace in fig.data) == len(table)


def test_training_records_the_worst_groups_on_held_out_rows_for_the_card():
    """Gapminder's life expectancy is hardest to predict in Asia: the scan over every input
    column finds that group among the worst, each with an interval, worst first."""
    from lib import training
    from lib.samples import load_sample

    found = training.train(load_sample("gapminder"), "lifeExp", model="ridge").metadata.slices
    assert found is not None and found.metric == "mae" and found.rows == 341
    assert found.columns == ["country", "continent", "year", "pop", "gdpPercap"]
    gaps = [finding.value - found.overall for finding in found.worst]
    assert gaps == sorted(gaps, reverse=True) and all(gap > 0 for gap in gaps)
    assert all(f.rows >= MIN_SLICE_ROWS and f.low <= f.value <= f.high for f in found.worst)
    assert ("continent", "Asia") in {(f.column, f.group) for f in found.worst}


def test_the_scan_judges_no_group_when_every_group_is_too_small(trained):
    found = trained("iris", "logistic_regression").metadata.slices  # 30 held-out rows
    assert found is not None and found.rows == 30 and found.worst == []
