"""Two saved versions side by side: what their records say differs, and both on the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import pytest

from lib import plots
from lib.display import store_metadata
from lib.errors import UserError
from lib.exploration import Exploration
from lib.library import open_library
from lib.model_info import describe_model
from lib.persistence import dump_model
from lib.records import CurrentModel, TableData, sha256
from lib.samples import load_sample
from lib.training import Options, TrainingResult, train
from lib.version_compare import compare_records, score_pair, version_heading

HEADS = [version_heading(1), version_heading(2)]


@pytest.fixture(scope="module")
def tips() -> pd.DataFrame:
    return px.data.tips()


@pytest.fixture(scope="module")
def early_ridge(tips) -> TrainingResult:
    """Ridge on the first 170 rows, without the 'size' column."""
    return train(
        tips.iloc[:170].drop(columns="size"), "tip", model="ridge",
        options=Options(cv_folds=3, source_name="tips-early.csv"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def full_forest(tips) -> TrainingResult:
    return train(
        tips, "tip", model="random_forest",
        options=Options(cv_folds=3, source_name="tips.csv", params={"n_estimators": 20}),
    )  # fmt: skip


def saved(tmp_path, *results: TrainingResult, name: str = "tips"):
    library = open_library(str(tmp_path / "library"))
    return [
        library.save(name, dump_model(r.pipeline), store_metadata(describe_model(r.pipeline)))
        for r in results
    ]


def test_settings_figures_and_data_that_differ_are_listed(tmp_path, early_ridge, full_forest):
    first, second = saved(tmp_path, early_ridge, full_forest)
    comparison = compare_records(first, second)

    settings = comparison.settings.set_index("setting")
    assert settings.loc["model"].tolist() == ["Ridge", "Random forest"]
    assert settings.loc["parameter n_estimators"].tolist() == ["default", "20"]
    assert "task" not in settings.index and "target" not in settings.index  # the same
    assert comparison.same_settings > 0

    figures = comparison.figures.set_index(["figure", "scored on"])
    held_r2 = figures.loc[("R²", "held out")]
    assert held_r2["version 1"].startswith(f"{early_ridge.metrics['r2']:.3f} (")  # + interval
    change = full_forest.metrics["r2"] - early_ridge.metrics["r2"]
    assert held_r2["change"] == (
        f"{'+' if change > 0 else '−'}{abs(change):.3f}, {'better' if change > 0 else 'worse'}"
    )
    assert ("MAE", "cross-validated") in figures.index
    assert "sd)" in figures.loc[("MAE", "cross-validated")]["version 2"]

    facts = comparison.facts.set_index("")
    assert facts.loc["training table"].tolist() == ["tips-early.csv", "tips.csv", "differs"]
    assert facts.loc["training rows"].tolist() == ["170", "244", "differs"]
    assert not comparison.same_file and not comparison.same_data

    columns = comparison.columns.set_index("column")
    assert columns.index[0] == "size"  # a column only one version takes comes first
    assert "used only by version 2" in columns.loc["size", "what changed"]
    assert "category shares move" in columns.loc["smoker", "what changed"]
    assert columns.loc["total_bill", "what changed"].startswith("mean 19.")


def test_one_model_saved_twice_compares_as_the_same(tmp_path, full_forest):
    first, second = saved(tmp_path, full_forest, full_forest)
    comparison = compare_records(first, second)
    assert comparison.same_file and comparison.same_data
    assert comparison.settings.empty and comparison.columns.empty
    assert set(comparison.figures["change"]) == {"no change"}


def test_a_model_made_elsewhere_compares_on_what_little_it_records(tmp_path, full_forest):
    library = open_library(str(tmp_path / "library"))
    foreign = {"task": "regression", "target": "tip", "model": {"estimator": "Ridge"},
               "versions": {"sklearn": "1.5.0"}, "n_features": 3}  # fmt: skip
    first = library.save("m", b"not read here", foreign)
    (second,) = saved(tmp_path, full_forest, name="m")
    comparison = compare_records(first, second)
    assert comparison.settings.set_index("setting").loc["estimator"].tolist() == [
        "Ridge", "RandomForestRegressor",
    ]  # fmt: skip
    assert comparison.facts.set_index("").loc["training table", "version 1"] == "not recorded"
    assert comparison.columns.empty
    assert (comparison.figures["version 1"] == "not recorded").all()


@pytest.mark.parametrize(
    "metadata",
    [{}, {"format": 1, "task": "regression", "target": "tip", "features": "garbage"},
     {"model": "a string", "versions": ["list"]}, {"task": ["odd"]}],
)  # fmt: skip
def test_a_malformed_record_never_breaks_the_comparison(tmp_path, full_forest, metadata):
    library = open_library(str(tmp_path / "library"))
    first = library.save("m", b"x", metadata)
    (second,) = saved(tmp_path, full_forest, name="m")
    comparison = compare_records(first, second)
    assert len(comparison.facts) == 7
    compare_records(second, first)


def _exploration(result: TrainingResult, table: TableData) -> Exploration:
    info = describe_model(result.pipeline)
    return Exploration(CurrentModel(result.pipeline, info, "test", "m"), table)


def _table(frame: pd.DataFrame, name: str = "rows.csv") -> TableData:
    return TableData(name, frame, sha256(frame.to_csv().encode()))


def test_both_scored_on_the_same_rows_with_a_paired_verdict(tips, early_ridge, full_forest):
    table = _table(tips.iloc[170:], "new rows.csv")  # the forest saw these; shows a clear gap
    pair = score_pair(_exploration(early_ridge, table), _exploration(full_forest, table), HEADS)
    assert pair.rows == 74
    figures = pair.figures.set_index("figure")
    assert figures.loc["R²", "verdict"] == "version 2 better"
    assert figures.loc["MAE", "change (95 % interval)"].startswith("−")
    a = early_ridge.pipeline.predict(tips.iloc[170:])
    b = full_forest.pipeline.predict(tips.iloc[170:])
    np.testing.assert_allclose(pair.pred_a, a)
    np.testing.assert_allclose(pair.pred_b, b)
    assert f"differ by {np.abs(a - b).mean():.4g} on average" in pair.agreement
    assert pair.trained_on == []
    fig = plots.predictions_against_predictions(
        pair.y_true, pair.pred_a, pair.pred_b, names=("version 1", "version 2"), target="tip"
    )
    assert sum(len(trace.x) for trace in fig.data if trace.mode == "markers") == 74


def test_scoring_on_a_versions_training_table_is_flagged(tips, early_ridge, full_forest):
    table = _table(tips, "tips.csv")
    pair = score_pair(_exploration(early_ridge, table), _exploration(full_forest, table), HEADS)
    assert pair.trained_on == ["version 2"]


def test_the_same_model_twice_shows_no_difference(tips, full_forest):
    table = _table(tips.iloc[:60])
    pair = score_pair(_exploration(full_forest, table), _exploration(full_forest, table), HEADS)
    assert set(pair.figures["verdict"]) == {"no clear difference"}
    assert "differ by 0 on average" in pair.agreement


def test_classifiers_agree_on_the_diagonal():
    iris = load_sample("iris")
    logistic = train(iris, "species", model="logistic_regression", options=Options(cv_folds=0))
    tree = train(iris, "species", model="decision_tree", options=Options(cv_folds=0,
                 params={"max_depth": 1}))  # fmt: skip
    table = _table(iris)
    pair = score_pair(_exploration(logistic, table), _exploration(tree, table), HEADS)
    same = int((pair.pred_a == pair.pred_b).sum())
    assert f"same class for {same:,} of these 150 rows" in pair.agreement
    assert "ROC AUC" in set(pair.figures["figure"])  # same classes: probability figures too
    fig = plots.class_agreement(
        pair.pred_a, pair.pred_b, names=("version 1", "version 2"), labels=pair.labels
    )
    assert int(np.trace(np.asarray(fig.data[0].z))) == same
    assert f"({same:,} of 150 rows agree)" in fig.layout.title.text


def test_versions_that_cannot_be_compared_say_why(tips, full_forest):
    iris = load_sample("iris")
    classifier = train(iris, "species", model="logistic_regression", options=Options(cv_folds=0))
    table = _table(tips)
    with pytest.raises(UserError, match="regression model and version 2 a classification"):
        score_pair(_exploration(full_forest, table), _exploration(classifier, table), HEADS)
    no_target = _table(tips.drop(columns="tip"))
    with pytest.raises(UserError, match="no column 'tip'"):
        score_pair(_exploration(full_forest, no_target), _exploration(full_forest, no_target),
                   HEADS)  # fmt: skip
    bills = train(tips, "total_bill", model="ridge", options=Options(cv_folds=0))
    with pytest.raises(UserError, match="predicts 'tip' and version 2 predicts 'total_bill'"):
        score_pair(_exploration(full_forest, table), _exploration(bills, table), HEADS)
