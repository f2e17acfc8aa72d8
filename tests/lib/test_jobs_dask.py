"""Training jobs on a real Dask cluster (lib.jobs.DaskExecutor): results, progress, cancel,
faults (a worker killed, the scheduler gone), version skew, and a cluster started from the CLI.

Most tests share one ``LocalCluster`` (2 worker processes, 1 thread each); the CLI tests start
``dask scheduler`` and ``dask worker`` as subprocesses over TCP. Every process a test starts
is stopped in a ``finally``. Waits are ceilings, never expectations.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.express as px
import pytest

distributed = pytest.importorskip("distributed")

from lib import jobs  # noqa: E402
from lib.jobs import DaskExecutor, JobStore, LocalExecutor  # noqa: E402
from lib.jobs._versions import FAKE_VARIABLE, LIB  # noqa: E402
from lib.training import Options, compare_models, train  # noqa: E402

WAIT_S = 180  # a ceiling for a job or a cluster on a loaded machine, not an expectation
ROOT = Path(__file__).resolve().parents[2]
DASK = Path(sys.executable).with_name("dask")


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)  # fmt: skip
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def client(cluster) -> Iterator[distributed.Client]:
    """The test's own view of the cluster (to find and kill a worker)."""
    with distributed.Client(cluster, set_as_default=False) as client:
        yield client


@pytest.fixture
def store(tmp_path) -> JobStore:
    return JobStore(tmp_path / "jobs")


@pytest.fixture
def executor(cluster, store) -> Iterator[DaskExecutor]:
    executor = DaskExecutor(store, cluster.scheduler_address)
    try:
        yield executor
    finally:
        executor.close()


@pytest.fixture
def tips() -> pd.DataFrame:
    return px.data.tips()


def _wait_until(check: Callable[[], object], what: str) -> object:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


def _wait(store: JobStore, record: jobs.JobRecord, *statuses: str) -> jobs.JobRecord:
    wanted = statuses or tuple(jobs.FINISHED)

    def reached() -> jobs.JobRecord | None:
        current = store.read(record.workspace, record.id)
        return current if current is not None and current.status in wanted else None

    return _wait_until(reached, f"job {record.id} to reach {wanted}")  # type: ignore[return-value]


def _train_job(store, *, model="random_forest", options=None, target="tip") -> jobs.JobRecord:
    params = {"target": target, "model": model, "options": options or {"cv_folds": 3}}
    return store.create(jobs.new_id(), "train", f"Train {model}", params)


def _slow_table(rows: int = 10_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(rows, 8)), columns=[f"x{i}" for i in range(8)])
    frame["y"] = frame.sum(axis=1) + rng.normal(size=rows)
    return frame


def _slow_job(store) -> jobs.JobRecord:
    # Several seconds a fold on one thread: still running when the test acts on it.
    return _train_job(store, target="y", options={"cv_folds": 3, "params": {"n_estimators": 40}})


def test_a_train_job_on_the_cluster_gives_the_figures_of_training_in_process(executor, store, tips):
    assert executor.describe().endswith("(2 workers, 2 threads)")
    record = _train_job(store)
    executor.submit(record, tips)
    done = _wait(store, record)
    assert done.status == jobs.DONE, done.error
    assert done.fraction == 1.0 and done.finished >= done.started > 0

    result = jobs.training_result(store, done)  # through the safe loader, as a local job's
    expected = train(tips, "tip", model="random_forest", options=Options(cv_folds=3))
    # In process the forest predicts on its own threads: equal to the last bits or so.
    assert result.metrics == pytest.approx(expected.metrics, rel=1e-12)
    for name, scores in expected.cv_scores.items():
        assert result.cv_scores[name] == pytest.approx(scores, rel=1e-12)
    np.testing.assert_allclose(result.holdout.y_pred, expected.holdout.y_pred, rtol=1e-12)
    rows = tips.drop(columns="tip").head(20)
    np.testing.assert_allclose(result.pipeline.predict(rows), expected.pipeline.predict(rows),
                               rtol=1e-12)  # fmt: skip


