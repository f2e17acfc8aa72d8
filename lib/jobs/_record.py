"""One job's record: what it is, whose it is, how far it got (``JobRecord``).

A record is plain JSON on disk (``_store``), written whole and atomically by whichever process
changes it: the web process when it submits, cancels or finds a job interrupted, the job's
process as it makes progress and when it ends.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

QUEUED, RUNNING, DONE = "queued", "running", "done"
FAILED, CANCELLED, INTERRUPTED = "failed", "cancelled", "interrupted"
STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED, INTERRUPTED)
FINISHED = frozenset({DONE, FAILED, CANCELLED, INTERRUPTED})
KINDS = ("train", "compare", "tune")


@dataclass(frozen=True)
class JobRecord:
    """A job of ``kind`` in ``workspace``, with its ``params`` (plain JSON values).

    ``fraction`` (0 to 1) and ``step`` (words for a person) say how far it got; ``error`` why
    it failed (plain words); times are seconds since the epoch (0: not yet).
    """

    id: str
    workspace: str
    kind: str
    title: str
    params: dict[str, Any] = field(default_factory=dict)
    status: str = QUEUED
    fraction: float = 0.0
    step: str = "Waiting to start"
    error: str = ""
    created: float = field(default_factory=time.time)
    started: float = 0.0
    finished: float = 0.0
    pid: int = 0

    @property
    def finished_or_stopped(self) -> bool:
        return self.status in FINISHED

    def elapsed(self, now: float | None = None) -> float:
        """Seconds it has run (0 before it starts)."""
        if not self.started:
            return 0.0
        end = self.finished or (now if now is not None else time.time())
        return max(0.0, end - self.started)

    def seconds_left(self, now: float | None = None) -> float | None:
        """An estimate of the seconds left from the pace so far, or None when there is none."""
        if self.status != RUNNING or self.fraction <= 0.02:
            return None
        elapsed = self.elapsed(now)
        return elapsed * (1 - self.fraction) / self.fraction

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> JobRecord:
        """The record in ``data``; raises ValueError when it is not one."""
        if not isinstance(data, dict) or set(data) - {f.name for f in fields(cls)}:
            raise ValueError("not a job record")
        record = cls(**data)
        if record.status not in STATUSES or record.kind not in KINDS:
            raise ValueError(f"a job record with status {record.status!r}, kind {record.kind!r}")
        return record

    def with_(self, **changes: Any) -> JobRecord:
        return replace(self, **changes)
