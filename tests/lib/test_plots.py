"""Figure builders: right kind of trace, capped point counts, honest titles."""

import numpy as np
import pytest

from lib import plots


def n_points(fig) -> int:
    return sum(len(trace.x) for trace in fig.data if trace.x is not None and trace.mode != "lines")


def test_predicted_vs_actual_has_the_identity_line():
    y = np.arange(100.0)
    fig = plots.predicted_vs_actual(y, y + 1, target="price")
    assert fig.layout.title.text == "Predicted vs actual"
    assert fig.layout.xaxis.title.text == "actual price"
    line = fig.data[1]
    assert list(line.x) == [0.0, 100.0] and list(line.y) == [0.0, 100.0]


def test_predicted_vs_actual_samples_above_the_cap_and_says_so():
    y = np.random.default_rng(0).normal(size=plots.MAX_POINTS + 10_000)
    fig = plots.predicted_vs_actual(y, y)
    assert n_points(fig) == plots.MAX_POINTS
    assert "random sample of 50,000 of 60,000 rows" in fig.layout.title.text


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


def test_sample_indices_are_sorted_unique_and_reproducible():
    first = plots.sample_indices(200, limit=50)
    assert len(set(first)) == 50 and list(first) == sorted(first)
    assert list(first) == list(plots.sample_indices(200, limit=50))
    assert len(plots.sample_indices(10, limit=50)) == 10
