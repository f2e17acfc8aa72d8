"""The model library's display tables, built from a real library of real trained models."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib import training
from lib.display import (
    library_frame,
    saved_when,
    store_metadata,
    version_history_frame,
    version_label,
    workspace_label,
)
from lib.library import Library, open_library
from lib.model_info import describe_model
from lib.persistence import dump_model
from lib.samples import load_sample
from lib.store import ModelStore


@pytest.fixture(scope="module")
def iris_result() -> training.TrainingResult:
    return training.train(
        load_sample("iris"), "species", model="logistic_regression",
        options=training.Options(cv_folds=0, source_name="iris.csv"),
    )  # fmt: skip


@pytest.fixture
def library(tmp_path: Path, iris_result) -> Library:
    """'iris' saved twice (versions 1 and 2) by a workspace, 'bare' once by nobody known."""
    library = open_library(tmp_path)
    data = dump_model(iris_result.pipeline)
    metadata = store_metadata(describe_model(iris_result.pipeline))
    library.save("iris", data, metadata, saved_by="workspace abc")
    library.save("iris", data, metadata, saved_by="workspace def")
    library.save("bare", b"not read here", {"task": "regression", "target": "y"})
    return library


def test_library_frame_one_row_per_name_with_its_latest_version(
    library: Library, iris_result
) -> None:
    frame = library_frame(library.names())
    assert frame.columns.tolist() == [
        "name", "latest version", "versions", "saved", "task", "target", "headline metric", "size"
    ]  # fmt: skip
    assert frame["name"].tolist() == ["bare", "iris"]
    assert frame["latest version"].tolist() == [1, 2]
    assert frame["versions"].tolist() == [1, 2]
    assert frame["target"].tolist() == ["y", "species"]
    bare, iris = frame["headline metric"].tolist()
    assert (bare == "" and iris.startswith("Balanced accuracy ")) or iris.startswith("Accuracy ")
    assert frame["size"].iloc[0] == "13 bytes"


def test_history_is_newest_first_with_workspace_data_and_fingerprint(
    library: Library, iris_result
) -> None:
    records = library.versions("iris")
    frame = version_history_frame(records)
    assert frame["version"].tolist() == [2, 1]
    assert frame["saved by"].tolist() == ["workspace def", "workspace abc"]
    fingerprint = iris_result.metadata.training_data.fingerprint
    assert frame["data fingerprint"].tolist() == [fingerprint[:12]] * 2
    assert frame["training data"].tolist() == ["iris.csv, 150 rows"] * 2
    assert frame["saved"].tolist() == [saved_when(r.created_at) for r in reversed(records)]
    assert all(frame["headline metric"] != "")


def test_history_of_a_model_made_elsewhere_leaves_unknowns_blank(library: Library) -> None:
    frame = version_history_frame(library.versions("bare"))
    row = frame.iloc[0].to_dict()
    assert row["saved by"] == "" and row["training data"] == "" and row["data fingerprint"] == ""
    assert row["headline metric"] == "" and row["size"] == "13 bytes"


@pytest.mark.parametrize(
    "metadata",
    [
        {"task": 5, "target": ["x"], "versions": "1.0"},
        {"training_data": "not a dict", "metrics": [1, 2]},
        {"schema_version": 1, "task": "classification", "training_data": {"rows": "many"}},
    ],
)
def test_hostile_metadata_gives_blank_cells_not_errors(tmp_path: Path, metadata) -> None:
    library = open_library(tmp_path)
    library.save("odd", b"bytes", metadata)
    names = library_frame(library.names())
    history = version_history_frame(library.versions("odd"))
    assert names["name"].tolist() == ["odd"] and history["version"].tolist() == [1]
    assert history["data fingerprint"].tolist() == [""]


def test_an_old_library_entry_is_version_1(tmp_path: Path) -> None:
    ModelStore(tmp_path).save("old", b"model bytes", {"target": "t"})
    library = open_library(tmp_path)
    assert library_frame(library.names())[
        ["name", "latest version", "versions"]
    ].values.tolist() == [["old", 1, 1]]
    assert version_history_frame(library.versions("old"))["version"].tolist() == [1]


def test_version_label_marks_the_latest(library: Library) -> None:
    first, second = library.versions("iris")
    assert version_label(second, 2) == f"version 2 (latest), saved {saved_when(second.created_at)}"
    assert version_label(first, 2).startswith("version 1, saved 20")


def test_saved_when_drops_fractions_and_zone() -> None:
    assert saved_when("2026-12-07T04:40:12.123456+00:00") == "2026-12-07 04:40:12"


def test_workspace_label_keeps_only_a_prefix_of_the_id() -> None:
    workspace_id = "18311bb352744da5b6a64908a548d55e"
    assert workspace_label(workspace_id) == "workspace 18311bb3"
