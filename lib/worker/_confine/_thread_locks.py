"""multiprocessing's locks become threading's: its own need files in /dev/shm."""

from __future__ import annotations


def _use_thread_locks(applied: list[str]) -> None:
    """Make multiprocessing's Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event and
    Barrier the threading ones.

    Its own are POSIX named semaphores, files created in /dev/shm, which the confinement forbids
    (and RLIMIT_FSIZE = 0 would stop their first write). A confined process cannot start another
    process to share one with anyway. They are needed even without processes: joblib's threading
    backend, which scikit-learn uses (HistGradientBoosting's binning, any model with n_jobs > 1),
    runs a multiprocessing.pool.ThreadPool, and that makes a SimpleQueue, which takes two Locks.
    """
    import multiprocessing.synchronize as synchronize
    import threading

    def lock(*, ctx: object = None) -> object:
        return threading.Lock()

    def rlock(*, ctx: object = None) -> object:
        return threading.RLock()

    def semaphore(value: int = 1, *, ctx: object = None) -> object:
        return threading.Semaphore(value)

    def bounded_semaphore(value: int = 1, *, ctx: object = None) -> object:
        return threading.BoundedSemaphore(value)

    def condition(lock: object = None, *, ctx: object = None) -> object:
        return threading.Condition(lock)  # type: ignore[arg-type]

    def event(*, ctx: object = None) -> object:
        return threading.Event()

    def barrier(
        parties: int, action: object = None, timeout: float | None = None, *, ctx: object = None
    ) -> object:
        return threading.Barrier(parties, action, timeout)  # type: ignore[arg-type]

    replacements = {
        "Lock": lock,
        "RLock": rlock,
        "Semaphore": semaphore,
        "BoundedSemaphore": bounded_semaphore,
        "Condition": condition,
        "Event": event,
        "Barrier": barrier,
    }
    for name, factory in replacements.items():
        setattr(synchronize, name, factory)
    applied.append(
        "multiprocessing's locks, semaphores, conditions, events and barriers are threading's "
        "(its own need files in /dev/shm)"
    )
