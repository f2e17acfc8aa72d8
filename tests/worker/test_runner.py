"""A model from outside runs in its worker: same answers as in process, and every way a worker
can fail (crash, CPU, wall time, memory, garbage) ends in a plain message, an unloaded model
and a web process that carries on."""

from __future__ import annotations

import gc
import os
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest

from lib import samples, training
from lib.errors import ModelFileError, UnsafeModelError
from lib.exploration import Exploration
from lib.model_info import describe_model
from lib.persistence import dump_model
from lib.records import CurrentModel, TableData, sha256
from lib.safe_load import Limits
from lib.worker import POOL, ModelStopped, SandboxedRunner, WorkersBusy

# Backstops only: no test here waits for them. A healthy call on a loaded 2-core machine can
# take well over 20 s of wall time (partial dependence did), so they are generous.
QUICK = Limits(call_timeout_s=120, call_cpu_s=120, child_timeout_s=120)


@pytest.fixture(scope="module")
def iris():
    """(fitted pipeline, its file's bytes, the sample table) for the iris sample."""
    frame = samples.load_sample("iris")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = training.train(frame, "species", options=training.Options(cv_folds=3))
    return result.pipeline, dump_model(result.pipeline), frame


def _table(frame: pd.DataFrame) -> TableData:
    return TableData("rows.csv", frame, sha256(frame.to_csv().encode()))


def _wait_for(check, what: str, ceiling_s: float = 120) -> None:
    """Poll ``check`` until true: on a loaded machine a process can take seconds to end or
    start a call (a ceiling, not an expectation)."""
    deadline = time.monotonic() + ceiling_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_exploration_through_the_worker_matches_in_process(iris):
    pipeline, data, frame = iris
    runner = SandboxedRunner(data, QUICK)
    assert runner.info == describe_model(pipeline)
    inside = Exploration(CurrentModel(model=pipeline, info=describe_model(pipeline),
                                      source="t", name="m"), _table(frame))  # fmt: skip
    outside = Exploration(CurrentModel(model=None, info=runner.info, source="t", name="m",
                                       runner=runner, file_bytes=data), _table(frame))  # fmt: skip
    pd.testing.assert_frame_equal(inside.predictions.frame, outside.predictions.frame)
    assert inside.scores == outside.scores
    pd.testing.assert_frame_equal(inside.importance.table, outside.importance.table)
    a = inside.partial_dependence("petal length (cm)", "virginica")
    b = outside.partial_dependence("petal length (cm)", "virginica")
    assert np.array_equal(a.grid, b.grid) and np.array_equal(a.individual, b.individual)
    assert a.class_label == b.class_label == "virginica"
    row = {name: 1.0 for name in outside.input_names}
    assert inside.what_if(row).frame.equals(outside.what_if(row).frame)
    runner.close()


@pytest.mark.parametrize(
    ("fault", "limits", "says"),
    [
        ("crash", QUICK, "crashed (a memory fault, SIGSEGV) while predicting these rows"),
        ("spin", Limits(call_cpu_s=1, call_timeout_s=60), "used more than 1 CPU-seconds"),
        ("hang", Limits(call_timeout_s=2), "did not finish within 2 seconds"),
        ("memory", Limits(child_memory_bytes=512 * 1024**2), "needed more than 536,870,912 bytes"),
        ("garbage", QUICK, "sent back something that is not a valid answer"),
    ],
)
def test_a_failing_worker_unloads_its_model_and_nothing_else(iris, fault, limits, says):
    pipeline, data, frame = iris
    rows = frame.drop(columns="species")
    healthy = SandboxedRunner(data, QUICK)
    failing = SandboxedRunner(data, limits, _test_fault=fault)
    with pytest.raises(ModelStopped) as stopped:
        failing.run("predict", X=rows, proba=True)
    message = str(stopped.value)
    assert says in message, message
    assert "Nothing else was affected" in message and "The model was unloaded" in message
    assert failing.failure == message
    with pytest.raises(ModelStopped):  # it stays unloaded: no silent restart
        failing.run("predict", X=rows, proba=True)
    _wait_for(lambda: not _alive(failing.pid), "the failed worker to end")
    # This process and the other model carry on.
    expected = pipeline.predict(rows)
    assert (healthy.run("predict", X=rows)["y"] == expected).all()
    healthy.close()


def test_a_crash_while_opening_is_a_refusal(iris):
    with pytest.raises(UnsafeModelError, match="crashed the isolated process"):
        SandboxedRunner(iris[1], QUICK, _test_fault="crash_on_open")


