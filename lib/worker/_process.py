"""One sandboxed worker process holding one model, seen from the web process.

``Worker(data, limits)`` forks the process from the pre-warmed forkserver and waits for its
opening reply (the model's facts, or the loader's refusal). ``call(op, kwargs)`` sends one
request and waits for the reply while watching the process: a call that runs past
``limits.call_timeout_s`` of wall time or ``limits.call_cpu_s`` of CPU time is killed. Nothing
from the process is trusted: replies are parsed by ``_wire.decode_reply``, never unpickled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from lib.errors import ModelFileError, UnsafeModelError
from lib.safe_load import Limits
from lib.safe_load._messages import TRUST_HINT, damaged, too_big

from ._child import STOP, worker_main
from ._forkserver import SANDBOX_PROCESS_NAME, context
from ._wire import MalformedReply, decode_reply, send_request

log = logging.getLogger(__name__)
POLL_SECONDS = 0.2
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MAX_OPENING_REPLY = 256 * 1024 * 1024
# What a fatal signal means, in words a person can follow (the signal's name follows them).
SIGNAL_WORDS = {
    "SIGSEGV": "a memory fault",
    "SIGBUS": "a memory fault",
    "SIGABRT": "it aborted",
    "SIGILL": "an illegal instruction",
    "SIGFPE": "an arithmetic fault",
    "SIGSYS": "a forbidden system call",
    "SIGKILL": "it was killed",
}


@dataclass(frozen=True)
class Stopped(Exception):
    """The worker is gone: ``reason`` is "crash", "memory", "cpu", "time" or "garbage";
    ``detail`` says more (the signal's name, the limit)."""

    reason: str
    detail: str = ""


class Worker:
    """A live worker process with its model loaded (see the module docstring).

    Raises ``UnsafeModelError`` or ``ModelFileError`` from the constructor when the file is
    refused or kills the process while opening.
    """

    def __init__(self, data: bytes, limits: Limits, *, checks: bool = True,
                 _test_fault: str | None = None) -> None:  # fmt: skip
        ctx = context()
        self.limits = limits
        self._conn, child_conn = ctx.Pipe(duplex=True)
        self._process = ctx.Process(
            target=worker_main,
            args=(child_conn, bytes(data), limits, checks, _test_fault),
            name=SANDBOX_PROCESS_NAME,
            daemon=True,
        )
        self._process.start()
        child_conn.close()
        self.pid = self._process.pid
        self.last_used = time.monotonic()
        self.busy = False
        self.retired = False
        self._timed_out = False
        self._lock = threading.Lock()
        self.facts, self.warnings = self._opening()

    # --- opening ------------------------------------------------------------------------

    def _opening(self) -> tuple[dict[str, Any], list[str]]:
        try:
            raw = self._wait(MAX_OPENING_REPLY, self.limits.child_timeout_s, None)
            status, payload = decode_reply(raw)
        except Stopped as stop:
            raise _refusal_for(stop, self.limits) from None
        except MalformedReply as error:
            self.kill()
            log.warning("model worker sent a malformed opening reply: %s", error)
            raise _refusal_for(Stopped("garbage"), self.limits) from None
        if status == "ready" and isinstance(payload.get("facts"), dict):
            _log_missing_confinement(payload.get("not_confined"))
            notes = payload.get("warnings")
            notes = [n for n in notes if isinstance(n, str)][:20] if isinstance(notes, list) else []
            return payload["facts"], [note[:2000] for note in notes]
        self.kill()
        message = str(payload.get("message", ""))[:4000]
        kind = payload.get("kind")
        if status == "memory":
            raise too_big(
                f"opening it needs more than {self.limits.child_memory_bytes:,} bytes of memory"
            )
        if status == "refused" and kind == "unsafe":
            raise UnsafeModelError(message)
        if status == "refused" and kind == "file":
            raise ModelFileError(message)
        from lib.safe_load import NOT_A_MODEL

        log.info("model worker could not open the file: %s %s", status, message[:200])
        raise damaged(NOT_A_MODEL)

    # --- requests -----------------------------------------------------------------------

    def call(self, op: str, kwargs: dict[str, Any], *, max_reply_bytes: int) -> tuple[str, dict]:
        """Send one request; ``(status, payload)`` of the reply. Raises ``Stopped`` (the
        process was killed or died) or ``MalformedReply`` (it was killed for it)."""
        with self._lock:
            # A process that stops reading would block the send forever: the timer kills it,
            # which ends the send with an error.
            timer = threading.Timer(self.limits.call_timeout_s, self._time_out)
            timer.daemon = True
            timer.start()
            try:
                try:
                    send_request(self._conn, op, kwargs)
                except (BrokenPipeError, ConnectionError, OSError):
                    raise self._death() from None
                raw = self._wait(max_reply_bytes, self.limits.call_timeout_s,
                                 self.limits.call_cpu_s)  # fmt: skip
            finally:
                timer.cancel()
                self.last_used = time.monotonic()
            try:
                return decode_reply(raw)
            except MalformedReply:
                self.kill()
                raise

    def _wait(self, max_bytes: int, seconds: float, cpu_seconds: float | None) -> bytes:
        """The next reply, watching wall time, CPU time and the process's life."""
        deadline = time.monotonic() + seconds
        cpu_start = self._cpu_seconds()
        while not self._conn.poll(POLL_SECONDS):
            if not self._process.is_alive():
                break
            if cpu_seconds is not None and self._cpu_seconds() - cpu_start > cpu_seconds:
                self.kill()
                raise Stopped("cpu", f"{cpu_seconds:g} CPU-seconds")
            if time.monotonic() > deadline:
                self.kill()
                raise Stopped("time", f"{seconds:g} seconds")
        try:
            return self._conn.recv_bytes(max_bytes)
        except (EOFError, OSError):
            raise self._death() from None

    def _time_out(self) -> None:
        self._timed_out = True
        self._process.kill()

    def _death(self) -> Stopped:
        self._process.join(5)
        if self._timed_out:
            return Stopped("time", f"{self.limits.call_timeout_s:g} seconds")
        if self._process.is_alive():  # it closed its channel but lives on: stop it
            self.kill()
            return Stopped("garbage", "it closed its channel")
        code = self._process.exitcode
        if code is not None and code < 0:
            name = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            if -code == signal.SIGXCPU:
                return Stopped("cpu", "its CPU-time limit")
            return Stopped("crash", f"{SIGNAL_WORDS.get(name, 'stopped by the system')}, {name}")
        return Stopped("crash", f"exit code {code}")

    def _cpu_seconds(self) -> float:
        try:
            with open(f"/proc/{self.pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        except (OSError, IndexError, ValueError):
            return 0.0

    # --- the end ------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return not self.retired and self._process.is_alive()

    def stop(self) -> None:
        """End the process: asked politely when it is idle, killed otherwise."""
        if self._lock.acquire(blocking=False):
            try:
                if self._process.is_alive():
                    with contextlib.suppress(OSError, ValueError):
                        send_request(self._conn, STOP, {})
                    self._process.join(0.5)
                self.kill()
                self._conn.close()
            finally:
                self._lock.release()
        else:
            self.kill()  # mid-call: the caller sees it die and closes nothing twice

    def kill(self) -> None:
        """End the process now (safe to call more than once, from any thread)."""
        self.retired = True
        if self._process.is_alive():
            self._process.kill()
        self._process.join(5)


_REPORTED: set[str] = set()


def _log_missing_confinement(missing: object) -> None:
    """Say once per server which confinement layers this platform could not apply."""
    for layer in missing if isinstance(missing, list) else []:
        text = str(layer)[:300]
        if text not in _REPORTED:
            _REPORTED.add(text)
            log.warning("model workers run without one confinement layer: %s", text)


def _refusal_for(stop: Stopped, limits: Limits) -> ModelFileError:
    if stop.reason == "time":
        return UnsafeModelError(
            f"Opening this file did not finish within {limits.child_timeout_s:g} seconds, so it "
            f"was stopped. A genuine model opens much faster; the file may be built to hang the "
            f"app. {TRUST_HINT}"
        )
    if stop.reason == "memory":
        return too_big(f"opening it needs more than {limits.child_memory_bytes:,} bytes of memory")
    detail = stop.detail or "no answer"
    return UnsafeModelError(
        f"Opening this file crashed the isolated process that checks it ({detail}). Nothing "
        f"from it reached the app. Genuine model files never do this; the file is damaged or "
        f"made to attack the app. {TRUST_HINT}"
    )
