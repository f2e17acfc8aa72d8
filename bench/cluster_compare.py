"""Compare models on one worker, on the local pool (2 workers) and on a 2-worker Dask cluster.

The generated 100,000-row classification table of ``bench/parallel_training.py`` (10 numeric,
3 categorical columns; compare_models samples 20,000 rows, as in the app) is compared with
single-threaded estimators (logistic regression, decision tree, Gaussian NB, MLP: no forest
or k-neighbours, which thread by themselves): in process with ``MODEL_STUDIO_TRAIN_JOBS=1``,
then ``=2`` (loky), then as a compare job on a ``LocalCluster`` of 2 worker processes with 1
thread each (``DaskExecutor``: the table scattered, the job on one worker, its folds on both,
the leaderboard sent back as a file). Times, ratios and whether the leaderboards are identical
are printed, all from one run.

    PYTHONPATH=. .venv/bin/python bench/cluster_compare.py
    PYTHONPATH=. .venv/bin/python bench/cluster_compare.py --rows 20000 --models decision_tree
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import distributed

from bench.parallel_training import on_jobs, table
from lib import jobs, parallel, training

MODELS = "logistic_regression,decision_tree,gaussian_nb,mlp"


def on_cluster(frame, keys: list[str]):
    """The leaderboard of a compare job on a fresh 2-worker LocalCluster and its seconds (from
    submit to the record done, the cluster already up)."""
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=None) as cluster,
        tempfile.TemporaryDirectory() as root,
    ):  # fmt: skip
        store = jobs.JobStore(root)
        executor = jobs.DaskExecutor(store, cluster.scheduler_address)
        params = {"target": "target", "model_keys": keys}
        record = store.create(jobs.new_id(), "compare", "Compare", params)
        started = time.perf_counter()
        executor.submit(record, frame)
        while not (current := store.read(record.workspace, record.id)).finished_or_stopped:
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        if current.status != jobs.DONE:
            raise SystemExit(f"the job {current.status}: {current.error}")
        executor.close()
        return jobs.leaderboard(store, current), seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--models", default=MODELS)
    args = parser.parse_args()
    keys = args.models.split(",")
    frame = table(args.rows)
    print(f"{args.rows:,} rows, {parallel.usable_cores()} usable cores, models {keys}")
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}")

    boards, seconds = [], []
    for n in (1, 2):
        board, spent = on_jobs(n, training.compare_models, frame, "target", model_keys=keys)
        boards.append(board)
        seconds.append(spent)
    board, spent = on_cluster(frame, keys)
    boards.append(board)
    seconds.append(spent)

    figures = [b.drop(columns="seconds") for b in boards]
    same = [figures[0].equals(other) for other in figures[1:]]
    print(f"sequential (1 worker)      {seconds[0]:6.2f} s")
    print(f"local pool (2 workers)     {seconds[1]:6.2f} s  ratio {seconds[0] / seconds[1]:.2f}x"
          f"  identical {same[0]}")  # fmt: skip
    print(f"Dask LocalCluster (2 x 1)  {seconds[2]:6.2f} s  ratio {seconds[0] / seconds[2]:.2f}x"
          f"  identical {same[1]}")  # fmt: skip


if __name__ == "__main__":
    main()
