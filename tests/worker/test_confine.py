"""confine() holds for the process that calls it: each test forks a child from a forkserver with
numpy, pandas and scikit-learn preloaded (as the app's workers are), the child confines itself,
tries things and reports what happened over a pipe as JSON; the assertions run here."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import pytest

from lib.worker._confine import address_space_cap, confine, describe, worker_readable_paths

MEMORY = 2 << 30  # the memory_bytes every child confines itself with
# Which of the kernel-enforced layers a child applies: each must hold on its own where it can,
# so that one cannot hide a regression in another.
ALL = "all layers"
SECCOMP_ALONE = "seccomp alone"
LANDLOCK_ALONE = "landlock alone"
CAPABILITIES_ALONE = "capabilities dropped alone"
NO_LAYER = "no layer"  # rlimits, session and descriptors only: shows the probes can fail
_WITHOUT = {
    ALL: (),
    SECCOMP_ALONE: ("capabilities", "landlock"),
    LANDLOCK_ALONE: ("capabilities", "seccomp"),
    CAPABILITIES_ALONE: ("landlock", "seccomp"),
    NO_LAYER: ("capabilities", "landlock", "seccomp"),
}
PRELOAD = ["numpy", "pandas", "sklearn.ensemble", "lib.worker._confine"]

_CTX: Any = None


def _context() -> Any:
    global _CTX
    if _CTX is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        _CTX = ctx
    return _CTX


def run_confined(probe: str, **params: Any) -> tuple[dict[str, Any], int | None]:
    """Run ``probe`` in a freshly forked, confined child; return (its report, its exit code)."""
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(probe, sender, params), daemon=True)
    proc.start()
    sender.close()
    report: dict[str, Any] = {}
    try:
        if receiver.poll(120):
            report = json.loads(receiver.recv_bytes())
    except EOFError:
        pass  # the child died before it reported
    finally:
        receiver.close()
        proc.join(30)
        if proc.is_alive():
            proc.kill()
            proc.join()
    return report, proc.exitcode


def confined(
    probe: str, layers: str = ALL, *, needs: str | None = None, **params: Any
) -> dict[str, Any]:
    """The probe's result, after checking that the child exited cleanly and applied the
    ``layers`` asked for. A test that ``needs`` a phrase the machine cannot apply (an old
    kernel without Landlock or its signal scope) is skipped."""
    report, exitcode = run_confined(probe, _without=_WITHOUT[layers], **params)
    assert exitcode == 0, (exitcode, report)
    assert "error" not in report, report.get("trace", report)
    applied = " ".join(report["confinement"]["applied"])
    if layers == LANDLOCK_ALONE:
        needs = needs or "Landlock"
    if needs and needs not in applied:
        pytest.skip(f"this machine cannot apply {needs!r}")
    if "seccomp" not in _WITHOUT[layers]:
        assert "seccomp filter" in applied, report
    return report["result"]


# ---- child side ---------------------------------------------------------------------------------


def _child(probe: str, sender: Any, params: dict[str, Any]) -> None:
    from lib.worker import _confine

    # Patched where confine() looks the layers up. This child is thrown away: patch freely.
    for layer in params.pop("_without", ()):
        name = {"capabilities": "_drop_capabilities", "landlock": "_landlock"}.get(
            layer, "_seccomp"
        )
        setattr(_confine, name, lambda *args: None)
    before = params.pop("_before", None)
    if before is not None:
        params.update(_BEFORE[before]())
    try:
        keep = [sender.fileno(), *params.pop("_also_keep", [])]
        kw = params.pop("_kw", {})
        if "_also_read" in params:  # the worker's own list, computed here as the worker does
            kw["readable"] = [*worker_readable_paths(), *params.pop("_also_read")]
        conf = confine(keep_fds=keep, memory_bytes=MEMORY, **kw)
        report: dict[str, Any] = {"confinement": asdict(conf)}
        report["result"] = _PROBES[probe](**params)
    except BaseException as exc:
        import traceback

        trace = traceback.format_exception(exc)[-30:]
        report = {"error": f"{type(exc).__name__}: {exc}", "trace": "".join(trace)}
    sender.send_bytes(json.dumps(report).encode())
    sender.close()


def _outcome(action: Callable[[], object]) -> str:
    """Return "ok", or the name of the exception the action raised."""
    try:
        action()
    except BaseException as exc:
        return type(exc).__name__
    return "ok"


def _errno_of(action: Callable[[], object]) -> str:
    """Return "ok", or the message of the errno the action failed with."""
    try:
        action()
    except OSError as exc:
        return os.strerror(exc.errno) if exc.errno else type(exc).__name__
    return "ok"


def _open_close(path: str, mode: str) -> None:
    with open(path, mode):
        pass


def _libc_syscall(number: int, *args: int) -> tuple[int, int]:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    result = libc.syscall(ctypes.c_long(number), *(ctypes.c_ulong(a) for a in args))
    return int(result), ctypes.get_errno()


def _probe_create(directory: str) -> dict[str, str]:
    path = os.path.join(directory, "new.txt")
    return {
        "open w": _outcome(lambda: _open_close(path, "w")),
        "open x": _outcome(lambda: _open_close(path, "x")),
        "O_CREAT read-only": _outcome(lambda: os.open(path, os.O_CREAT | os.O_RDONLY)),
        "O_TMPFILE": _outcome(lambda: os.open(directory, os.O_TMPFILE | os.O_RDWR)),
        "mkdir": _outcome(lambda: os.mkdir(os.path.join(directory, "d"))),
        "mkfifo": _outcome(lambda: os.mkfifo(os.path.join(directory, "fifo"))),
        "symlink": _outcome(lambda: os.symlink("/etc/passwd", os.path.join(directory, "s"))),
    }


def _probe_change(path: str) -> dict[str, object]:
    import ctypes

    class XattrArgs(ctypes.Structure):
        _fields_ = [
            ("value", ctypes.c_uint64),
            ("size", ctypes.c_uint32),
            ("flags", ctypes.c_uint32),
        ]

    modes = ("a", "r+", "w", "ab")
    result: dict[str, object] = {
        mode: _outcome(lambda mode=mode: _open_close(path, mode)) for mode in modes
    }
    result["O_WRONLY"] = _outcome(lambda: os.open(path, os.O_WRONLY))
    result["O_RDWR"] = _outcome(lambda: os.open(path, os.O_RDWR))
    # Linux truncates on O_RDONLY | O_TRUNC; O_APPEND is refused read-only too, as any write intent
    result["O_TRUNC read-only"] = _outcome(lambda: os.open(path, os.O_RDONLY | os.O_TRUNC))
    result["O_APPEND read-only"] = _outcome(lambda: os.open(path, os.O_RDONLY | os.O_APPEND))
    result["truncate"] = _outcome(lambda: os.truncate(path, 0))
    result["chmod"] = _outcome(lambda: os.chmod(path, 0o777))
    result["utime"] = _outcome(lambda: os.utime(path, (0, 0)))
    result["setxattr"] = _outcome(lambda: os.setxattr(path, "user.x", b"1"))
    # Raw calls libc may not wrap; setxattrat (Linux 6.13) is newer than libseccomp 2.5.4, so
    # the filter rules it by number.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    at_fdcwd = ctypes.c_int(-100)
    value = ctypes.create_string_buffer(b"1")
    args = XattrArgs(ctypes.addressof(value), 1, 0)
    calls = {
        "fchmodat2": (452, at_fdcwd, path.encode(), 0o777, 0),
        "setxattrat": (463, at_fdcwd, path.encode(), 0, b"user.y", ctypes.byref(args), 16),
    }
    for name, (number, *call) in calls.items():
        rc = libc.syscall(ctypes.c_long(number), *call)
        result[name] = "ok" if rc == 0 else os.strerror(ctypes.get_errno())
    with open(path, "rb") as f:
        result["read"] = f.read().decode()
    return result


def _probe_remove(path: str, directory: str) -> dict[str, str]:
    other = os.path.join(directory, "other.txt")
    return {
        "unlink": _outcome(lambda: os.unlink(path)),
        "rename": _outcome(lambda: os.rename(path, other)),
        "replace": _outcome(lambda: os.replace(path, other)),
        "link": _outcome(lambda: os.link(path, other)),
        "rmdir": _outcome(lambda: os.rmdir(directory)),
    }


def _probe_network() -> dict[str, str]:
    import socket

    return {
        "AF_INET": _outcome(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM)),
        "AF_INET6": _outcome(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)),
        "AF_UNIX": _outcome(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)),
        "AF_NETLINK": _outcome(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),
        "socketpair": _outcome(socket.socketpair),
    }


def _probe_signals(server_pid: int) -> dict[str, str]:
    import fcntl
    import signal

    read_fd, _ = os.pipe()
    forkserver = os.getppid()
    return {
        "kill server": _outcome(lambda: os.kill(server_pid, 0)),
        "kill forkserver": _outcome(lambda: os.kill(forkserver, 0)),
        "kill 0": _outcome(lambda: os.kill(0, 0)),
        "kill -1": _outcome(lambda: os.kill(-1, 0)),
        "killpg server": _outcome(lambda: os.killpg(os.getpgid(server_pid), 0)),
        "kill self": _outcome(lambda: os.kill(os.getpid(), 0)),
        "pthread_kill self": _outcome(lambda: signal.pthread_kill(threading.get_ident(), 0)),
        "F_SETOWN server": _outcome(lambda: fcntl.fcntl(read_fd, fcntl.F_SETOWN, server_pid)),
        "F_SETOWN self": _outcome(lambda: fcntl.fcntl(read_fd, fcntl.F_SETOWN, os.getpid())),
        # Asking for what the server already has: the filter refuses by target, and the
        # unconfined control run must not renice or pin the test process itself.
        "renice server": _outcome(
            lambda: os.setpriority(
                os.PRIO_PROCESS, server_pid, os.getpriority(os.PRIO_PROCESS, server_pid)
            )
        ),
        "renice self": _outcome(lambda: os.setpriority(os.PRIO_PROCESS, 0, 1)),
        "pin server": _outcome(
            lambda: os.sched_setaffinity(server_pid, os.sched_getaffinity(server_pid))
        ),
        "pin self": _outcome(lambda: os.sched_setaffinity(0, os.sched_getaffinity(0))),
        "own session": str(os.getsid(0) == os.getpid() == os.getpgid(0)),
        "setsid": _outcome(os.setsid),
        "setpgid": _outcome(lambda: os.setpgid(0, 0)),
    }


def _probe_peek(server_pid: int) -> dict[str, str]:
    return {
        "environ": _outcome(lambda: open(f"/proc/{server_pid}/environ", "rb").read()),
        "maps": _outcome(lambda: open(f"/proc/{server_pid}/maps", "rb").read()),
        "mem": _outcome(lambda: open(f"/proc/{server_pid}/mem", "rb")),
        "fd": _outcome(lambda: os.readlink(f"/proc/{server_pid}/fd/0")),
    }


def _probe_control(directory: str, existing: str, server_pid: int) -> dict[str, str]:
    """What the other probes try, without the layers: each must succeed, or they prove nothing."""
    import socket

    def fork() -> None:
        child = os.fork()
        if child == 0:
            os._exit(0)
        os.waitpid(child, 0)

    return {
        "create": _outcome(lambda: open(os.path.join(directory, "new.txt"), "w").close()),
        "append": _outcome(lambda: open(existing, "a").close()),
        "O_TRUNC read-only": _outcome(
            lambda: os.close(os.open(existing, os.O_RDONLY | os.O_TRUNC))
        ),
        "chmod": _outcome(lambda: os.chmod(existing, 0o600)),
        "unlink": _outcome(lambda: os.unlink(existing)),
        "socket": _outcome(lambda: socket.socket(socket.AF_INET).close()),
        "kill server": _outcome(lambda: os.kill(server_pid, 0)),
        "fork": _outcome(fork),
        "setrlimit": _outcome(lambda: __import__("resource").setrlimit(7, (32, 64))),
        "FIOQSIZE": _outcome(_fioqsize_of_this_file),
    }


def _probe_processes() -> dict[str, str]:
    import subprocess

    box: list[int] = []
    thread = threading.Thread(target=lambda: box.append(1))
    result = {
        "subprocess": _outcome(lambda: subprocess.run(["true"], check=True)),
        "fork": _outcome(os.fork),
        "posix_spawn": _outcome(lambda: os.posix_spawn("/bin/true", ["true"], {})),
        "clone3": os.strerror(_libc_syscall(435, 0, 0)[1]),
        "thread": _outcome(lambda: (thread.start(), thread.join())),
    }
    result["thread ran"] = str(box == [1])
    result["execv"] = _outcome(lambda: os.execv("/bin/true", ["true"]))  # if allowed: no report
    return result


def _probe_limits() -> dict[str, object]:
    import resource

    inf = resource.RLIM_INFINITY
    soft_files, hard_files = resource.getrlimit(resource.RLIMIT_NOFILE)
    with open("/proc/self/status") as f:
        status = dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
    return {
        "raise AS": _outcome(lambda: resource.setrlimit(resource.RLIMIT_AS, (inf, inf))),
        "lower NOFILE": _outcome(
            lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft_files - 1, hard_files))
        ),
        "raise CPU": _outcome(lambda: resource.setrlimit(resource.RLIMIT_CPU, (inf, inf))),
        "limits": {
            name: resource.getrlimit(getattr(resource, name))
            for name in ("RLIMIT_CORE", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_AS")
        },
        "status": {key: status[key].strip() for key in ("CapEff", "CapPrm", "CapBnd")}
        | {key: status[key].strip() for key in ("NoNewPrivs", "Seccomp")},
        "setuid": _outcome(lambda: os.setuid(os.getuid())),
    }


def _probe_native_code() -> dict[str, str]:
    """Raw syscalls the way injected machine code would make them (x86_64 numbers)."""
    socket_rc, socket_err = _libc_syscall(41, 2, 1, 0)  # socket(AF_INET, SOCK_STREAM)
    open_rc, open_err = _libc_syscall(257, (1 << 64) - 100, 0, os.O_WRONLY | (1 << 40))
    return {
        "socket": os.strerror(socket_err) if socket_rc < 0 else "ok",
        "openat junk flags": os.strerror(open_err) if open_rc < 0 else "ok",
        "future syscall": os.strerror(_libc_syscall(470)[1]),
    }


FIOQSIZE = 0x5460  # the size of a regular file: works on any, so only the filter refuses it


def _probe_ioctl(pty: int) -> dict[str, str]:
    import array
    import fcntl
    import termios

    size = array.array("q", [0])
    read_end, write_end = os.pipe()
    with open(__file__, "rb") as f:
        junk_rc, junk_err = _libc_syscall(
            16, f.fileno(), (1 << 32) | FIOQSIZE, size.buffer_info()[0]
        )
        return {
            "FIOQSIZE": _errno_of(lambda: fcntl.ioctl(f.fileno(), FIOQSIZE, size)),
            "FIOQSIZE junk": os.strerror(junk_err) if junk_rc != 0 else "ok",
            "TIOCSTI on a pty": _errno_of(lambda: fcntl.ioctl(pty, termios.TIOCSTI, b"x")),
            "isatty pty": str(os.isatty(pty)),
            "terminal size": _errno_of(lambda: os.get_terminal_size(pty)),
            "FIONREAD": _errno_of(lambda: fcntl.ioctl(read_end, termios.FIONREAD, size)),
            "set_blocking": _errno_of(lambda: os.set_blocking(write_end, False)),
            "set_inheritable": _errno_of(lambda: os.set_inheritable(write_end, True)),
        }


def _probe_int80() -> dict[str, str]:
    """A 32-bit system call (int 0x80) from native code: the filter kills the process."""
    import ctypes
    import mmap

    code = bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3])  # mov eax, 20 (getpid); int 0x80; ret
    page = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    function = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))
    return {"getpid via int 0x80": str(function())}


def _probe_compute() -> dict[str, object]:
    import numpy as np
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from threadpoolctl import threadpool_info

    threads_before = len(os.listdir("/proc/self/task"))
    b = np.random.default_rng(0).random((2000, 2000))
    product = (np.eye(2000) * 2) @ b
    matmul_ok = bool(np.allclose(product, 2 * b))
    threads_after_blas = len(os.listdir("/proc/self/task"))

    X, y = make_classification(n_samples=1000, n_features=10, random_state=0)
    forest = RandomForestClassifier(n_estimators=20, n_jobs=1, random_state=0).fit(X, y)
    boosted = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    cluster_was_loaded = "sklearn.cluster" in sys.modules
    import sklearn.cluster

    labels = sklearn.cluster.KMeans(n_clusters=3, n_init=2, random_state=0).fit_predict(X)
    return {
        "threads before": threads_before,
        "threads after matmul": threads_after_blas,
        "threads at end": len(os.listdir("/proc/self/task")),
        "pools": {info["user_api"]: info["num_threads"] for info in threadpool_info()},
        "matmul": matmul_ok,
        "forest accuracy": float((forest.predict(X) == y).mean()),
        "boosting accuracy": float((boosted.predict(X) == y).mean()),
        "cluster was loaded": cluster_was_loaded,
        "clusters": len(set(labels.tolist())),
        "getrlimit": _outcome(lambda: __import__("resource").getrlimit(0)),
    }


def _probe_memory() -> dict[str, str]:
    import numpy as np

    return {
        "within": _outcome(lambda: np.ones(256 << 20, dtype=np.uint8).sum()),
        "beyond": _outcome(lambda: np.ones(MEMORY * 2, dtype=np.uint8)),
    }


def _probe_descriptors(extra: list[int]) -> dict[str, object]:
    print("to stdout")
    sys.stderr.write("to stderr\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(1, b"raw stdout\n")
    os.write(2, b"raw stderr\n")
    listed = [int(name) for name in os.listdir("/proc/self/fd")]
    open_fds = []
    for fd in listed:
        try:
            os.fstat(fd)
        except OSError:
            continue  # the listing's own directory descriptor, closed again
        open_fds.append(fd)
    return {
        "open": sorted(open_fds),
        "extra": extra,
        "stdio": [os.readlink(f"/proc/self/fd/{fd}") for fd in (0, 1, 2)],
        "statm": open("/proc/self/statm").read().split()[0].isdigit(),
    }


def _probe_locks(path: str) -> dict[str, str]:
    import fcntl

    with open(path, "rb") as f:
        return {
            "flock": _outcome(lambda: fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)),
            "F_SETLK read lock": _outcome(lambda: fcntl.lockf(f, fcntl.LOCK_SH | fcntl.LOCK_NB)),
        }


def _probe_channel(ends: list[int]) -> dict[str, str]:
    """A duplex channel (a socketpair, as multiprocessing.Pipe() makes) keeps working."""
    import socket
    from multiprocessing.connection import Connection

    mine, theirs = (socket.socket(fileno=fd) for fd in ends)
    mine.sendall(b"raw")
    raw = theirs.recv(3)
    sender, receiver = Connection(mine.detach()), Connection(theirs.detach())
    sender.send_bytes(b"framed")
    receiver.send({"a": 1})
    result = {"raw": raw.decode(), "framed": receiver.recv_bytes().decode()}
    result["object"] = json.dumps(sender.recv())
    spare = socket.socket(fileno=os.dup(sender.fileno()))
    result["sendto"] = _outcome(lambda: spare.sendto(b"x", "/dev/log"))
    result["sendmsg"] = _outcome(lambda: spare.sendmsg([b"x"]))
    return result


def _probe_read(paths: dict[str, str]) -> dict[str, str]:
    """Read each file, or list each directory (a name ending in "/")."""

    def read(path: str) -> None:
        if path.endswith("/"):
            os.listdir(path)
        else:
            with open(path, "rb") as f:
                f.read(1)

    return {name: _outcome(lambda path=path: read(path)) for name, path in paths.items()}


def _probe_lazy_imports() -> dict[str, object]:
    """Modules the forkserver did not preload import after confine, and work."""
    import numpy as np

    names = ["sklearn.gaussian_process", "sklearn.cluster", "sklearn.manifold", "scipy.signal",
             "lib.explain"]  # fmt: skip
    result: dict[str, object] = {"were loaded": [n for n in names if n in sys.modules]}
    for name in names:
        result[name] = _outcome(lambda name=name: __import__(name))
    from scipy.signal import medfilt
    from sklearn.gaussian_process import GaussianProcessRegressor

    X = np.linspace(0, 1, 20).reshape(-1, 1)
    result["gp"] = _outcome(lambda: GaussianProcessRegressor().fit(X, X.ravel()).predict(X))
    result["medfilt"] = medfilt([1.0, 9.0, 1.0]).tolist()
    result["timezone"] = _outcome(lambda: __import__("zoneinfo").ZoneInfo("Europe/Paris"))
    result["cpu_count"] = _outcome(lambda: __import__("joblib").cpu_count())
    return result


def _probe_spin() -> dict[str, str]:
    while True:
        pass


def _probe_nothing() -> dict[str, str]:
    return {}


def _before_extra_fds() -> dict[str, Any]:
    """Descriptors the child holds before it confines itself: all must be gone after."""
    low = os.open("/dev/null", os.O_RDONLY)
    high = os.dup2(low, 200, inheritable=False)
    read_end, write_end = os.pipe()
    return {"extra": [low, high, read_end, write_end]}


def _before_same_user() -> dict[str, Any]:
    """A non-root worker and a process of its own user (standing in for a non-root server).

    Under root, both become nobody: a child forked now (outside any Landlock domain) that
    waits, and this process. Both are made dumpable again, since changing uid clears that and
    would refuse access for another reason than the one tested."""
    import ctypes
    import signal
    import time

    pr_set_pdeathsig, pr_set_dumpable = 1, 4
    libc = ctypes.CDLL(None)
    if os.geteuid() != 0:
        return {"server_pid": os.getppid()}
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.setgid(65534)
        os.setuid(65534)
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        libc.prctl(pr_set_dumpable, 1, 0, 0, 0)
        os.write(ready_w, b"1")
        time.sleep(60)
        os._exit(0)
    os.read(ready_r, 1)
    os.close(ready_r)
    os.close(ready_w)
    os.setgroups([])
    os.setgid(65534)
    os.setuid(65534)
    libc.prctl(pr_set_dumpable, 1, 0, 0, 0)
    return {"server_pid": child}


def _before_socketpair() -> dict[str, Any]:
    import socket

    ends = [end.detach() for end in socket.socketpair()]
    return {"ends": ends, "_also_keep": ends}


def _fioqsize_of_this_file() -> None:
    import fcntl

    with open(__file__, "rb") as f:
        fcntl.ioctl(f.fileno(), FIOQSIZE, b"12345678")


def _before_pty() -> dict[str, Any]:
    master, slave = os.openpty()
    return {"pty": slave, "_also_keep": [master, slave]}


def _before_thread() -> dict[str, Any]:
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
    return {}


_PROBES: dict[str, Callable[..., Any]] = {
    "create": _probe_create,
    "change": _probe_change,
    "remove": _probe_remove,
    "network": _probe_network,
    "signals": _probe_signals,
    "peek": _probe_peek,
    "control": _probe_control,
    "processes": _probe_processes,
    "limits": _probe_limits,
    "native": _probe_native_code,
    "ioctl": _probe_ioctl,
    "int80": _probe_int80,
    "compute": _probe_compute,
    "memory": _probe_memory,
    "descriptors": _probe_descriptors,
    "locks": _probe_locks,
    "channel": _probe_channel,
    "read": _probe_read,
    "lazy_imports": _probe_lazy_imports,
    "spin": _probe_spin,
    "nothing": _probe_nothing,
}
_BEFORE: dict[str, Callable[[], dict[str, Any]]] = {
    "extra_fds": _before_extra_fds,
    "thread": _before_thread,
    "same_user": _before_same_user,
    "socketpair": _before_socketpair,
    "pty": _before_pty,
}


# ---- tests --------------------------------------------------------------------------------------


@pytest.mark.parametrize("layers", [ALL, SECCOMP_ALONE, LANDLOCK_ALONE])
def test_a_new_file_cannot_be_created(tmp_path, layers):
    result = confined("create", layers, directory=str(tmp_path))

    assert result == dict.fromkeys(result, "PermissionError")
    assert len(result) == 7
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("layers", [ALL, SECCOMP_ALONE])
def test_an_existing_file_cannot_be_changed_but_can_be_read(tmp_path, layers):
    path = tmp_path / "model.txt"
    path.write_text("original")
    path.chmod(0o644)
    before = path.stat()

    result = confined("change", layers, path=str(path))

    assert result.pop("read") == "original"
    assert result.pop("fchmodat2") == result.pop("setxattrat") == os.strerror(1)  # EPERM
    assert result == dict.fromkeys(result, "PermissionError")
    after = path.stat()
    assert path.read_text() == "original"
    assert stat.S_IMODE(after.st_mode) == 0o644
    assert (after.st_mtime_ns, after.st_size) == (before.st_mtime_ns, before.st_size)
    assert os.listxattr(path) == []


@pytest.mark.parametrize("layers", [ALL, SECCOMP_ALONE, LANDLOCK_ALONE])
def test_files_cannot_be_removed_renamed_or_linked(tmp_path, layers):
    path = tmp_path / "model.txt"
    path.write_text("original")

    result = confined("remove", layers, path=str(path), directory=str(tmp_path))

    assert result == dict.fromkeys(result, "PermissionError")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.txt"]
    assert path.read_text() == "original"


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
READS = "reading files and listing directories outside"


def _read_targets(tmp_path: Any) -> dict[str, str]:
    """An allowed directory, a directory outside, and a fake project root beside them with the
    app's secrets and saved models; the real repository's files too."""
    allowed, outside, project = (tmp_path / name for name in ("allowed", "outside", "project"))
    for directory in (allowed, outside, project / "saved_models", project / ".streamlit"):
        directory.mkdir(parents=True)
    (allowed / "data.txt").write_text("fine")
    (outside / "other.txt").write_text("private")
    (project / "saved_models" / "someone.skops").write_bytes(b"model")
    (project / ".streamlit" / "secrets.toml").write_text('client_secret = "s3cret"')
    return {
        "allowed file": str(allowed / "data.txt"),
        "allowed dir": f"{allowed}/",
        "outside file": str(outside / "other.txt"),
        "outside dir": f"{outside}/",
        "secrets": str(project / ".streamlit" / "secrets.toml"),
        "saved model": str(project / "saved_models" / "someone.skops"),
        "saved models dir": f"{project / 'saved_models'}/",
        "project dir": f"{project}/",
        "repo README": os.path.join(REPO, "README.md"),
        "repo root": f"{REPO}/",
        "etc passwd": "/etc/passwd",
        "init cmdline": "/proc/1/cmdline",
        "README via root link": f"/proc/self/root{REPO}/README.md",
        "README via cwd link": "/proc/self/cwd/README.md",
        "repo lib": os.path.join(REPO, "lib", "__init__.py"),
        "stdlib": os.path.join(os.path.dirname(os.__file__), "os.py"),
        "own status": "/proc/self/status",
        "cpu online": "/sys/devices/system/cpu/online",
    }


ALWAYS_READABLE = ("allowed file", "allowed dir", "repo lib", "stdlib", "own status", "cpu online")


@pytest.mark.parametrize("layers", [ALL, LANDLOCK_ALONE])
def test_only_the_allowed_paths_can_be_read(tmp_path, layers):
    paths = _read_targets(tmp_path)

    result = confined(
        "read", layers, needs=READS, paths=paths, _also_read=[str(tmp_path / "allowed")]
    )

    for name in ALWAYS_READABLE:
        assert result.pop(name) == "ok", name
    assert result == dict.fromkeys(paths.keys() - set(ALWAYS_READABLE), "PermissionError")


def test_without_readable_everything_can_still_be_read(tmp_path):
    paths = _read_targets(tmp_path)

    result = confined("read", paths=paths)  # so the test above would notice a missing rule

    assert result == dict.fromkeys(paths, "ok")


def test_modules_not_preloaded_import_and_run_with_reads_confined():
    result = confined("lazy_imports", needs=READS, _also_read=[])

    assert result.pop("were loaded") == []  # so each import ran under the domain
    assert result.pop("medfilt") == [1.0, 1.0, 1.0]
    assert result == dict.fromkeys(result, "ok")


def test_the_worker_may_not_read_the_project_root_or_what_holds_it(monkeypatch, tmp_path):
    home = os.path.expanduser("~")
    library = tmp_path / "library"
    library.mkdir()
    monkeypatch.setenv("MODEL_STUDIO_LIBRARY", str(library))
    monkeypatch.chdir(REPO)
    entries = ["", REPO, os.path.dirname(REPO), "/", home, str(library), f"{REPO}/.streamlit"]
    monkeypatch.setattr(sys, "path", [*entries, *sys.path])

    paths = worker_readable_paths()

    assert os.path.join(REPO, "lib") in paths
    stdlib = os.path.realpath(os.__file__)
    assert any(stdlib.startswith(os.path.realpath(path) + "/") for path in paths), paths
    for path in paths:
        for private in (REPO, home, str(library), os.path.join(REPO, "saved_models")):
            assert not (private + "/").startswith(path.rstrip("/") + "/"), (path, private)
        assert not path.startswith((str(library), os.path.join(REPO, ".streamlit")))


@pytest.mark.parametrize("layers", [ALL, SECCOMP_ALONE])
def test_no_socket_of_any_family_can_be_made(layers):
    result = confined("network", layers)

    assert result == dict.fromkeys(result, "PermissionError")


@pytest.mark.parametrize("layers", [ALL, SECCOMP_ALONE])
def test_only_itself_can_be_signalled_and_its_session_is_its_own(layers):
    result = confined("signals", layers, server_pid=os.getpid())

    assert result.pop("kill self") == "ok"
    assert result.pop("pthread_kill self") == "ok"
    assert result.pop("F_SETOWN self") == "ok"
    assert result.pop("renice self") == "ok"
    assert result.pop("pin self") == "ok"
    assert result.pop("own session") == "True"
    assert result == dict.fromkeys(result, "PermissionError")


def test_landlock_is_applied_whenever_the_kernel_offers_it():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    report, exitcode = run_confined("nothing")

    assert exitcode == 0, report
    landlock = [line for line in report["confinement"]["applied"] if "Landlock" in line]
    assert len(landlock) == (1 if abi >= 1 else 0), report
    if abi >= 6:
        assert "signals to" in landlock[0]


def test_landlock_alone_keeps_signals_from_other_processes():
    result = confined("signals", LANDLOCK_ALONE, needs="signals to", server_pid=os.getpid())

    assert result["kill server"] == result["kill forkserver"] == "PermissionError"
    assert result["killpg server"] == "PermissionError"


@pytest.mark.parametrize("layers", [ALL, CAPABILITIES_ALONE])
def test_a_root_server_memory_environment_and_descriptors_cannot_be_read(layers):
    if os.geteuid() != 0:
        pytest.skip("the server (this process) is not root")
    result = confined("peek", layers, server_pid=os.getpid())

    assert result == dict.fromkeys(result, "PermissionError")
    assert len(result) == 4


@pytest.mark.parametrize("layers", [ALL, LANDLOCK_ALONE, SECCOMP_ALONE])
def test_a_non_root_worker_cannot_read_a_process_of_its_own_user(layers):
    needs = None if layers == SECCOMP_ALONE else "Landlock"
    result = confined("peek", layers, needs=needs, _before="same_user")

    if layers == SECCOMP_ALONE:  # without Landlock, nothing else stops it
        assert result["environ"] == result["maps"] == "ok"
    else:
        assert result == dict.fromkeys(result, "PermissionError")


def test_the_probes_would_notice_a_process_without_the_layers(tmp_path):
    existing = tmp_path / "model.txt"
    existing.write_text("original")

    result = confined(
        "control", NO_LAYER, directory=str(tmp_path), existing=str(existing), server_pid=os.getpid()
    )

    assert result == dict.fromkeys(result, "ok")
    assert [p.name for p in tmp_path.iterdir()] == ["new.txt"]


@pytest.mark.parametrize("layers", [ALL, SECCOMP_ALONE])
def test_no_process_or_program_can_be_started_but_threads_can(layers):
    result = confined("processes", layers)

    assert result.pop("thread") == "ok"
    assert result.pop("thread ran") == "True"
    assert result.pop("clone3") == os.strerror(38)  # ENOSYS, so glibc falls back to clone
    assert result == dict.fromkeys(result, "PermissionError")


def test_limits_and_privileges_cannot_be_raised_even_as_root():
    result = confined("limits")

    # Python reports the EPERM of setrlimit as ValueError("not allowed to raise ...").
    assert result["raise AS"] == "ValueError"
    assert result["raise CPU"] == "ValueError"
    assert result["lower NOFILE"] == "ValueError"  # only the filter stops this one
    assert result["setuid"] == "PermissionError"
    limits = result["limits"]
    assert limits["RLIMIT_CORE"] == limits["RLIMIT_FSIZE"] == [0, 0]
    assert limits["RLIMIT_NOFILE"] == [64, 64]
    soft, hard = limits["RLIMIT_AS"]
    assert soft == hard and MEMORY < soft < MEMORY + (64 << 30)
    assert result["status"]["CapEff"] == result["status"]["CapPrm"] == "0" * 16
    if os.geteuid() == 0:
        assert result["status"]["CapBnd"] == "0" * 16
    assert result["status"]["NoNewPrivs"] == "1"
    assert result["status"]["Seccomp"] == "2"  # a filter


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 syscall numbers")
def test_raw_syscalls_from_native_code_are_filtered_too():
    result = confined("native")

    assert result == {
        "socket": os.strerror(1),
        "openat junk flags": os.strerror(1),  # the kernel reads O_WRONLY, so does the filter
        "future syscall": os.strerror(38),
    }


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="x86_64 syscall and ioctl numbers")
def test_only_the_ioctls_python_needs_are_allowed():
    result = confined("ioctl", _before="pty")

    enotty = os.strerror(25)
    assert result == {
        "FIOQSIZE": enotty,
        "FIOQSIZE junk": enotty,  # junk in the upper half of the request does not help
        "TIOCSTI on a pty": enotty,
        "isatty pty": "True",
        "terminal size": "ok",
        "FIONREAD": "ok",
        "set_blocking": "ok",
        "set_inheritable": "ok",
    }


def test_the_ioctl_prefixes_cover_every_other_request_once():
    from lib.worker._confine._syscall_rules import IOCTLS_ALLOWED, _prefixes_outside

    allowed = set(IOCTLS_ALLOWED.values())
    pairs = _prefixes_outside(allowed)
    samples = [*range(0x5400, 0x5500), 0, 0xFFFFFFFF, 0x80000000, *range(0, 1 << 32, 9_999_991)]
    for request in samples:
        matches = sum(request & mask == value for mask, value in pairs)
        assert matches == (0 if request in allowed else 1), hex(request)


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="int 0x80 is x86")
def test_a_32_bit_system_call_kills_the_process():
    report, exitcode = run_confined("int80")

    assert report == {}
    assert exitcode == -31  # SIGSYS


def test_numpy_and_scikit_learn_still_work_with_threads():
    result = confined("compute")

    assert result["threads before"] == 1
    assert result["matmul"] is True
    if (os.cpu_count() or 1) > 1:
        assert result["threads after matmul"] > 1, result  # BLAS threads started after confine
        assert result["pools"]["openmp"] > 1, result
    assert result["forest accuracy"] > 0.9
    assert result["boosting accuracy"] > 0.9
    assert result["cluster was loaded"] is False  # so the import ran under the filter
    assert result["clusters"] == 3
    assert result["getrlimit"] == "ok"


def test_memory_beyond_the_cap_raises_memory_error():
    result = confined("memory")

    assert result == {"within": "ok", "beyond": "MemoryError"}


def test_only_the_kept_descriptors_and_dev_null_stdio_stay_open():
    report, exitcode = run_confined("descriptors", _before="extra_fds")

    assert exitcode == 0, report
    result = report["result"]
    assert result["stdio"] == ["/dev/null"] * 3
    assert result["statm"] is True
    assert len(result["open"]) == 4, result  # 0, 1, 2 and the channel
    assert result["open"][:3] == [0, 1, 2]
    assert set(result["extra"]).isdisjoint(result["open"][3:]), result


def test_a_duplex_channel_keeps_working_but_cannot_send_elsewhere():
    result = confined("channel", _before="socketpair")

    assert result == {
        "raw": "raw",
        "framed": "framed",
        "object": '{"a": 1}',
        "sendto": "PermissionError",
        "sendmsg": "PermissionError",
    }


def test_files_cannot_be_locked(tmp_path):
    path = tmp_path / "store.db"
    path.write_text("data")

    result = confined("locks", path=str(path))

    assert result == dict.fromkeys(result, "PermissionError")


def test_the_cpu_cap_kills_a_spinning_worker():
    report, exitcode = run_confined("spin", _kw={"cpu_seconds_total": 1})

    assert report == {}
    assert exitcode == -9  # SIGKILL at the hard limit


def test_confine_refuses_a_process_with_other_threads():
    report, exitcode = run_confined("nothing", _before="thread")

    assert exitcode == 0
    assert report["error"].startswith("RuntimeError"), report


def test_confine_refuses_to_keep_stdio_descriptors():
    report, exitcode = run_confined("nothing", _also_keep=[1])

    assert exitcode == 0
    assert report["error"].startswith("ValueError"), report


def test_the_address_space_cap_stays_within_an_inherited_hard_limit():
    import resource

    gib = 1 << 30
    assert address_space_cap(2 * gib, 4 * gib, resource.RLIM_INFINITY) == 6 * gib
    assert address_space_cap(2 * gib, 4 * gib, 5 * gib) == 5 * gib  # under `ulimit -v`
    assert address_space_cap(2 * gib, 4 * gib, 8 * gib) == 6 * gib


def test_describe_says_what_is_and_is_not_blocked():
    lines = describe()

    assert any(line.startswith("Blocked: Writing files") for line in lines)
    assert any(line.startswith("Blocked: Reading files outside") for line in lines)
    assert any(line.startswith("Not blocked: Reading what a worker needs") for line in lines)
    assert all(line.startswith(("Blocked: ", "Not blocked: ")) for line in lines)
