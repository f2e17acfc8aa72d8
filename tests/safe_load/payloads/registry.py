"""The payload registry: what each hostile file is, what the loader must do with it.

A builder is a function ``build(target) -> bytes``. Its docstring says what the file would do if
a loader ran it. ``target`` gives it a private tmp directory: the marker path a successful payload
would create, a "server file" whose content a reading payload would steal, and helpers that drop
booby-trapped files for payloads that make the loader open another file.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.errors import ModelFileError, UnsafeModelError

from .opcodes import Call, Global, assemble

#: Text planted in the "server file"; a reading payload that worked would carry it.
SECRET = "s3cr3t-server-file-7f1c9e"


@dataclass
class Target:
    """Paths a payload aims at, all inside one test's tmp directory."""

    tmp: Path

    def __post_init__(self) -> None:
        # Valid svmlight and CSV at once, so a reader payload would really succeed.
        self.secret.write_text(f"1 1:0.5 # {SECRET}\n")

    @property
    def marker(self) -> Path:
        """Created (or written) only if the payload's code ran."""
        return self.tmp / "pwned.npy"

    @property
    def secret(self) -> Path:
        """A file on the "server" that must never end up in a loaded model."""
        return self.tmp / "server_secret.txt"

    @property
    def touch(self) -> str:
        """Shell command creating the marker."""
        return f"touch {shlex.quote(str(self.marker))}"

    @property
    def argv(self) -> list[str]:
        """Argument vector creating the marker."""
        return ["touch", str(self.marker)]

    @property
    def python(self) -> str:
        """Python source creating the marker."""
        return f"open({str(self.marker)!r}, 'w').close()"

    def evil_pickle(self, name: str = "evil.pkl") -> Path:
        """Drop a plain pickle that runs ``os.system(touch marker)`` when unpickled."""
        path = self.tmp / name
        path.write_bytes(assemble(Call(Global("os", "system"), (self.touch,)), protocol=2))
        return path

    def script(self, name: str = "evil_script.py") -> Path:
        """Drop a Python script that creates the marker when run."""
        path = self.tmp / name
        path.write_text(self.python + "\n")
        return path


@dataclass(frozen=True)
class Payload:
    """One hostile file and the expectations on the loader's answer."""

    name: str
    family: str
    build: Callable[[Target], bytes]
    #: The error the loader must raise: UnsafeModelError for clear code/file gadgets.
    expect: type[Exception] = UnsafeModelError
    #: Modules the payload names; none of them may be newly imported by the load.
    modules: tuple[str, ...] = ()
    #: The refusal message should contain one of these words (case-insensitive), if any.
    mentions: tuple[str, ...] = ()
    #: Run the loader with sandbox=True (child process) instead of in-process.
    sandbox: bool = False
    #: Keyword arguments for ``Limits`` (None: the loader's defaults).
    limits: dict[str, Any] | None = None
    #: Context manager factory wrapped around the load (e.g. registering a copyreg extension).
    setup: Callable[[], Any] | None = None
    #: Snapshot of process-wide state the payload tries to poison; compared before and after.
    guard: Callable[[], Any] | None = None
    #: Peak memory growth the refusal may cost (None: the test's default, 500 MiB).
    max_rss_growth: int | None = None
    #: Free-form note shown in the report when the payload is accepted.
    tags: tuple[str, ...] = field(default=())

    @property
    def doc(self) -> str:
        return (self.build.__doc__ or "").strip()


REGISTRY: dict[str, Payload] = {}


def payload(name: str, family: str, **options: Any) -> Callable:
    """Register ``build`` under ``name`` (unique; the pytest id)."""

    def register(build: Callable[[Target], bytes]) -> Callable[[Target], bytes]:
        if name in REGISTRY:
            raise ValueError(f"duplicate payload name {name!r}")
        if not (build.__doc__ or "").strip():
            raise ValueError(f"payload {name!r} needs a docstring saying what it would do")
        REGISTRY[name] = Payload(name=name, family=family, build=build, **options)
        return build

    return register


MALFORMED = ModelFileError
