"""Drift of new rows against the training summaries a model carries."""

import numpy as np
import pandas as pd
import pytest

from lib.drift import drift_report, population_stability
from lib.schema import Histogram
from lib.training import Options, train


@pytest.fixture(scope="module")
def tips_model(sample_frames):
    tips = sample_frames["tips"]
    return train(tips, "tip", model="decision_tree", options=Options(cv_folds=0)), tips


def test_training_rows_show_no_drift(tips_model):
    result, tips = tips_model
    report = drift_report(result.metadata.features, tips)
    assert report.n_flagged_rows == 0
    assert not report.columns["flagged"].any()
    assert set(report.columns["feature"]) == set(result.features)


def test_out_of_range_values_and_unseen_categories_are_flagged_per_cell(tips_model):
    result, tips = tips_model
    new = tips.head(10).copy()
    new.loc[2, "total_bill"] = tips["total_bill"].max() + 100
    new.loc[5, "day"] = "Mon"
    report = drift_report(result.metadata.features, new)
    assert report.cells.loc[2, "total_bill"] and report.cells.loc[5, "day"]
    assert report.row_flags.tolist() == [0, 0, 1, 0, 0, 1, 0, 0, 0, 0]
    by_feature = report.columns.set_index("feature")
    assert by_feature.loc["total_bill", "out_of_range"] == 1
    assert by_feature.loc["day", "unseen"] == 1
    assert "'Mon'" in by_feature.loc["day", "note"]
    assert not by_feature.loc["size", "flagged"]


def test_a_changed_missing_share_is_flagged(tips_model):
    result, tips = tips_model
    new = tips.copy()
    new.loc[new.index[: len(new) // 2], "size"] = np.nan
    row = drift_report(result.metadata.features, new).columns.set_index("feature").loc["size"]
    assert row["flagged"] and row["missing_new"] == pytest.approx(0.5, abs=0.01)
    assert "missing share" in row["note"]


def test_a_shifted_distribution_has_a_high_psi(tips_model):
    result, tips = tips_model
    shifted = tips.assign(total_bill=tips["total_bill"].quantile(0.9))
    row = drift_report(result.metadata.features, shifted).columns.set_index("feature")
    assert row.loc["total_bill", "psi"] > 0.2 and row.loc["total_bill", "flagged"]


def test_psi_is_zero_for_the_same_distribution():
    values = np.random.default_rng(0).normal(size=10_000)
    counts, edges = np.histogram(values, bins=20)
    hist = Histogram(edges=edges.tolist(), counts=counts.tolist())
    assert population_stability(hist, values) == pytest.approx(0.0, abs=1e-9)


def test_columns_missing_from_the_new_rows_are_skipped(tips_model):
    result, tips = tips_model
    report = drift_report(result.metadata.features, tips[["total_bill"]])
    assert report.columns["feature"].tolist() == ["total_bill"]
    assert isinstance(report.cells, pd.DataFrame) and report.cells.shape == (len(tips), 1)


def test_a_moved_average_is_flagged_even_on_few_rows(tips_model):
    result, tips = tips_model
    bill = result.metadata.feature("total_bill")
    new = tips.head(60).assign(total_bill=lambda d: d["total_bill"] + 2 * bill.std)
    row = drift_report(result.metadata.features, new).columns.set_index("feature")
    assert row.loc["total_bill", "flagged"]
    assert "average moved by +" in row.loc["total_bill", "note"]
    assert not row.loc["size", "flagged"]
