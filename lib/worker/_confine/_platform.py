"""The machine's architecture and the C library, through ctypes, for the layers that call
the kernel directly (capabilities, Landlock, seccomp)."""

from __future__ import annotations

import ctypes
import platform

_MACHINE = platform.machine()


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)
