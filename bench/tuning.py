"""Tuning on one worker against two: the same search, its time and whether it found the same.

A generated 20,000-row mixed classification table (bench/parallel_training.py's: 10 numeric,
3 categorical columns) is tuned with ``MODEL_STUDIO_TRAIN_JOBS=1`` and ``=2`` in one run, with
the same seed and an ample time budget, so that both runs score every round. Prints the
seconds of each, the ratio, and whether the best settings and the leaderboards are the same.

    PYTHONPATH=. .venv/bin/python bench/tuning.py
    PYTHONPATH=. .venv/bin/python bench/tuning.py --model random_forest --candidates 9
"""

from __future__ import annotations

import argparse

from bench.parallel_training import one_and_two, table
from lib import parallel
from lib.training import Options
from lib.tuning import tune


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--model", default="hist_gradient_boosting")
    parser.add_argument("--candidates", type=int, default=12)
    args = parser.parse_args()
    frame = table(args.rows)
    print(f"{args.rows:,} rows, {parallel.usable_cores()} usable cores, {args.model}, "
          f"{args.candidates} candidates, 3-fold CV")  # fmt: skip
    found, seconds = one_and_two(
        tune, frame, "target", model=args.model, options=Options(cv_folds=3),
        budget_s=3_600, n_candidates=args.candidates,
    )  # fmt: skip
    boards = [result.leaderboard for result in found]
    same_board = boards[0].equals(boards[1])
    same_best = found[0].best_params == found[1].best_params
    print(f"tune: 1 worker {seconds[0]:.1f} s, 2 workers {seconds[1]:.1f} s, "
          f"ratio {seconds[0] / seconds[1]:.2f}x")  # fmt: skip
    print(f"  same best settings {same_best} ({found[0].best_params}); same leaderboard "
          f"{same_board}; rounds {int(boards[0]['round'].max())}")  # fmt: skip


if __name__ == "__main__":
    main()
