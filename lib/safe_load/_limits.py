"""Resource caps for loading one model file (:class:`Limits`)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, fields
from typing import Any

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB

# Environment variable -> Limits field. Documented in lib/safe_load/__init__.py.
ENV_VARS: dict[str, str] = {
    "MODEL_STUDIO_MAX_MODEL_BYTES": "max_file_bytes",
    "MODEL_STUDIO_MAX_INFLATED_BYTES": "max_inflated_bytes",
    "MODEL_STUDIO_MAX_ITEM_BYTES": "max_item_bytes",
    "MODEL_STUDIO_MAX_OBJECTS": "max_objects",
    "MODEL_STUDIO_MAX_DEPTH": "max_depth",
    "MODEL_STUDIO_CHILD_MEMORY_BYTES": "child_memory_bytes",
    "MODEL_STUDIO_CHILD_TIMEOUT_SECONDS": "child_timeout_s",
    "MODEL_STUDIO_WORKER_CALL_SECONDS": "call_timeout_s",
    "MODEL_STUDIO_WORKER_CPU_SECONDS": "call_cpu_s",
    "MODEL_STUDIO_WORKER_IDLE_SECONDS": "idle_s",
    "MODEL_STUDIO_MAX_WORKERS": "max_workers",
}
_SECONDS = {"child_timeout_s", "call_timeout_s", "call_cpu_s", "idle_s"}


@dataclass(frozen=True)
class Limits:
    """Caps applied while reading one model file.

    max_file_bytes: size of the uploaded file as given.
    max_inflated_bytes: size of the pickle stream after decompression.
    max_item_bytes: one array, bytes/str object or pickle frame (also capped by the bytes left).
    max_objects: pickle instructions executed plus objects visited by the audit, in total.
    max_depth: nesting depth of containers (dict keys while loading, whole graph after).
    child_memory_bytes: extra address space a model's worker process may map (RLIMIT_AS).
    child_timeout_s: wall time for a worker to load the file and make its first predictions.
    call_timeout_s: wall time for one request to a model's worker (predict, importance...).
    call_cpu_s: CPU time (all threads) for one request to a model's worker.
    idle_s: a model's worker unused this long is stopped (restarted when next needed).
    max_workers: model worker processes alive at once in this server.
    """

    max_file_bytes: int = 512 * MIB
    max_inflated_bytes: int = 1 * GIB
    max_item_bytes: int = 512 * MIB
    max_objects: int = 5_000_000
    max_depth: int = 500
    child_memory_bytes: int = 4 * GIB
    child_timeout_s: float = 60.0
    call_timeout_s: float = 300.0
    call_cpu_s: float = 600.0
    idle_s: float = 900.0
    max_workers: int = 8

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"Limits.{f.name} must be a positive number, got {value!r}")

    @classmethod
    def from_env_or_default(cls) -> Limits:
        """Return ``from_env()``, falling back to the defaults if a variable is malformed."""
        try:
            return cls.from_env()
        except ValueError:
            logging.getLogger(__name__).warning("ignoring malformed MODEL_STUDIO_* limits")
            return cls()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        """Return the defaults overridden by ``MODEL_STUDIO_*`` variables (see ``ENV_VARS``)."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, Any] = {}  # field name -> int or float; __post_init__ checks them
        for var, field_name in ENV_VARS.items():
            raw = env.get(var)
            if raw is None or not raw.strip():
                continue
            try:
                value = float(raw) if field_name in _SECONDS else int(raw)
            except ValueError as exc:
                raise ValueError(f"{var} must be a number, got {raw!r}") from exc
            kwargs[field_name] = value
        return cls(**kwargs)
