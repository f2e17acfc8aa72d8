"""Hostile model files must be refused, with nothing run, read, imported or left behind.

Every payload in ``payloads.REGISTRY`` is built as bytes (by hand-assembled opcodes or by
``joblib.dump`` of objects whose reduction names a dangerous callable) and handed to
``load_model``. The payloads are never unpickled by these tests. For each one the test checks:

- the loader raised the expected ``ModelFileError`` / ``UnsafeModelError`` (never accepted it,
  never another exception type);
- the marker file the payload would create is absent and the tmp directory is unchanged;
- no module the payload names was newly imported, no child process is left running, and the
  classes / modules it tries to rewrite are untouched;
- the message is a plain sentence (no traceback), names what was refused where that makes sense,
  and never carries the content of a server file;
- bombs are refused without a large memory peak (time is not checked: it depends on how busy
  the machine is; a refusal that never ends still fails, as a hung test).

A payload that the loader *accepts* is a security bug: fix the loader, never the test.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import resource
import sys
import time
from pathlib import Path

import joblib
import numpy as np
import psutil
import pytest

from lib.errors import ModelFileError, UnsafeModelError, UserError
from lib.safe_load import Limits, load_model

try:
    from .payloads import REGISTRY, SECRET, Payload, Target
    from .payloads.opcodes import Call, Global, NewObj, NewObjEx, assemble
except ImportError:  # tests/safe_load is not a package: pytest put its folder on sys.path
    from payloads import REGISTRY, SECRET, Payload, Target
    from payloads.opcodes import Call, Global, NewObj, NewObjEx, assemble

#: Peak memory growth a refusal may cost (the bombs ask for GiBs to TiBs).
MAX_RSS_GROWTH_BYTES = 500 * 1024 * 1024

#: Long-lived helpers the sandbox may start once and keep (multiprocessing forkserver).
LONG_LIVED_MARKERS = ("forkserver", "resource_tracker")


def _params() -> list:
    params = []
    for item in REGISTRY.values():
        # Sandboxed loads start processes and bombs inflate or allocate up to the caps: seconds
        # each, so they run in the full suite only (`make test`), not in `make test-fast`.
        slow = "slow" in item.tags or item.sandbox or item.family == "bomb"
        marks = [pytest.mark.slow] if slow else []
        params.append(pytest.param(item, id=item.name, marks=marks))
    return params


def _listing(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): path.stat().st_size if path.is_file() else -1
        for path in sorted(root.rglob("*"))
    }


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _children() -> dict[int, psutil.Process]:
    return {proc.pid: proc for proc in psutil.Process().children(recursive=True)}


def _is_long_lived(proc: psutil.Process) -> bool:
    """The forkserver / resource tracker: direct children the sandbox keeps for reuse."""
    try:
        if proc.ppid() != os.getpid():
            return False
        return any(word in " ".join(proc.cmdline()) for word in LONG_LIVED_MARKERS)
    except psutil.Error:
        return False


def _lingering_children(before: dict[int, psutil.Process], grace_s: float = 60.0) -> list[str]:
    """New child processes still running after ``grace_s`` (zombies and exits don't count).

    Returns as soon as none is left; the grace is long because a busy machine can take
    seconds to reap a killed sandbox child.
    """
    deadline = time.monotonic() + grace_s
    while True:
        alive = []
        for pid, proc in _children().items():
            if pid in before or _is_long_lived(proc):
                continue
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid}: {' '.join(proc.cmdline())[:200]}")
            except psutil.Error:
                continue
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def _leaks_secret(obj: object, depth: int = 0, seen: set | None = None) -> bool:
    """Whether ``obj`` (walked a few levels deep) carries the planted server-file content."""
    seen = set() if seen is None else seen
    if depth > 6 or id(obj) in seen:
        return False
    seen.add(id(obj))
    if isinstance(obj, str | bytes | bytearray):
        needle = SECRET if isinstance(obj, str) else SECRET.encode()
        return needle in obj
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            return any(_leaks_secret(x, depth + 1, seen) for x in obj.ravel()[:1000])
        return SECRET.encode() in obj.tobytes()[: 1 << 20]
    if isinstance(obj, dict):
        items = list(obj.items())[:1000]
        return any(
            _leaks_secret(k, depth + 1, seen) or _leaks_secret(v, depth + 1, seen) for k, v in items
        )
    if isinstance(obj, list | tuple | set | frozenset):
        return any(_leaks_secret(x, depth + 1, seen) for x in list(obj)[:1000])
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict):
        return _leaks_secret(state, depth + 1, seen)
    with contextlib.suppress(Exception):
        return SECRET in repr(obj)[: 1 << 16]
    return False


def assert_helpful_message(error: BaseException, item: Payload) -> None:
    """A plain sentence, no traceback, naming what was refused where the payload names it."""
    message = str(error)
    assert message.strip(), f"{item.name}: empty refusal message"
    for forbidden in ("Traceback (most recent call last)", 'File "', "\n  File "):
        assert forbidden not in message, f"{item.name}: traceback text in message: {message!r}"
    assert len(message.split()) >= 5, f"{item.name}: not a sentence: {message!r}"
    assert message[0].isupper(), f"{item.name}: message does not start a sentence: {message!r}"
    assert SECRET not in message, f"{item.name}: message leaks the server file: {message!r}"
    if item.mentions:
        lowered = message.lower()
        assert any(word.lower() in lowered for word in item.mentions), (
            f"{item.name}: message should name one of {item.mentions}: {message!r}"
        )


@pytest.mark.parametrize("item", _params())
def test_refused(item: Payload, tmp_path: Path) -> None:
    target = Target(tmp_path)
    data = item.build(target)
    assert isinstance(data, bytes) and data
    limits = Limits(**item.limits) if item.limits else None

    files_before = _listing(tmp_path)
    modules_before = set(sys.modules)
    watched = [name for name in item.modules if name not in modules_before]
    children_before = _children()
    guarded_before = item.guard() if item.guard else None
    rss_before = _max_rss_bytes()
    setup = item.setup() if item.setup else contextlib.nullcontext()

    loaded = None
    error: BaseException | None = None
    with setup:
        try:
            loaded = load_model(data, limits=limits, sandbox=item.sandbox)
        except BaseException as exc:  # every outcome is judged below
            error = exc
    rss_growth = _max_rss_bytes() - rss_before

    # What the payload would have done, checked first: these are the security failures.
    assert not target.marker.exists(), f"{item.name}: MARKER CREATED - the payload ran"
    assert _listing(tmp_path) == files_before, f"{item.name}: files in the tmp dir changed"
    newly_imported = [name for name in watched if name in sys.modules]
    assert not newly_imported, f"{item.name}: imported {newly_imported}"
    if item.guard:
        assert item.guard() == guarded_before, f"{item.name}: process-wide state was rewritten"
    lingering = _lingering_children(children_before)
    assert not lingering, f"{item.name}: child processes left running: {lingering}"
    if loaded is not None:
        leaked = _leaks_secret(loaded.model)
        pytest.fail(
            f"ACCEPTED (security bug): {item.name} loaded as {type(loaded.model).__name__}"
            f"{' and CONTAINS THE SERVER FILE' if leaked else ''}. Payload: {item.doc}"
        )

    # The refusal itself.
    assert error is not None
    if not isinstance(error, ModelFileError):
        raise AssertionError(
            f"{item.name}: raised {type(error).__name__} instead of ModelFileError: {error!r}"
        ) from error
    assert isinstance(error, item.expect), (
        f"{item.name}: expected {item.expect.__name__}, got {type(error).__name__}: {error}"
    )
    assert_helpful_message(error, item)
    assert rss_growth < (item.max_rss_growth or MAX_RSS_GROWTH_BYTES), (
        f"{item.name}: peak memory grew by {rss_growth / 2**20:.0f} MiB while refusing"
    )


def test_registry_covers_every_family() -> None:
    """The corpus keeps its breadth: 30+ payloads, each family represented, docstrings set."""
    families = {item.family for item in REGISTRY.values()}
    assert len(REGISTRY) >= 30
    assert families >= {
        "direct",
        "indirect",
        "dotted",
        "allowed-module",
        "nested",
        "legacy",
        "class-poisoning",
        "delayed",
        "bomb",
        "protocol",
        "crafted-state",
    }
    assert all(item.doc for item in REGISTRY.values())
    assert all(issubclass(item.expect, ModelFileError) for item in REGISTRY.values())


def test_unsafe_errors_are_model_file_errors() -> None:
    """The contract the app relies on: one ``except UserError`` catches every refusal."""
    assert issubclass(UnsafeModelError, ModelFileError)
    assert issubclass(ModelFileError, UserError)


# -- Fuzzing: damaged genuine files ---------------------------------------------------------


def _genuine_file(compress: str | None) -> bytes:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    buffer = io.BytesIO()
    joblib.dump(model, buffer, **({"compress": (compress, 3)} if compress else {}))
    return buffer.getvalue()


def _mutations(data: bytes, count: int, seed: int) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = ("flip", "flip", "byte", "truncate", "splice")[i % 5]
        buf = bytearray(data)
        if kind == "flip":
            positions = [rng.randrange(len(buf)) for _ in range(rng.randint(1, 4))]
            for pos in positions:
                buf[pos] ^= 1 << rng.randrange(8)
            label = f"flip@{positions}"
        elif kind == "byte":
            pos = rng.randrange(len(buf))
            buf[pos] = rng.choice([0x00, 0xFF, 0x7F, 0x80, rng.randrange(256)])
            label = f"byte@{pos}={buf[pos]:#x}"
        elif kind == "truncate":
            cut = rng.randrange(1, len(buf))
            buf = buf[:cut]
            label = f"truncate@{cut}"
        else:
            start = rng.randrange(len(buf))
            length = rng.randint(1, 64)
            dest = rng.randrange(len(buf))
            buf[dest:dest] = buf[start : start + length]
            label = f"splice {start}+{length}->{dest}"
        out.append((label, bytes(buf)))
    return out


@pytest.mark.parametrize("compress", [None, "zlib"], ids=["raw", "zlib"])
def test_fuzzed_genuine_files_load_or_raise_model_file_error(compress, tmp_path: Path) -> None:
    """100 mutations per variant (200 in all): each loads or raises ModelFileError."""
    genuine = _genuine_file(compress)
    load_model(genuine, sandbox=False)  # the base file is genuine: mutations start from a model
    limits = Limits(max_inflated_bytes=64 * 2**20, max_item_bytes=32 * 2**20)
    problems = []
    cwd_before = _listing(tmp_path)
    for label, data in _mutations(genuine, 100, seed=1 if compress else 0):
        try:
            load_model(data, limits=limits, sandbox=False)
        except ModelFileError as exc:
            message = str(exc)
            if not message.strip() or "Traceback" in message:
                problems.append(f"{label}: unhelpful message {message!r}")
        except BaseException as exc:  # collected, reported together
            problems.append(f"{label}: {type(exc).__name__}: {exc!r}"[:300])
    assert _listing(tmp_path) == cwd_before
    assert not problems, "\n".join(problems)


#: numpy scalar types a genuine file names as plain values (dtype=np.float64,
#: make_column_selector(dtype_include=np.number)); abstract ones and object_ included.
NUMPY_TYPE_NAMES = ["number", "generic", "floating", "object_", "float64", "bool", "str_"]


@pytest.mark.parametrize("name", NUMPY_TYPE_NAMES)
def test_numpy_scalar_types_are_named_never_called(name: str) -> None:
    """A file may name numpy's scalar types but never call or instantiate them: numpy scalars
    load through the guarded ``multiarray.scalar``, so no genuine file needs these calls."""
    cls = Global("numpy", name)
    reconstructor = Global("copyreg", "_reconstructor")
    attempts = {
        "call": assemble(Call(cls, (1.5,)), protocol=2),
        "call-object": assemble(Call(cls, ([1, 2],)), protocol=4),
        "newobj": assemble(NewObj(cls, (1.5,)), protocol=2),
        "newobj-ex": assemble(NewObjEx(cls, (), {}), protocol=4),
        "reconstructor": assemble(Call(reconstructor, (cls, Global("builtins", "object"), None))),
    }
    for how, data in attempts.items():
        with pytest.raises(UnsafeModelError, match=f"numpy.{name}|{name} object") as info:
            load_model(data, sandbox=False)
        assert "call" in str(info.value) or "create" in str(info.value), how
