"""Tests for lib/sampling.py: which rows a sample holds, and that it never changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lib.sampling import even_sample, sample_indices, shuffled_indices


def test_sample_indices_are_sorted_unique_and_reproducible():
    first = sample_indices(200, limit=50)
    assert len(set(first)) == 50 and list(first) == sorted(first)
    assert list(first) == list(sample_indices(200, limit=50))
    assert list(first) != list(sample_indices(200, limit=50, seed=1))
    assert list(sample_indices(10, limit=50)) == list(range(10))


@pytest.mark.parametrize(("n", "size", "seed"), [(1000, 120, 0), (300, 300, 7), (5, 0, 3)])
def test_shuffled_indices_are_the_rows_of_dataframe_sample(n, size, seed):
    frame = pd.DataFrame({"x": np.arange(n)})
    expected = frame.sample(size, random_state=seed).index.to_numpy()
    picked = shuffled_indices(n, size, seed)
    assert picked.tolist() == expected.tolist()
    assert len(set(picked.tolist())) == size


def test_shuffled_indices_refuse_more_rows_than_there_are():
    with pytest.raises(ValueError, match="cannot draw 11 of 10"):
        shuffled_indices(10, 11)


def test_even_sample_is_evenly_spaced_and_keeps_short_arrays():
    values = np.arange(300_000)
    picked = even_sample(values, 1000)
    assert picked.shape == (1000,) and np.all(np.diff(picked) >= 299)
    assert picked.tolist() == even_sample(values, 1000).tolist()
    short = np.arange(10.0)
    assert even_sample(short, 1000) is short
