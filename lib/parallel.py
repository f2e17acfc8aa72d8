"""Running independent training tasks on several cores, with results in task order.

``n_jobs()`` is how many worker processes training may use: ``MODEL_STUDIO_TRAIN_JOBS`` when
set (1 means no pool at all), otherwise every core this process may run on. ``in_order(func,
tasks)`` yields ``func(*task)`` for each task in the order of ``tasks``, whatever order the
workers finish in, so figures are the same as a one-after-another run.

Workers are joblib's loky processes: scikit-learn's single-threaded estimators hold the GIL, so
threads would not help them. Inside a worker, native thread pools (OpenMP, BLAS) get one thread
each, so that n workers use n cores and not n x cores.

Inside a job running on a Dask worker (``on_dask_cluster(threads)``), the tasks go to the
cluster instead, through joblib's dask backend: ``n_jobs()`` is the cluster's thread count, and
the job's thread secedes from the worker's pool while it waits for them (no deadlock when every
thread runs a job). Arguments shared by several tasks (the prepared table, the folds) are sent
to each worker once per call, not with every task.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import joblib

JOBS_VARIABLE = "MODEL_STUDIO_TRAIN_JOBS"
T = TypeVar("T")
_SCALARS = (int, float, str, bytes, type(None))
# The thread count of the Dask cluster the current job runs on; 0: not on a cluster.
_CLUSTER_THREADS = contextvars.ContextVar("model_studio_cluster_threads", default=0)


def usable_cores() -> int:
    """How many cores this process may run on (its CPU affinity, where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, joblib.cpu_count())


@contextlib.contextmanager
def on_dask_cluster(threads: int) -> Iterator[None]:
    """Within: ``in_order`` runs tasks on the Dask cluster of the current worker (``threads``
    threads in all), and ``n_jobs()`` is ``threads``. For a job's task on a Dask worker."""
    token = _CLUSTER_THREADS.set(max(1, threads))
    try:
        yield
    finally:
        _CLUSTER_THREADS.reset(token)


def n_jobs() -> int:
    """Workers for training: on a Dask cluster its thread count, otherwise
    ``MODEL_STUDIO_TRAIN_JOBS`` or ``usable_cores()``."""
    if threads := _CLUSTER_THREADS.get():
        return threads
    raw = os.environ.get(JOBS_VARIABLE, "").strip()
    if not raw:
        return usable_cores()
    try:
        return max(1, int(raw))
    except ValueError:
        raise ValueError(
            f"{JOBS_VARIABLE} must be a whole number of workers, not {raw!r}"
        ) from None


def in_order(
    func: Callable[..., T], tasks: Sequence[tuple[Any, ...]], jobs: int | None = None
) -> Iterator[T]:
    """``func(*task)`` for each of ``tasks``, yielded in task order as each is ready.

    With ``jobs`` (default ``n_jobs()``) or the number of tasks at most 1, tasks run here, one
    after another. Otherwise ``func`` and each task's arguments are pickled to loky workers
    (numpy arrays over 1 MB go through a memory map); an exception raised by a task is raised
    here with its own type and message.
    """
    jobs = min(n_jobs() if jobs is None else jobs, len(tasks))
    if jobs <= 1:
        return (func(*task) for task in tasks)
    if _CLUSTER_THREADS.get():
        return _on_cluster(func, tasks, jobs)
    with joblib.parallel_config(backend="loky", inner_max_num_threads=1):
        # The generator hands back results in submission order; the pool is started and the
        # tasks dispatched here, while the configuration applies.
        return joblib.Parallel(n_jobs=jobs, return_as="generator")(
            joblib.delayed(func)(*task) for task in tasks
        )


def _on_cluster(func: Callable[..., T], tasks: Sequence[tuple[Any, ...]], jobs: int) -> Iterator[T]:
    """``in_order`` on the Dask cluster: an argument shared by several tasks (the prepared
    table, the folds) is sent to every worker once, not with each task; each task runs alone
    (``_alone``). Dask workers started by a nanny already give native thread pools one thread.
    """
    objects = {id(arg): arg for task in tasks for arg in task if not isinstance(arg, _SCALARS)}
    uses = collections.Counter(i for task in tasks for i in {id(arg) for arg in task})
    shared = [arg for i, arg in objects.items() if uses[i] > 1]
    with joblib.parallel_config(backend="dask", scatter=shared):
        return joblib.Parallel(n_jobs=jobs, return_as="generator")(
            joblib.delayed(_alone)(func, *task) for task in tasks
        )


def _alone(func: Callable[..., T], *args: Any) -> T:
    """``func(*args)`` with joblib sequential inside: joblib's dask backend would otherwise
    spread a pipeline's own joblib calls (a column transformer's) as tiny cluster tasks."""
    with joblib.parallel_config(backend="sequential"):
        return func(*args)
