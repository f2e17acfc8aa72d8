"""Which rows (or values) to use when there are too many: the project's only samplers.

One function per purpose; all are deterministic (the same arguments give the same picks on
every run and machine) and return positions (or values), never copies of a table:

- ``sample_indices``: a random subset kept in table order, to draw or score part of the rows
  (scatter plots, permutation importance, partial dependence).
- ``shuffled_indices``: a random subset in random order, for code that splits what it draws
  (first half / second half, cross-validation folds) or reads its first rows.
- ``even_sample``: evenly spaced values of a long array, for quantiles and histogram shapes.
"""

from __future__ import annotations

import numpy as np


def sample_indices(n: int, limit: int, seed: int = 0) -> np.ndarray:
    """Positions of at most ``limit`` of ``n`` rows, picked at random, in increasing order.

    Returns an int array of shape (min(n, limit),) without repeats: ``arange(n)`` when
    ``n <= limit``, else ``limit`` positions drawn with ``numpy.random.default_rng(seed)``.
    """
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=limit, replace=False))


def shuffled_indices(n: int, size: int, seed: int = 0) -> np.ndarray:
    """Positions of ``size`` of ``n`` rows (``size <= n``), picked at random, in random order.

    Returns an int array of shape (size,) without repeats; ``size == n`` gives a permutation.
    These are exactly the rows, in the same order, of ``DataFrame.sample(size,
    random_state=seed)`` on a frame of ``n`` rows (NumPy's legacy ``RandomState``, whose stream
    never changes), so samples taken before this function existed stay the same.
    """
    if not 0 <= size <= n:
        raise ValueError(f"cannot draw {size} of {n} rows without repeats")
    return np.random.RandomState(seed).choice(n, size=size, replace=False)


def even_sample(values: np.ndarray, size: int) -> np.ndarray:
    """At most ``size`` of ``values`` (shape (n,)), evenly spaced from a fixed random start.

    Returns ``values`` itself when ``n <= size``, else an array of shape (size,) in the order
    of ``values``: every ``n / size``-th value from an offset drawn once with
    ``numpy.random.default_rng(0)``. No permutation is made, so it is fast on long columns.
    """
    if values.size <= size:
        return values
    step = values.size / size
    picks = np.random.default_rng(0).random() * step + np.arange(size) * step
    return values[picks.astype(np.intp)]
