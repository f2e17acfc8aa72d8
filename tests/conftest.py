"""Settings for the whole suite.

The suite runs under pytest-xdist, one process per core already: a training pool inside each
test process would put several processes on every core. Training runs sequentially here unless
``MODEL_STUDIO_TRAIN_JOBS`` is set; ``tests/lib/test_training_parallel.py`` asks for workers.
"""

from __future__ import annotations

import os

from lib.parallel import JOBS_VARIABLE

os.environ.setdefault(JOBS_VARIABLE, "1")
