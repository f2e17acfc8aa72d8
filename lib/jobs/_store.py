"""Job records and their files on disk (``JobStore``).

Layout: ``<root>/<workspace>/<job id>/record.json``, beside the job's inputs (``table.arrow``,
``profiles.json``) and results. A workspace id is a person's unguessable key (32 hex digits):
every read names it, so one person's jobs are invisible to another. Records are replaced
atomically, so a reader never sees half of one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

from ._record import FINISHED, INTERRUPTED, JobRecord

_ID = re.compile(r"^[0-9a-f]{32}$")
RECORD = "record.json"


def new_id() -> str:
    """A fresh unguessable id (a workspace's or a job's): 32 hex digits."""
    return uuid.uuid4().hex


def valid_id(value: str) -> bool:
    return bool(_ID.match(value or ""))


class JobStore:
    """The jobs under ``root`` (created when needed)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def create(self, workspace: str, kind: str, title: str, params: dict[str, Any]) -> JobRecord:
        """A new queued job's record, written; its folder exists for its inputs."""
        record = JobRecord(id=new_id(), workspace=_checked(workspace), kind=kind, title=title,
                           params=params)  # fmt: skip
        self.folder(record).mkdir(parents=True, exist_ok=True)
        self.write(record)
        return record

    def folder(self, record: JobRecord) -> Path:
        return self.root / _checked(record.workspace) / _checked(record.id)

    def write(self, record: JobRecord) -> None:
        """Replace the record on disk, atomically."""
        folder = self.folder(record)
        handle, temporary = tempfile.mkstemp(prefix=".record-", dir=folder)
        try:
            with os.fdopen(handle, "w") as file:
                json.dump(record.to_json(), file)
            os.replace(temporary, folder / RECORD)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def read(self, workspace: str, job_id: str) -> JobRecord | None:
        """The job ``job_id`` of ``workspace``, or None (no such job, or not this workspace's)."""
        if not (valid_id(workspace) and valid_id(job_id)):
            return None
        return _load(self.root / workspace / job_id / RECORD)

    def jobs(self, workspace: str) -> list[JobRecord]:
        """The workspace's jobs, newest first."""
        if not valid_id(workspace):
            return []
        folder = self.root / workspace
        found = [_load(path / RECORD) for path in folder.iterdir()] if folder.is_dir() else []
        return sorted((r for r in found if r is not None), key=lambda r: r.created, reverse=True)

    def prune(self, workspace: str, keep: int = 20) -> int:
        """Delete the folders (inputs and results) of the workspace's finished jobs beyond
        the newest ``keep``; how many went. Unfinished jobs always stay."""
        finished = [r for r in self.jobs(workspace) if r.status in FINISHED]
        gone = finished[keep:]
        for record in gone:
            shutil.rmtree(self.folder(record), ignore_errors=True)
        return len(gone)

    def interrupt_unfinished(self) -> list[JobRecord]:
        """Mark every job that was queued or running as interrupted (a server starting: none
        of them has a process any more); the records changed."""
        changed = []
        for path in self.root.glob(f"*/*/{RECORD}"):
            record = _load(path)
            if record is not None and record.status not in FINISHED:
                record = record.with_(
                    status=INTERRUPTED,
                    error="The server restarted while this job was unfinished. Start it again.",
                    finished=record.finished or record.created,
                )
                self.write(record)
                changed.append(record)
        return changed


def _checked(value: str) -> str:
    if not valid_id(value):
        raise ValueError(f"not an id: {value!r}")
    return value


def _load(path: Path) -> JobRecord | None:
    try:
        return JobRecord.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
