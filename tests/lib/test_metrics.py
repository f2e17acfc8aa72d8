"""Tests for lib/metrics.py: the figures shown for a model, and which one is better."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from lib.metrics import LABELS, LOWER_IS_BETTER, PRIMARY_METRIC, is_better, score


def test_regression_figures_match_scikit_learn():
    y_true = np.array([3.0, -0.5, 2.0, 7.0, 4.2])
    y_pred = np.array([2.5, 0.0, 2.1, 7.8, 3.9])
    result = score("regression", y_true, y_pred)
    assert result == pytest.approx(
        {
            "r2": skm.r2_score(y_true, y_pred),
            "mae": skm.mean_absolute_error(y_true, y_pred),
            "rmse": math.sqrt(skm.mean_squared_error(y_true, y_pred)),
            "mape": skm.mean_absolute_percentage_error(y_true, y_pred),
        }
    )
    assert all(type(value) is float for value in result.values())


def test_mape_is_left_out_when_a_true_value_is_zero():
    result = score("regression", [0.0, 1.0, 2.0], [0.1, 1.1, 1.9])
    assert "mape" not in result and set(result) == {"r2", "mae", "rmse"}


def test_r2_of_a_single_row_is_nan_not_an_error():
    result = score("regression", [1.0], [2.0])
    assert math.isnan(result["r2"]) and result["mae"] == 1.0


def test_binary_classification_with_string_labels():
    classes = np.array(["benign", "malignant"])
    y_true = np.array(["benign", "malignant", "malignant", "benign", "benign"])
    y_pred = np.array(["benign", "malignant", "benign", "benign", "malignant"])
    proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3], [0.4, 0.6]])
    result = score("classification", y_true, y_pred, proba, classes)
    assert result == pytest.approx(
        {
            "accuracy": 0.6,
            "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
            "f1_macro": skm.f1_score(y_true, y_pred, average="macro"),
            "roc_auc": skm.roc_auc_score(y_true == "malignant", proba[:, 1]),
            "log_loss": skm.log_loss(y_true, proba, labels=classes),
        }
    )


def test_multiclass_roc_auc_and_log_loss():
    classes = np.array([0, 1, 2])
    y_true = np.array([0, 1, 2, 2, 1, 0])
    proba = np.array(
        [[0.8, 0.1, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1],
         [0.6, 0.3, 0.1]]
    )  # fmt: skip
    y_pred = classes[proba.argmax(axis=1)]
    result = score("classification", y_true, y_pred, proba, classes)
    assert result["roc_auc"] == pytest.approx(
        skm.roc_auc_score(y_true, proba, multi_class="ovr", average="macro")
    )
    assert result["log_loss"] == pytest.approx(skm.log_loss(y_true, proba))


def test_roc_auc_is_skipped_when_a_class_is_absent_from_the_rows():
    classes = np.array(["a", "b", "c"])
    proba = np.array([[0.7, 0.2, 0.1], [0.2, 0.7, 0.1]])
    result = score("classification", ["a", "b"], ["a", "b"], proba, classes)
    assert "roc_auc" not in result
    assert result["log_loss"] == pytest.approx(skm.log_loss(["a", "b"], proba, labels=classes))


def test_without_probabilities_only_label_figures():
    result = score("classification", [1, 0, 1], [1, 1, 1])
    assert set(result) == {"accuracy", "balanced_accuracy", "f1_macro"}


def test_is_better_knows_the_direction():
    assert is_better("r2", 0.9, 0.5) and not is_better("r2", 0.5, 0.9)
    assert is_better("rmse", 1.0, 2.0) and not is_better("rmse", 2.0, 1.0)
    assert is_better("log_loss", 0.1, 0.7)
    assert not is_better("accuracy", 0.8, 0.8)
    assert {"mae", "rmse", "mape", "log_loss"} == LOWER_IS_BETTER
    assert set(PRIMARY_METRIC.values()) <= set(LABELS) - LOWER_IS_BETTER


@pytest.mark.parametrize("n_classes", [2, 3])
def test_figures_do_not_depend_on_what_the_labels_are_called(n_classes):
    rng = np.random.default_rng(n_classes)
    codes_true, codes_pred = rng.integers(0, n_classes, 400), rng.integers(0, n_classes, 400)
    proba = rng.dirichlet(np.ones(n_classes), 400)
    names = np.array(["zebra", "apple", "mango"][:n_classes], dtype=object)  # not sorted
    by_name = score("classification", names[codes_true], names[codes_pred], proba, list(names))
    by_code = score("classification", codes_true, codes_pred, proba, list(range(n_classes)))
    assert by_name == pytest.approx(by_code)
    assert set(by_name) >= {"accuracy", "balanced_accuracy", "f1_macro", "roc_auc", "log_loss"}