def test_a_compare_job_on_the_cluster_gives_the_leaderboard_of_comparing_in_process(
    executor, store, tips
):
    params = {"target": "smoker", "model_keys": ["logistic_regression", "decision_tree"],
              "options": {"cv_folds": 3}}  # fmt: skip
    record = store.create(jobs.new_id(), "compare", "Compare models", params)
    executor.submit(record, tips)
    done = _wait(store, record)
    assert done.status == jobs.DONE, done.error
    board = jobs.leaderboard(store, done)
    expected = compare_models(tips, "smoker", model_keys=params["model_keys"],
                              options=Options(cv_folds=3))  # fmt: skip
    pd.testing.assert_frame_equal(board.drop(columns="seconds"), expected.drop(columns="seconds"),
                                  check_exact=True)  # fmt: skip
    assert board.attrs == expected.attrs


def test_a_job_that_cannot_train_on_the_cluster_fails_in_plain_words(executor, store, tips):
    record = _train_job(store, target="no such column")
    executor.submit(record, tips)
    done = _wait(store, record)
    assert done.status == jobs.FAILED
    assert "no such column" in done.error and "Traceback" not in done.error


def test_folds_on_the_cluster_come_in_order_and_shared_data_reaches_each_worker_once(client):
    def job():  # run as a task: lib.parallel then spreads its tasks over the cluster
        from lib import parallel

        shared = np.zeros(200_000)  # 1.6 MB, as a prepared table in every fold task
        with parallel.on_dask_cluster(2):
            where = lambda values, i: (i, os.getpid(), values.__array_interface__["data"][0])  # noqa: E731
            return list(parallel.in_order(where, [(shared, i) for i in range(6)]))

    results = client.submit(job, pure=False).result(timeout=WAIT_S)
    assert [i for i, _, _ in results] == list(range(6))
    copies = {(pid, address) for _, pid, address in results}
    # One copy per worker process that ran tasks, shared by its tasks (not one per task).
    assert len(copies) == len({pid for _, pid, _ in results}) <= 2


def _executing_worker(client: distributed.Client, record: jobs.JobRecord) -> str | None:
    """The address of the worker running ``record``'s task, if any is."""
    key = f"model-studio-job-{record.id}"
    found = client.run(lambda dask_worker: getattr(dask_worker.state.tasks.get(key), "state", ""))
    return next((w for w, state in found.items() if state in ("executing", "long-running")), None)


def _idle(client: distributed.Client) -> bool:
    return not any(client.processing().values())


def test_progress_reaches_the_record_and_cancel_stops_the_job(executor, store, client):
    record = _slow_job(store)
    executor.submit(record, _slow_table())
    running = _wait_until(
        lambda: (r := store.read(record.workspace, record.id)) and r.fraction > 0 and r,
        "progress past the first fold",
    )
    assert running.status == jobs.RUNNING and running.step.startswith("Cross-validation fold")
    assert 0 < running.fraction < 1 and running.started > 0
    assert executor.running() == 1

    cancelled = executor.cancel(running)
    assert cancelled.status == jobs.CANCELLED
    assert store.read(record.workspace, record.id).status == jobs.CANCELLED
    assert executor.running() == 0
    # The task sees the cancel at its next progress report and stops: the cluster goes idle.
    _wait_until(lambda: _idle(client), "the cluster to stop the cancelled job")
    assert store.read(record.workspace, record.id).status == jobs.CANCELLED


def test_a_worker_killed_mid_job_has_the_job_run_again_on_another(executor, store, client):
    record = _slow_job(store)
    executor.submit(record, _slow_table())
    _wait(store, record, jobs.RUNNING)
    worker = _wait_until(lambda: _executing_worker(client, record), "the job's worker")
    pid = client.run(os.getpid, workers=[worker])[worker]
    os.kill(pid, signal.SIGKILL)

    done = _wait(store, record)
    assert done.status == jobs.DONE, done.error
    result = jobs.training_result(store, done)
    assert all(len(scores) == 3 for scores in result.cv_scores.values())
    _wait_until(lambda: len(client.nthreads()) == 2, "the nanny to restart the worker")


