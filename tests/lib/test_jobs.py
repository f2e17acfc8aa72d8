"""Training jobs in local processes (lib.jobs): results, progress, failures, cancel, restart."""

from __future__ import annotations

import json
import os
import signal
import time

import numpy as np
import pandas as pd
import plotly.express as px
import pytest

from lib import jobs
from lib.jobs import JobStore, LocalExecutor
from lib.jobs._work import RESULT
from lib.parallel import JOBS_VARIABLE
from lib.profile import profile_table
from lib.training import Options, compare_models, train

WAIT_S = 180  # a ceiling for a job on a loaded machine, not an expectation


@pytest.fixture
def store(tmp_path) -> JobStore:
    return JobStore(tmp_path / "jobs")


@pytest.fixture
def tips() -> pd.DataFrame:
    return px.data.tips()


def _wait(store: JobStore, record: jobs.JobRecord, *statuses: str) -> jobs.JobRecord:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        current = store.read(record.workspace, record.id)
        if current is not None and current.status in (statuses or tuple(jobs.FINISHED)):
            return current
        time.sleep(0.05)
    raise AssertionError(f"job {record.id} did not reach {statuses or 'an end'}: {current}")


def _train_job(store, workspace, *, model="random_forest", options=None, target="tip"):
    params = {"target": target, "model": model, "options": options or {"cv_folds": 3}}
    return store.create(workspace, "train", f"Train {model}", params)


def test_a_train_job_gives_the_model_and_figures_of_training_in_process(store, tips):
    workspace = jobs.new_id()
    executor = LocalExecutor(store)
    record = _train_job(store, workspace)
    executor.submit(record, tips, profile_table(tips))
    done = _wait(store, record)
    assert done.status == jobs.DONE, done.error
    assert done.fraction == 1.0 and done.elapsed() > 0 and done.finished >= done.started

    result = jobs.training_result(store, done)
    expected = train(tips, "tip", model="random_forest", options=Options(cv_folds=3))
    # A forest adds up its trees' outputs in thread order: equal to the last bits or so.
    assert result.metrics == pytest.approx(expected.metrics, rel=1e-12)
    for name, scores in expected.cv_scores.items():
        assert result.cv_scores[name] == pytest.approx(scores, rel=1e-12)
    assert result.features == expected.features and result.task == expected.task
    np.testing.assert_allclose(result.holdout.y_pred, expected.holdout.y_pred, rtol=1e-12)
    assert result.metric_intervals.keys() == expected.metric_intervals.keys() == {
        "r2", "mae", "rmse", "mape"}  # fmt: skip
    for name, bounds in expected.metric_intervals.items():
        assert result.metric_intervals[name] == pytest.approx(bounds, rel=1e-9)
    rows = tips.drop(columns="tip").head(20)
    np.testing.assert_allclose(result.pipeline.predict(rows), expected.pipeline.predict(rows),
                               rtol=1e-12)  # fmt: skip


def test_a_job_folder_from_before_intervals_reads_back_without_them(store, tips):
    record = _train_job(store, jobs.new_id(), model="ridge")
    LocalExecutor(store).submit(record, tips)
    done = _wait(store, record)
    assert done.status == jobs.DONE, done.error
    figures = store.folder(done) / RESULT
    plain = json.loads(figures.read_text())
    assert plain.pop("metric_intervals")
    figures.write_text(json.dumps(plain))
    assert jobs.training_result(store, done).metric_intervals == {}


def test_a_classification_holdout_keeps_its_classes_and_probabilities(store, tips):
    record = _train_job(store, jobs.new_id(), model="logistic_regression", target="smoker")
    LocalExecutor(store).submit(record, tips)
    done = _wait(store, record)
    assert done.status == jobs.DONE, done.error
    holdout = jobs.training_result(store, done).holdout
    assert list(holdout.classes) == ["No", "Yes"] and holdout.proba.shape[1] == 2


def test_a_compare_job_gives_the_leaderboard_of_comparing_in_process(store, tips):
    params = {"target": "tip", "model_keys": ["linear_regression", "random_forest"],
              "options": {"cv_folds": 3}}  # fmt: skip
    record = store.create(jobs.new_id(), "compare", "Compare models", params)
    LocalExecutor(store).submit(record, tips)
    done = _wait(store, record)
    assert done.status == jobs.DONE, done.error
    board = jobs.leaderboard(store, done)
    expected = compare_models(tips, "tip", model_keys=params["model_keys"],
                              options=Options(cv_folds=3))  # fmt: skip
    pd.testing.assert_frame_equal(board.drop(columns="seconds"), expected.drop(columns="seconds"),
                                  rtol=1e-12)  # fmt: skip
    assert board.attrs["primary"] == expected.attrs["primary"]


def test_a_job_that_cannot_train_fails_in_plain_words(store, tips):
    record = _train_job(store, jobs.new_id(), target="no such column")
    LocalExecutor(store).submit(record, tips)
    done = _wait(store, record)
    assert done.status == jobs.FAILED
    assert "no such column" in done.error and "Traceback" not in done.error


def _slow_table(rows: int = 60_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, 8)), columns=[f"x{i}" for i in range(8)])
    frame["y"] = frame.sum(axis=1) + rng.normal(size=rows)
    return frame


def _slow_job(store, workspace):
    # Enough trees and folds to still be running when the test acts on it.
    options = {"cv_folds": 5, "params": {"n_estimators": 400}}
    return _train_job(store, workspace, options=options, target="y")


