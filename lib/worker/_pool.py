"""The server's bound on live model workers, and the reaper of idle ones.

At most ``limits.max_workers`` workers live at once. A new one takes a free place, or the place
of the least recently used worker that is not answering a request (its model restarts from its
file when next needed); when every worker is busy, ``WorkersBusy`` says so. A worker unused for
``limits.idle_s`` is stopped by a background thread.
"""

from __future__ import annotations

import threading
import time
import weakref

from lib.errors import UserError

from ._process import Worker

REAP_EVERY_SECONDS = 15.0


class WorkersBusy(UserError):
    """Every model worker of this server is answering a request."""


class Pool:
    """Live workers of this server (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._workers: weakref.WeakSet[Worker] = weakref.WeakSet()
        self._reaper: threading.Thread | None = None

    def make_room(self, max_workers: int) -> None:
        """Free a place for one more worker, or raise ``WorkersBusy``."""
        with self._lock:
            live = [w for w in self._workers if w.alive]
            if len(live) < max_workers:
                return
            idle = sorted((w for w in live if not w.busy), key=lambda w: w.last_used)
            if not idle:
                raise WorkersBusy(
                    f"All {max_workers} model workers of this server are busy running models "
                    "right now. Try again in a minute. (Whoever runs the app can allow more "
                    "with MODEL_STUDIO_MAX_WORKERS.)"
                )
            victim = idle[0]
            victim.retired = True  # claimed under the lock: no call can start on it now
        victim.stop()

    def add(self, worker: Worker) -> None:
        with self._lock:
            self._workers.add(worker)
            if self._reaper is None:
                self._reaper = threading.Thread(target=self._reap, name="model-worker-reaper",
                                                daemon=True)  # fmt: skip
                self._reaper.start()

    def begin(self, worker: Worker) -> bool:
        """Mark ``worker`` busy; False when it was retired meanwhile (start another)."""
        with self._lock:
            if not worker.alive:
                return False
            worker.busy = True
            return True

    def end(self, worker: Worker) -> None:
        with self._lock:
            worker.busy = False
            worker.last_used = time.monotonic()

    def live(self) -> int:
        """How many workers are alive now."""
        with self._lock:
            return sum(1 for w in self._workers if w.alive)

    def _reap(self) -> None:
        while True:
            time.sleep(REAP_EVERY_SECONDS)
            self.reap()

    def reap(self) -> None:
        """Stop every worker idle for longer than its ``limits.idle_s``."""
        now = time.monotonic()
        with self._lock:
            stale = [
                w for w in self._workers
                if w.alive and not w.busy and now - w.last_used > w.limits.idle_s
            ]  # fmt: skip
            for worker in stale:
                worker.retired = True
        for worker in stale:
            worker.stop()


POOL = Pool()
