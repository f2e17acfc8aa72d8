"""The typed model metadata: what a file's record must hold, and what happens when it does not."""

from __future__ import annotations

import copy

import pytest

from lib.display import headline_metric
from lib.metadata import METADATA_ATTR, read_metadata
from lib.model_info import describe_model
from lib.schema import MalformedMetadata, ModelMetadata, TrainingSummary
from lib.worker._smoke import NUMBERS, TEXTS, smoke_failure, smoke_rows


@pytest.fixture(scope="module")
def plain(trained) -> dict:
    """A model's record as the file holds it (categorical and numeric columns)."""
    return copy.deepcopy(getattr(trained("tips", "ridge").pipeline, METADATA_ATTR))


def test_a_trained_models_record_round_trips(trained, plain):
    parsed, warnings = ModelMetadata.from_plain(plain)
    assert warnings == []
    assert parsed == trained("tips", "ridge").metadata
    assert parsed.to_plain() == plain
    day = parsed.feature("day")
    assert day is not None and day.kind == "categorical"
    assert all(isinstance(value, str) and isinstance(n, int) for value, n in day.categories)
    bill = parsed.feature("total_bill")
    assert bill is not None and bill.has_range and bill.histogram is not None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m.update(task="forecasting"), "unknown task 'forecasting'"),
        (lambda m: m.pop("task"), "unknown task None"),
        (lambda m: m.update(target=3), "the target is not text"),
        (lambda m: m.update(features="day"), "features is not a list"),
        (lambda m: m["features"][0].update(kind="image"), "unknown kind 'image'"),
        (lambda m: m["features"][0].update(missing_share=2.0), "outside 0..1"),
        (lambda m: m["features"].append(m["features"][0]), "listed twice"),
        (lambda m: m.update(format="model-studio/9"), "unknown format"),
    ],
)
def test_a_malformed_required_part_refuses_the_record(plain, change, reason):
    broken = copy.deepcopy(plain)
    change(broken)
    with pytest.raises(MalformedMetadata, match=reason):
        ModelMetadata.from_plain(broken)


def test_a_malformed_categorical_summary_is_refused(plain):
    broken = copy.deepcopy(plain)
    day = next(f for f in broken["features"] if f["name"] == "day")
    day["categories"] = ["Sun", "Sat"]  # values without counts
    with pytest.raises(MalformedMetadata, match="not \\(value, count\\) pairs"):
        ModelMetadata.from_plain(broken)


def test_the_file_carries_the_intervals_and_older_files_load_without(trained, plain):
    intervals = plain["metrics"]["intervals"]
    assert intervals.keys() == plain["metrics"]["holdout"].keys()
    assert all(low <= plain["metrics"]["holdout"][name] <= high
               for name, (low, high) in intervals.items())  # fmt: skip
    pipeline = copy.deepcopy(trained("tips", "ridge").pipeline)
    reloaded = read_metadata(pipeline).metadata
    assert reloaded is not None and reloaded.figures is not None
    assert reloaded.figures.intervals == {k: tuple(v) for k, v in intervals.items()}
    assert "95 % interval" in (headline_metric(reloaded) or "")
    older = copy.deepcopy(plain)
    del older["metrics"]["intervals"]  # a file saved before intervals existed
    parsed, warnings = ModelMetadata.from_plain(older)
    assert warnings == [] and parsed.figures is not None and parsed.figures.intervals == {}
    assert parsed.to_plain() == older
    assert headline_metric(parsed) == f"R² {plain['metrics']['holdout']['r2']:.3f} (holdout)"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ([0.1, 0.2, 0.3], "r2's interval is not two numbers"),
        (["low", "high"], "r2's interval is not a number"),
        ([0.9, 0.1], "r2's interval is not a finite low..high"),
        ([float("nan"), 0.5], "r2's interval is not a finite low..high"),
        (0.5, "r2's interval is not a list"),
    ],
)
def test_a_malformed_interval_drops_the_intervals_not_the_figures(plain, bad, reason):
    broken = copy.deepcopy(plain)
    broken["metrics"]["intervals"]["r2"] = bad
    parsed, warnings = ModelMetadata.from_plain(broken)
    assert warnings == [f"The file's intervals were ignored: {reason}."]
    assert parsed.figures is not None and parsed.figures.intervals == {}
    assert parsed.figures.holdout == plain["metrics"]["holdout"]
    broken["metrics"]["intervals"] = "narrow"
    assert ModelMetadata.from_plain(broken)[1] == [
        "The file's intervals were ignored: intervals is not a mapping."
    ]


def test_a_malformed_optional_part_is_dropped_with_a_warning(plain):
    broken = copy.deepcopy(plain)
    broken["metrics"] = {"holdout": {"r2": "high"}}
    broken["versions"] = "1.9"
    parsed, warnings = ModelMetadata.from_plain(broken)
    assert parsed.figures is None and parsed.versions == {}
    assert any(w.startswith("The file's figures were ignored") for w in warnings)
    assert any(w.startswith("The file's versions were ignored") for w in warnings)
    assert parsed.target == plain["target"]  # the rest is kept


def test_a_model_with_a_damaged_record_is_described_as_one_made_elsewhere(trained, plain):
    pipeline = copy.deepcopy(trained("tips", "ridge").pipeline)
    setattr(pipeline, METADATA_ATTR, dict(plain, task="forecasting"))
    read = read_metadata(pipeline)
    assert read.metadata is None and "damaged" in read.warnings[0]
    info = describe_model(pipeline)
    assert info.task == "regression"  # from the estimator itself
    assert info.metadata is None and info.notes == read.warnings
    assert [f.kind for f in info.features] == ["unknown"] * len(plain["features"])


def test_a_model_without_a_record_has_no_warnings(trained):
    pipeline = copy.deepcopy(trained("tips", "ridge").pipeline)
    delattr(pipeline, METADATA_ATTR)
    assert read_metadata(pipeline) == read_metadata(object())
    assert read_metadata(pipeline).warnings == []


def test_the_opening_rows_are_built_by_the_app_not_taken_from_the_file(trained):
    # The smoke row once took a categorical column's [value, count] pair from the file's own
    # record; now the rows come from the record's column names and kinds and from values the
    # app chooses, so a crafted record cannot steer them.
    result = trained("tips", "ridge")
    info = describe_model(result.pipeline)
    rows = smoke_rows(info)
    assert list(rows.columns) == [feature.name for feature in info.features]
    assert list(rows["day"]) == list(TEXTS)
    assert list(rows["total_bill"]) == list(NUMBERS)
    assert smoke_failure(result.pipeline, info) is None  # the model takes them, probabilities too


def test_summaries_keep_the_file_format_for_dates():
    summary = TrainingSummary(name="when", kind="datetime", first="2020-01-01T00:00:00")
    plain = summary.to_plain()
    assert plain["min"] == "2020-01-01T00:00:00" and plain["max"] is None
    assert TrainingSummary.from_plain(plain) == summary


def test_the_worst_slices_travel_in_the_file_and_a_malformed_list_is_dropped(plain):
    assert plain["slices"]["metric"] == "mae" and plain["slices"]["rows"] == 49
    parsed, _ = ModelMetadata.from_plain(plain)
    assert parsed.slices is not None and parsed.slices.to_plain() == plain["slices"]
    broken = copy.deepcopy(plain)
    broken["slices"]["worst"] = [{"column": "day", "group": "Sun", "rows": -3}]
    parsed, warnings = ModelMetadata.from_plain(broken)
    assert parsed.slices is None and parsed.figures is not None
    assert warnings == ["The file's slices were ignored: a slice's rows is not a count."]