def test_the_worker_refuses_what_the_loader_refuses():
    import pickle

    hostile = pickle.dumps(os.system)  # a GLOBAL os.system: never on the allow-list
    with pytest.raises(UnsafeModelError, match=r"posix\.system"):
        SandboxedRunner(hostile, QUICK)
    with pytest.raises(ModelFileError, match="not a complete joblib or pickle model file"):
        SandboxedRunner(b"\x80\x05not a pickle", QUICK)


def test_a_model_failing_on_its_own_columns_is_refused(iris):
    pipeline, _, _ = iris
    broken = dump_model(pipeline)
    # The app's record says the columns are numbers; a model that cannot take any row built
    # from that record is broken: here its record names a column the model never saw.
    import copy

    from lib.metadata import METADATA_ATTR

    model = copy.deepcopy(pipeline)
    record = dict(getattr(model, METADATA_ATTR))
    features = [dict(f) for f in record["features"]]
    features[0]["name"] = "not_a_column"
    record["features"] = features
    setattr(model, METADATA_ATTR, record)
    broken = dump_model(model)
    with pytest.raises(ModelFileError, match="fails on ordinary rows"):
        SandboxedRunner(broken, QUICK)


def test_the_pool_makes_room_from_idle_workers_and_restarts_them(iris):
    _, data, frame = iris
    rows = frame.drop(columns="species").head(5)
    two = Limits(max_workers=2)
    first = SandboxedRunner(data, two)
    first_pid = first.pid
    second = SandboxedRunner(data, two)
    third = SandboxedRunner(data, two)  # takes the place of the least recently used: first
    _wait_for(lambda: not _alive(first_pid), "the least recently used worker to end")
    assert POOL.live() <= 2
    assert len(first.run("predict", X=rows)["y"]) == 5  # reopened from its file
    assert first.pid != first_pid and first.failure is None
    for runner in (first, second, third):
        runner.close()


def test_a_full_pool_of_busy_workers_says_so(iris):
    _, data, frame = iris
    rows = frame.drop(columns="species")
    one = Limits(max_workers=1, call_timeout_s=30)
    busy = SandboxedRunner(data, one, _test_fault="hang")
    outcome: list[Exception] = []

    def call() -> None:
        try:
            busy.run("predict", X=rows)
        except ModelStopped as error:
            outcome.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    _wait_for(lambda: busy._worker.busy, "the worker to be busy with the hanging call")
    with pytest.raises(WorkersBusy, match="MODEL_STUDIO_MAX_WORKERS"):
        SandboxedRunner(data, one)
    busy._worker.kill()
    caller.join(30)
    assert outcome and "crashed" in str(outcome[0])


def test_idle_workers_are_stopped_and_come_back(iris):
    _, data, frame = iris
    runner = SandboxedRunner(data, Limits(idle_s=0.2))
    pid = runner.pid
    time.sleep(0.5)
    POOL.reap()
    _wait_for(lambda: not _alive(pid), "the idle worker to end")
    assert len(runner.run("predict", X=frame.drop(columns="species"))["y"]) == len(frame)
    runner.close()


def test_a_forgotten_runner_stops_its_worker(iris):
    runner = SandboxedRunner(iris[1], QUICK)
    pid = runner.pid
    del runner
    gc.collect()
    _wait_for(lambda: not _alive(pid), "the forgotten runner's worker to end")


def test_callers_queued_on_a_failing_worker_are_told_its_first_failure(iris):
    # Requests queued behind the one that ran out of memory found the worker already stopped
    # by the runner and reported it as "crashed (exit code 0)", overwriting ``failure``.
    _, data, frame = iris
    rows = frame.drop(columns="species")
    failing = SandboxedRunner(data, Limits(child_memory_bytes=512 * 1024**2), _test_fault="memory")
    start = threading.Barrier(4)
    messages: list[str] = []

    def call() -> None:
        start.wait(30)
        try:
            failing.run("predict", X=rows)
        except ModelStopped as error:
            messages.append(str(error))

    callers = [threading.Thread(target=call) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(120)
    assert len(messages) == 4
    assert failing.failure is not None and "needed more than 536,870,912 bytes" in failing.failure
    assert all(message == failing.failure for message in messages), messages
    _wait_for(lambda: not _alive(failing.pid), "the failed worker to end")


def test_a_worker_cannot_send_back_a_file_of_the_project(iris):
    if not _landlock_available():
        pytest.skip("this kernel has no Landlock: reads cannot be confined")
    _, data, frame = iris
    runner = SandboxedRunner(data, QUICK, _test_fault="exfiltrate")

    # The worker tries to read the repository's README.md and fails the request with what it
    # read as the error message, which comes back to the page as is.
    with pytest.raises(ValueError, match=r"^could not read: PermissionError$"):
        runner.run("predict", X=frame.drop(columns=["species"]).head(2))
    runner.close()


def _landlock_available() -> bool:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0), ctypes.c_uint32(1)) >= 1
