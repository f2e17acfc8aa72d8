"""The model card: what a model predicts, from which columns, how well (with intervals), on
what data, made with what, its known limits, and a place for its intended use."""

import plotly.express as px
import pytest

from lib import training
from lib.literal import literal
from lib.metadata import read_metadata
from lib.model_card import FILL_IN, model_card
from lib.samples import load_sample


@pytest.fixture(scope="module")
def tips_card() -> str:
    tips = px.data.tips()
    tips.loc[0:59, "size"] = None  # a column with missing values, shown as such
    result = training.train(tips, "tip", model="ridge",
                            options=training.Options(source_name="tips.csv"))  # fmt: skip
    return model_card("tips ridge", read_metadata(result.pipeline).metadata)


def test_the_card_says_what_the_model_predicts_from_which_columns(tips_card):
    assert tips_card.startswith("# Model card: tips ridge\n")
    assert "predicts **tip** (regression)" in tips_card
    for column in ("total_bill", "sex", "smoker", "day", "time", "size"):
        assert f"| {literal(column)} |" in tips_card
    assert "| size | numeric | 1 to 6 \\(median 2\\) | 25% |" in tips_card


def test_the_card_gives_figures_with_intervals_beside_the_baseline(tips_card):
    figures = tips_card.split("## Figures")[1].split("## ")[0]
    row = next(line for line in figures.splitlines() if line.startswith("| R² |"))
    _, _, value, interval, baseline, _ = (cell.strip() for cell in row.split("|"))
    low, high = (float(bound) for bound in interval.split("–"))
    assert low <= float(value) <= high and float(baseline) < float(value)
    assert "| MAE (lower is better) |" in figures
    assert "(5 folds)" in figures


def test_the_card_names_the_data_the_versions_and_leaves_the_intended_use_to_fill(tips_card):
    assert "- Source: tips\\.csv" in tips_card and "- Rows: 244" in tips_card
    assert "Fingerprint (SHA-256 of the training table): " in tips_card
    assert "sklearn 1\\." in tips_card.split("## Made with")[1]
    assert tips_card.rstrip().endswith(FILL_IN)


def test_a_classifier_card_lists_its_classes_and_known_limits():
    iris = load_sample("iris")
    iris["id"] = range(len(iris))  # an identifier: left out, and said so
    result = training.train(iris, "species", model="logistic_regression")
    card = model_card("iris", read_metadata(result.pipeline).metadata)
    assert "one of 'setosa', 'versicolor', 'virginica'" in card
    assert "- Column **id** was not used:" in card.split("## Known limits")[1]


def test_shown_in_a_page_the_card_headings_sit_below_the_page_s(tips_card):
    from lib.display import demote_headings

    shown = demote_headings(tips_card, 2)
    assert shown.startswith("### Model card: tips ridge\n")
    assert "\n#### Figures\n" in shown and "\n## " not in shown
    assert "| R² |" in shown  # tables untouched


def test_the_card_names_the_groups_where_the_model_does_worst():
    result = training.train(load_sample("gapminder"), "lifeExp", model="ridge")
    card = model_card("gapminder", read_metadata(result.pipeline).metadata)
    worst = card.split("## Where it does worst")[1].split("\n## ")[0]
    assert "groups of the 341 held-out rows" in worst
    rows = [line for line in worst.splitlines() if line.startswith("| continent | Asia |")]
    assert len(rows) == 1 and rows[0].endswith("| clearly worse |")


def test_a_card_without_judged_groups_says_so():
    iris = training.train(load_sample("iris"), "species", model="logistic_regression")
    card = model_card("iris", read_metadata(iris.pipeline).metadata)
    assert "No group large enough to judge did worse" in card


def test_the_card_gives_the_prediction_intervals_per_level(tips_card):
    section = tips_card.split("## Prediction intervals")[1].split("\n## ")[0]
    assert "calibrated on 244 rows the predicting models never saw" in section
    rows = [line for line in section.splitlines() if line.startswith("| 90 % |")]
    assert len(rows) == 1
    widths = rows[0].split("|")[2].strip().split(" to ")
    assert all(float(width) > 0 for width in widths)


def test_a_model_without_validation_says_it_has_no_intervals():
    result = training.train(load_sample("tips"), "tip", model="ridge",
                            options=training.Options(test_size=0.0, cv_folds=0))  # fmt: skip
    card = model_card("tips", read_metadata(result.pipeline).metadata)
    assert "## Prediction intervals\n\nNone: the model was trained with neither" in card


def test_a_classifier_card_has_prediction_sets_and_its_decision_threshold():
    decision = {"goal": "cost", "fp_cost": 1.0, "fn_cost": 5.0, "positive": "malignant"}
    result = training.train(load_sample("breast_cancer"), "diagnosis", model="logistic_regression",
                            options=training.Options(decision=decision))  # fmt: skip
    card = model_card("cancer", read_metadata(result.pipeline).metadata)
    assert "## Prediction sets" in card and "Levels available: 50 %, 80 %, 90 %" in card
    assert "## Decision threshold" in card and "a false negative 5" in card


def test_names_from_strangers_are_written_literally():
    """Column, class and table names shaped like Markdown (an image, a link, bold, a formula)
    reach the card escaped, so wherever it is rendered they show as the characters they are."""
    image, link = "![x](http://127.0.0.1:9/x.png)", "[click](http://evil.example)"
    frame = load_sample("iris").rename(
        columns={"sepal length (cm)": image, "sepal width (cm)": link}
    )
    frame["species"] = frame["species"].replace("setosa", "**bold**")
    frame["note"] = "a\n# heading"  # a constant column: left out, and said so
    result = training.train(frame, "species", model="logistic_regression",
                            options=training.Options(source_name="<b>x</b>.csv"))  # fmt: skip
    card = model_card(":red[alarm] $x^2$", read_metadata(result.pipeline).metadata)
    assert card.startswith("# Model card: \\:red\\[alarm\\] \\$x\\^2\\$\n")
    for raw in (image, link, "**bold**", "<b>x</b>", "# heading"):
        assert raw not in card
    assert f"| {literal(image)} |" in card and f"| {literal(link)} |" in card
    assert "'\\*\\*bold\\*\\*'" in card
    assert "- Source: \\<b\\>x\\<\\/b\\>\\.csv" in card
    assert "http\u2060\\:" in card  # no bare address left for a linkifier
