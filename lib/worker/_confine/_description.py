"""What a confined worker cannot and can do, in plain sentences (``describe()``), for the
README's security model."""

from __future__ import annotations

_BLOCKED = [
    "Writing files: opening any file with write intent (O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, "
    "O_APPEND, so also O_TMPFILE; creat) fails, and so do deleting, renaming, linking, "
    "truncating or preallocating files, creating directories, device nodes, FIFOs or symlinks, "
    "and changing modes, owners, timestamps, extended attributes or inode flags. RLIMIT_FSIZE "
    "is 0, so no file can grow even through a descriptor opened for writing earlier, and a "
    "Landlock domain (where the kernel has it) denies the same writes by path, independently.",
    "Reading files outside the readable paths given to confine() (a model worker's are "
    "worker_readable_paths), where the kernel has Landlock: opening a file to read it or "
    "listing a directory fails with PermissionError, so the project root (saved_models/, "
    ".streamlit/secrets.toml), the model library, the home directory (~/.aws and the like), "
    "/etc and other processes' /proc entries cannot be read. Following a link (/proc/self/root, "
    "/proc/self/cwd, a symlink) does not help: Landlock checks where the file really is.",
    "The network and local IPC: creating a socket of any family (IP, Unix, netlink, packet, "
    "...), socketpair, connect, bind, listen, accept, sendto with an address, sendmsg and "
    "sendmmsg (so a kept socket cannot send elsewhere or pass descriptors); io_uring; System V "
    "shared memory, semaphores and message queues; POSIX message queues and named semaphores.",
    "New processes and programs: fork, vfork, clone without CLONE_THREAD or with a namespace "
    "flag, execve, execveat, unshare and setns; clone3 and openat2 fail with ENOSYS so that "
    "libc falls back to clone and openat, which the filter can inspect. Threads still start.",
    "Touching other processes: sending them any signal (kill, tgkill, rt_sigqueueinfo, "
    "rt_tgsigqueueinfo and fcntl F_SETOWN name its own pid only, so kill(0, ...), kill(-1, ...) "
    "and process groups are refused; tkill, pidfd_send_signal, F_SETOWN_EX, FIOSETOWN and "
    "SIOCSPGRP are refused), ptrace, process_vm_readv/writev, process_madvise, "
    "process_mrelease, kcmp, pidfd_open, pidfd_getfd, and changing another process's priority, "
    "scheduling, CPU affinity, I/O priority or memory placement (it may change its own, named "
    "as pid 0; so pinning single threads, as OMP_PROC_BIND asks, fails). Landlock additionally "
    "confines signals and ptrace-style access to its own domain.",
    "Reading another process's memory, environment, memory map or descriptors through "
    "/proc/<pid>/mem, environ, maps, fd/<n> and the like: a root server's worker has no "
    "capabilities left, so the kernel refuses it access to processes that hold some (a root "
    "server does); Landlock refuses it for every process outside the worker's domain, which "
    "protects a non-root server too.",
    "Raising its limits or privileges: setrlimit, prlimit64 with a new limit, the setuid/setgid "
    "family, setgroups and capset; all Linux capabilities are dropped (the bounding set too "
    "when it may) and no_new_privs is set. It cannot leave its session or process group.",
    "Kernel administration: mount, umount2, pivot_root, chroot and the new mount API, bpf, "
    "perf_event_open, userfaultfd, fanotify, keyctl/add_key/request_key, module loading, "
    "kexec, reboot, swapon/swapoff, acct, iopl/ioperm, modify_ldt, quotactl, syslog, setting "
    "the clock or host name, name_to_handle_at and open_by_handle_at.",
    "File locks, leases and directory notifications (flock, fcntl F_SETLK, F_SETLKW, "
    "F_OFD_SETLK, F_OFD_SETLKW, F_SETLEASE, F_NOTIFY), so it cannot stall the server's writes "
    "to a file it can read.",
    "Every ioctl request but TCGETS, TIOCGWINSZ, TIOCGPGRP, FIONREAD, FIONBIO, FIOCLEX and "
    "FIONCLEX (what Python itself uses) fails with ENOTTY: no terminal input injection "
    "(TIOCSTI), SIGIO redirection, inode flags, fs-verity or encryption policies, and no "
    "control of devices such as loop devices or KVM.",
    "System calls newer than the list (numbered above 469 on x86_64 and aarch64) fail with "
    "ENOSYS, and a system call through another ABI (32-bit int 0x80, x32) kills the process, "
    "so neither can bypass the filter.",
    "Resources: core dumps (RLIMIT_CORE 0), more than 64 open descriptors, address space beyond "
    "what it had mapped plus memory_bytes (allocations fail with MemoryError), and when "
    "cpu_seconds_total is given, CPU time beyond it over its whole life (SIGKILL).",
    "Inherited reach: it runs in its own session and process group, so neither a kill(0, ...) "
    "nor a terminal's signals reach the server's group; stdin, stdout and stderr are /dev/null "
    "and no inherited descriptor stays open except keep_fds.",
]

