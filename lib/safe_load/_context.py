"""State shared by the outer and nested unpicklers of one load (:class:`LoadContext`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ._allowlist import AllowList
from ._limits import Limits
from ._messages import too_big


@dataclass
class LoadContext:
    """One load's budget and bookkeeping.

    created: id -> object for every object REDUCE/NEWOBJ built in this load (keeping the object
    alive keeps its id unique). unbuilt: the subset BUILD may still touch: BUILD runs at most
    once per object, and never on an array or dtype after another object's state or a call used
    it (so a checked array cannot be changed after the check).
    versions: ``_sklearn_version`` strings seen in estimator states.
    metric_sizes: id of a DistanceMetric -> length of its weight vector.
    """

    limits: Limits
    allow: AllowList
    stream_len: int
    ops: int = 0
    created: dict[int, object] = field(default_factory=dict)
    unbuilt: dict[int, object] = field(default_factory=dict)
    versions: Counter = field(default_factory=Counter)
    metric_sizes: dict[int, int] = field(default_factory=dict)

    def spend(self, n: int) -> None:
        """Charge ``n`` units to the object budget."""
        self.ops += n
        if self.ops > self.limits.max_objects:
            raise too_big(f"it holds more than {self.limits.max_objects:,} objects")

    def check_size(self, n: int, remaining: int, what: str) -> None:
        """Refuse a declared size ``n`` over the item cap or over the ``remaining`` bytes."""
        if n < 0:
            raise _damaged_size(what)
        # A size beyond the file's end is damage, however large: "too big" would send the
        # person to ask for a higher limit for a 30-byte file of garbage.
        if n > remaining:
            raise _damaged_size(what, n, remaining)
        if n > self.limits.max_item_bytes:
            raise too_big(f"it declares {what} of {n:,} bytes")

    def mark_created(self, obj: object) -> None:
        """Record ``obj`` as built by this load (so BUILD may set its state)."""
        self.created[id(obj)] = obj
        self.unbuilt[id(obj)] = obj

    def take_build(self, obj: object) -> bool:
        """Return True (once) if BUILD may set ``obj``'s state."""
        return self.unbuilt.pop(id(obj), None) is obj

    def seal(self, obj: object) -> None:
        """Forbid any later BUILD on ``obj`` (it has been checked or used)."""
        self.unbuilt.pop(id(obj), None)

    def is_created(self, obj: object) -> bool:
        """Return True when ``obj`` was built by this load."""
        return self.created.get(id(obj)) is obj


def _damaged_size(what: str, n: int = -1, remaining: int = 0) -> Exception:
    from ._messages import damaged

    if n < 0:
        return damaged(f"it declares {what} with a negative size")
    if remaining <= 0:
        return damaged(f"it ends where {what} of {n:,} bytes should follow (it is cut short)")
    return damaged(f"it declares {what} of {n:,} bytes but only {remaining:,} bytes follow")
