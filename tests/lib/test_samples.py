"""Tests for lib/samples.py: the bundled tables a person can try without a file."""

from __future__ import annotations

import pytest

from lib import catalog
from lib.profile import profile_table
from lib.samples import SAMPLES, load_sample

EXPECTED = {
    "tips": ((244, 7), "regression"),
    "iris": ((150, 5), "classification"),
    "diabetes": ((442, 11), "regression"),
    "wine": ((178, 14), "classification"),
    "breast_cancer": ((569, 31), "classification"),
    "gapminder": ((1704, 6), "regression"),
}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_sample_loads_with_its_target_and_task(key):
    frame = load_sample(key)
    shape, task = EXPECTED[key]
    assert frame.shape == shape
    sample = SAMPLES[key]
    assert sample.target in frame.columns
    assert frame[sample.target].notna().all()
    assert catalog.infer_task(frame[sample.target]) == task
    usable = [p.name for p in profile_table(frame) if p.usable and p.name != sample.target]
    assert usable, "a sample needs features to learn from"


@pytest.mark.parametrize("key", ["iris", "wine", "breast_cancer"])
def test_class_labels_are_names_not_codes(key):
    target = load_sample(key)[SAMPLES[key].target]
    assert all(isinstance(label, str) for label in target.unique())
    if key == "iris":
        assert sorted(target.unique()) == ["setosa", "versicolor", "virginica"]


def test_load_returns_a_fresh_copy():
    first = load_sample("tips")
    first.loc[0, "tip"] = -1.0
    first["new"] = 1
    second = load_sample("tips")
    assert second.loc[0, "tip"] == 1.01 and "new" not in second.columns


def test_unknown_sample():
    with pytest.raises(KeyError):
        load_sample("titanic")