@pytest.fixture
def own_cluster(store) -> Iterator[tuple[DaskExecutor, distributed.Client]]:
    """An executor and a client on a cluster of the test's own, for a test that kills every
    worker: the module's cluster then never depends on its nannies restarting them all (on a
    loaded machine that can take minutes)."""
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                 dashboard_address=None) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):  # fmt: skip
        executor = DaskExecutor(store, cluster.scheduler_address)
        try:
            yield executor, client
        finally:
            executor.close()


def test_a_job_whose_table_went_with_every_worker_is_sent_again(own_cluster, store):
    """The scheduler's memory manager may drop the table's second copy at any time, so a lost
    worker can take the only one: the job then scatters the table again from its folder."""
    executor, client = own_cluster
    record = _slow_job(store)
    executor.submit(record, _slow_table())
    _wait(store, record, jobs.RUNNING)
    _wait_until(lambda: _executing_worker(client, record), "the job's worker")
    for pid in client.run(os.getpid).values():  # every copy of the table goes
        os.kill(pid, signal.SIGKILL)

    done = _wait(store, record)
    assert done.status == jobs.DONE, done.error
    result = jobs.training_result(store, done)
    assert all(len(scores) == 3 for scores in result.cv_scores.values())


@pytest.mark.parametrize(("name", "fake"), [("scikit-learn", "0.0.1"), (LIB, "0123456789abcdef")])
def test_a_worker_with_other_versions_is_refused_naming_the_package(
    cluster, client, store, monkeypatch, name, fake
):
    fakes = json.dumps({name: fake})
    client.run(lambda: os.environ.__setitem__(FAKE_VARIABLE, fakes))
    try:
        with pytest.raises(jobs.ClusterUnusable) as refused:
            DaskExecutor(store, cluster.scheduler_address)
        message = str(refused.value)
        assert f"has {name} {fake}, this app has" in message
        assert all(worker in message for worker in client.nthreads())
        assert "PYTHONPATH" in message and "Traceback" not in message

        monkeypatch.setenv(jobs.SCHEDULER_VARIABLE, cluster.scheduler_address)
        fallback = jobs.executor_for(store)
        assert isinstance(fallback, LocalExecutor) and fallback.note == message
    finally:
        client.run(lambda: os.environ.pop(FAKE_VARIABLE, None))
    DaskExecutor(store, cluster.scheduler_address).close()  # the same workers, now accepted


# --- a cluster started from the command line ---------------------------------------------------


class _Processes:
    """Subprocesses started by a test, each in its own session; all stopped by ``stop``."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []

    def start(self, *args: str, **kwargs) -> subprocess.Popen:
        process = subprocess.Popen([str(DASK), *args], start_new_session=True,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   **kwargs)  # fmt: skip
        self.started.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own session: the worker and nanny
                process.wait(20)

    def stop_all(self) -> None:
        for process in reversed(self.started):
            self.stop(process)


@pytest.fixture
def processes() -> Iterator[_Processes]:
    started = _Processes()
    try:
        yield started
    finally:
        started.stop_all()


def _env(pythonpath: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return env | ({"PYTHONPATH": pythonpath} if pythonpath else {})


def _scheduler(processes: _Processes, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """``dask scheduler`` on a free port (it writes its address to a file). It unpickles the
    tasks, so it needs the app's lib too."""
    path = tmp_path / "scheduler.json"
    process = processes.start("scheduler", "--host", "127.0.0.1", "--port", "0",
                              "--no-dashboard", "--scheduler-file", str(path),
                              cwd=tmp_path, env=_env(str(ROOT)))  # fmt: skip
    _wait_until(lambda: path.exists() and path.stat().st_size > 0, "the scheduler's file")
    address = _wait_until(lambda: json.loads(path.read_text()).get("address"), "its address")
    return process, str(address)


