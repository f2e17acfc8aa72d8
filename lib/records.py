"""What a session works with: its current table and its current model."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.model_info import ModelInfo
from lib.profile import ColumnProfile
from lib.runners import InProcessRunner, ModelRunner
from lib.self_check import Verdict


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class TableData:
    """A table the person gave: its name, rows (n_rows x n_columns), content hash and column
    profiles (empty when not profiled)."""

    name: str
    df: pd.DataFrame
    sha: str
    profiles: list[ColumnProfile] = field(default_factory=list)
    suggested_target: str | None = None


@dataclass(frozen=True)
class CurrentModel:
    """The model a session works with, where it came from, and what is known about it.

    ``model`` is the estimator when the app built it in this process (it then runs here);
    a model from outside is never held here: ``model`` is None, ``runner`` reaches it in its
    sandboxed worker, and ``file_bytes`` keeps its file as it came. ``id`` is new for every
    model put in place, so per-model caches (file bytes, predictions) can be keyed on it.
    """

    model: Any
    info: ModelInfo
    source: str
    name: str
    load_warnings: list[str] = field(default_factory=list)
    result: Any = None  # the TrainingResult when it was trained in this session
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    runner: ModelRunner = None  # type: ignore[assignment]  # set from ``model`` when not given
    file_bytes: bytes | None = None
    # What re-predicting the file's check rows showed (``lib.self_check.Verdict``) for a model
    # opened from a file; None for one trained in this session.
    self_check: Verdict | None = None

    def __post_init__(self) -> None:
        if self.runner is None:
            object.__setattr__(self, "runner", InProcessRunner(self.model))

    @property
    def sandboxed(self) -> bool:
        """Whether the model came from outside and runs only in a sandboxed worker."""
        return self.model is None

    @property
    def warnings(self) -> list[str]:
        """What the person should know about the file: version skew, loader notes, a damaged
        record."""
        version = [self.info.version_warning] if self.info.version_warning else []
        return version + list(self.load_warnings) + list(self.info.notes)