def test_cancel_stops_a_running_job(store):
    executor = LocalExecutor(store)
    record = _slow_job(store, jobs.new_id())
    executor.submit(record, _slow_table())
    running = _wait(store, record, jobs.RUNNING)
    # A job yields the CPU to the web process's page reruns.
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    assert os.getpriority(os.PRIO_PROCESS, running.pid) == min(19, ours + 10)
    cancelled = executor.cancel(running)
    assert cancelled.status == jobs.CANCELLED
    assert store.read(record.workspace, record.id).status == jobs.CANCELLED
    with pytest.raises(ProcessLookupError):
        os.kill(running.pid, 0)


def test_a_killed_job_fails_clearly_and_the_next_one_runs(store, tips):
    executor = LocalExecutor(store, max_running=1)
    workspace = jobs.new_id()
    slow = _slow_job(store, workspace)
    executor.submit(slow, _slow_table())
    after = _train_job(store, workspace)
    executor.submit(after, tips)
    running = _wait(store, slow, jobs.RUNNING)
    assert store.read(workspace, after.id).status == jobs.QUEUED  # one at a time
    os.kill(running.pid, signal.SIGKILL)
    failed = _wait(store, slow)
    assert failed.status == jobs.FAILED
    assert "killed (SIGKILL)" in failed.error and "out of memory" in failed.error
    assert _wait(store, after).status == jobs.DONE


def test_a_job_with_parallel_folds_ends_its_process_so_the_next_one_runs(store, tips, monkeypatch):
    """Its folds run in loky workers, which idle for 5 minutes; the job's process must not
    wait for them (a queued job once waited that long for a free place)."""
    monkeypatch.setenv(JOBS_VARIABLE, "2")  # the job's process inherits it: folds in parallel
    executor = LocalExecutor(store, max_running=1)
    workspace = jobs.new_id()
    first, second = _train_job(store, workspace), _train_job(store, workspace)
    executor.submit(first, tips)
    executor.submit(second, tips)
    assert _wait(store, first).status == jobs.DONE
    assert _wait(store, second).status == jobs.DONE  # within WAIT_S, well under 5 minutes


def test_unfinished_jobs_show_as_interrupted_after_a_restart(store, tips):
    workspace = jobs.new_id()
    queued = _train_job(store, workspace)
    running = store.create(workspace, "train", "Train", queued.params)
    store.write(running.with_(status=jobs.RUNNING, started=time.time(), fraction=0.4))
    finished = store.create(workspace, "train", "Train", queued.params)
    store.write(finished.with_(status=jobs.DONE))
    changed = JobStore(store.root).interrupt_unfinished()  # a new server over the same folder
    assert {r.id for r in changed} == {queued.id, running.id}
    for record in (queued, running):
        now = store.read(workspace, record.id)
        assert now.status == jobs.INTERRUPTED and "restarted" in now.error
    assert store.read(workspace, finished.id).status == jobs.DONE


def test_a_workspace_sees_only_its_own_jobs(store, tips):
    mine, theirs = jobs.new_id(), jobs.new_id()
    record = _train_job(store, mine)
    assert store.read(theirs, record.id) is None
    assert [r.id for r in store.jobs(mine)] == [record.id] and store.jobs(theirs) == []
    assert store.read("../" + mine, record.id) is None and store.jobs("not-an-id") == []


def test_progress_gives_an_estimate_of_the_time_left():
    record = jobs.JobRecord(id=jobs.new_id(), workspace=jobs.new_id(), kind="train", title="t",
                            status=jobs.RUNNING, started=100.0, fraction=0.25)  # fmt: skip
    assert record.elapsed(now=140.0) == 40.0
    assert record.seconds_left(now=140.0) == pytest.approx(120.0)
    assert record.with_(fraction=0.0).seconds_left(now=140.0) is None


def test_a_job_past_its_time_limit_is_stopped_and_says_so(store):
    rng = np.random.default_rng(0)
    rows = pd.DataFrame(rng.normal(size=(20_000, 8)), columns=[f"x{i}" for i in range(8)])
    rows["y"] = rows.sum(axis=1)
    params = {"target": "y", "model": "random_forest", "time_limit_s": 1,
              "options": {"cv_folds": 5, "params": {"n_estimators": 1000}}}  # fmt: skip
    record = store.create(jobs.new_id(), "train", "Train a slow forest", params)
    LocalExecutor(store).submit(record, rows)
    stopped = _wait(store, record)
    assert stopped.status == jobs.FAILED
    assert "past its time budget" in stopped.error


def test_a_tune_job_gives_its_candidates_and_a_final_model(store, tips):
    params = {"target": "tip", "model": "ridge", "budget_s": 120, "options": {"cv_folds": 2}}
    record = store.create(jobs.new_id(), "tune", "Tune ridge", params)
    LocalExecutor(store).submit(record, tips, profile_table(tips))
    done = _wait(store, record)
    assert done.status == jobs.DONE, done.error
    board, found = jobs.tuning_leaderboard(store, done)
    assert "alpha" in board and found["best_params"]["alpha"] > 0
    assert jobs.training_result(store, done).model_key == "ridge"


def test_prune_keeps_the_newest_finished_jobs_and_every_unfinished_one(store):
    workspace = jobs.new_id()
    made = [store.create(workspace, "train", f"job {i}", {}) for i in range(5)]
    for record in made[:4]:
        store.write(record.with_(status=jobs.DONE))
    assert store.prune(workspace, keep=2) == 2
    left = {r.title for r in store.jobs(workspace)}
    assert left == {"job 4", "job 3", "job 2"}  # job 4 is unfinished