_NOT_BLOCKED = [
    "Reading what a worker needs, when confine() is given readable paths (a model worker is, "
    "see worker_readable_paths): the Python installation and its environment (sys.prefix, "
    "sys.base_prefix and the existing sys.path entries but those holding the project root or "
    "the home directory), the app's lib/ package, the shared-library directories (/usr/lib, "
    "/lib, /lib64, /usr/lib64, /usr/local/lib and those of the libraries it has mapped), "
    "/etc/ld.so.cache, time zones, /dev/null, /dev/urandom, its own /proc/self, "
    "/sys/devices/system/cpu and the cgroup CPU quota files; file permissions still apply. "
    "Without Landlock (Linux before 5.13, or not enabled), or without readable, it can read "
    "any file the server's user may read.",
    "Everything already in its memory: it is forked from the forkserver, so it holds that "
    "process's environment variables (including any secrets in them) and whatever its "
    "imported modules loaded, plus whatever the server sends it.",
    "Its kept descriptors (the channel to the server): it can write any bytes to them at any "
    "time, so the server must treat everything it reads there as untrusted.",
    "CPU and memory within the caps, any number of threads (RLIMIT_NPROC is not used; root "
    "ignores it), and kernel memory outside RLIMIT_AS (page cache, pipe buffers): it can slow "
    "the machine down or use up process IDs until it is killed. Host-level limits need "
    "cgroups (systemd MemoryMax=, TasksMax=, CPUQuota=).",
    "Looking at other processes: listing /proc/<pid>/fd (numbers only) and reading "
    "/proc/<pid>/cmdline, status and stat of any process, as any process may. Without "
    "Landlock (Linux before 5.13, or not enabled), a non-root worker can also read "
    "/proc/<pid>/environ and maps of the server and other processes of the same user, and "
    "/proc/<pid>/mem when Yama's ptrace_scope is 0.",
    "Harmless kernel services: anonymous memory, pipes, eventfds, memfds (which cannot grow), "
    "timers, inotify, getrandom, signals to itself, changing its own priority or CPU affinity, "
    "and any system call not named here (a deny-list over a default of allow).",
    "Bugs in the kernel or the CPU: the filter removes much of the kernel's attack surface, but "
    "a kernel exploit or a side channel (timing, caches) is not stopped. A layer the machine "
    "lacks (no libseccomp, no Landlock) is missing, which confine() reports in "
    "Confinement.not_applied.",
]


def describe() -> list[str]:
    """What a confined worker cannot and can do, one sentence per entry, each starting with
    "Blocked:" or "Not blocked:"; for the README's security model."""
    return [f"Blocked: {line}" for line in _BLOCKED] + [
        f"Not blocked: {line}" for line in _NOT_BLOCKED
    ]