def _worker(processes: _Processes, address: str, cwd: Path, pythonpath: str | None):
    return processes.start("worker", address, "--nthreads", "1", "--nworkers", "1",
                           "--no-dashboard", cwd=cwd, env=_env(pythonpath))  # fmt: skip


def _workers(address: str, n: int) -> None:
    with distributed.Client(address, timeout=WAIT_S, set_as_default=False) as client:
        _wait_until(lambda: len(client.nthreads()) == n, f"{n} worker(s)")


def test_a_cli_cluster_runs_a_job_through_executor_for_once_its_worker_imports_lib(
    processes, store, tips, tmp_path, monkeypatch
):
    _, address = _scheduler(processes, tmp_path)
    monkeypatch.setenv(jobs.SCHEDULER_VARIABLE, address)
    # A worker started elsewhere without PYTHONPATH cannot import the app's lib: refused.
    stray = _worker(processes, address, tmp_path, pythonpath=None)
    _workers(address, 1)
    refused = jobs.executor_for(store)
    assert isinstance(refused, LocalExecutor)
    assert "cannot import the app's lib" in refused.note and address in refused.note

    processes.stop(stray)
    _workers(address, 0)
    _worker(processes, address, tmp_path, pythonpath=str(ROOT))
    _workers(address, 1)
    executor = jobs.executor_for(store)
    try:
        assert isinstance(executor, DaskExecutor), getattr(executor, "note", "")
        assert executor.describe() == f"Dask cluster {address} (1 worker, 1 thread)"
        record = _train_job(store, model="logistic_regression", target="smoker")
        executor.submit(record, tips)
        done = _wait(store, record)
        assert done.status == jobs.DONE, done.error
        expected = train(tips, "smoker", model="logistic_regression", options=Options(cv_folds=3))
        result = jobs.training_result(store, done)
        assert result.cv_scores == expected.cv_scores and result.metrics == expected.metrics
    finally:
        executor.close()


@pytest.mark.slow
def test_the_scheduler_going_away_fails_running_jobs_and_local_jobs_still_run(
    processes, store, tips, tmp_path, monkeypatch
):
    scheduler, address = _scheduler(processes, tmp_path)
    _worker(processes, address, tmp_path, pythonpath=str(ROOT))
    _workers(address, 1)
    executor = DaskExecutor(store, address)
    try:
        record = _slow_job(store)
        executor.submit(record, _slow_table())
        _wait(store, record, jobs.RUNNING)
        os.kill(scheduler.pid, signal.SIGKILL)
        failed = _wait(store, record)
        assert failed.status == jobs.FAILED
        assert f"The Dask cluster at {address} stopped answering" in failed.error
        assert executor.describe().endswith("(not answering)")
    finally:
        executor.close()

    monkeypatch.setenv(jobs.SCHEDULER_VARIABLE, address)
    local = jobs.executor_for(store)  # the cluster is gone: jobs run here, saying why
    assert isinstance(local, LocalExecutor) and "could not be reached" in local.note
    record = _train_job(store)
    local.submit(record, tips)
    assert _wait(store, record).status == jobs.DONE


def test_a_job_past_its_time_limit_on_the_cluster_is_stopped_and_says_so(executor, store, client):
    record = _train_job(store, target="y", options={"cv_folds": 3, "params": {"n_estimators": 40}})
    record = record.with_(params=record.params | {"time_limit_s": 1})
    store.write(record)
    executor.submit(record, _slow_table())
    stopped = _wait(store, record, jobs.FAILED)
    assert "past its time budget" in stopped.error
    _wait_until(lambda: _idle(client), "the cluster to stop the job")
    assert store.read(record.workspace, record.id).status == jobs.FAILED
