"""Each crash family as a payload that really crashes (or exhausts memory) when predicted in
the process that holds it, and the app surviving it: its real predict path
(``Exploration.predictions`` through a ``SandboxedRunner``) ends in a plain message, the worker
is gone, and a genuine model opened afterwards predicts.

The payloads (``crash_models``) are hand-crafted model files, built here by ``joblib.dump``:

1. ``knn-label-outside-classes`` (and ``-pipeline``): KNeighborsClassifier (1 neighbour, brute,
   manhattan) whose one far-away training point has label index 2**40; the compiled class vote
   writes far out of bounds for rows whose neighbour is that point. scikit-learn takes that
   compiled path only for C-ordered input, and the app hands a positional model
   ``DataFrame.to_numpy()``, Fortran-ordered for two or more columns (the vote then happens in
   Python and raises IndexError): so the plain model has one column, and the pipeline's
   ColumnTransformer (one-hot plus scaled columns, as the app builds) outputs C-ordered rows.
2. ``forest-tree-far-feature``: RandomForestClassifier whose member trees lost
   ``n_features_in_`` and whose trees claim 2**31 features, with a node in the root's right
   subtree testing feature 2**31 - 1 (only rows going right crash).
3. ``tree-without-width-far-feature``: DecisionTreeRegressor without ``n_features_in_``
   walking the same tree.
4. ``svc-precomputed-support-outside-rows``: SVC(kernel="precomputed") whose ``support_`` all
   name kernel row 10**9, predicted on a kernel matrix (n_test, n_train). Every row reads every
   support vector, so the worker's opening prediction on its own rows would crash it while it
   opens the file (a refusal, not this test's path): the payload also drops
   ``n_features_in_``, which makes the worker skip that prediction.
5. ``polynomial-degree-1400``: Pipeline(PolynomialFeatures re-set to degree 1400 with
   consistent widths, LinearRegression): 2,000 rows ask for 14.6 GiB, so the worker hits its
   memory cap (1 GiB here), never the machine.

The trees' node arrays agree with the width they claim, so the loader's parse-time node check
(``_validate.build_tree``) lets them through; with ``checks=False`` the worker skips only
``check_loaded`` and every family reaches compiled scikit-learn code. With the checks on
(what the app does), the loader refuses each file (defence in depth).

Every test runs the model in a child process: ``test_the_payload_really_crashes_in_process``
loads the file with plain ``joblib.load`` and predicts (address space capped at 3 GiB), which
is the evidence that the payload is real; ``test_the_app_survives`` drives the app's path from
a child so that nothing a payload does can reach the test runner.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from lib.errors import ModelFileError, UnsafeModelError
from lib.safe_load import Limits, load_model
from lib.worker import SandboxedRunner
from tests.worker import crash_models
from tests.worker.crash_models import FAMILIES

# About two minutes on 2 cores: each child imports the app and starts its own worker pool.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
GIB = 1 << 30
IN_PROCESS_MEMORY = 3 * GIB
CHILD_TIMEOUT = 240
CRASH_SIGNALS = {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT}
LIMITS = Limits(child_memory_bytes=GIB, call_timeout_s=120, child_timeout_s=120)

# argv: family name, model file, address-space cap. Prints what it got through; a crash
# family never prints "survived".
IN_PROCESS = """
import resource, sys
name, path, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
import warnings
warnings.simplefilter("ignore")
import joblib
from tests.worker.crash_models import FAMILIES
family = FAMILIES[name]
model = joblib.load(path)
print("loaded", flush=True)
if family.benign is not None:
    model.predict(family.model_input(family.benign()))
    print("benign rows predicted", flush=True)
try:
    model.predict(family.model_input(family.rows()))
except MemoryError as error:
    print("MemoryError:", error, flush=True)
    sys.exit(3)
print("survived", flush=True)
"""

# argv: family name, payload file, genuine model file. Prints one JSON line; exits 0 when the
# process carried on after the payload.
THROUGH_THE_APP = """
import json, sys
from lib.exploration import Exploration
from lib.records import CurrentModel, TableData, sha256
from lib.safe_load import Limits
from lib.worker import POOL, ModelStopped, SandboxedRunner
from tests.worker import crash_models

GIB = 1 << 30
name, path, genuine_path = sys.argv[1:4]
family = crash_models.FAMILIES[name]
limits = Limits(child_memory_bytes=GIB, call_timeout_s=120, child_timeout_s=120)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def explore(runner, data, rows):
    current = CurrentModel(model=None, info=runner.info, source="upload", name=name,
                           runner=runner, file_bytes=data)
    return Exploration(current, TableData("rows.csv", rows, sha256(rows.to_csv().encode())))


data = open(path, "rb").read()
runner = SandboxedRunner(data, limits, checks=False)
pid = runner.pid
report = {"worker_alive_before": alive(pid)}
exploration = explore(runner, data, family.rows())
try:
    exploration.predictions
    report["outcome"] = "predicted"
except ModelStopped as error:
    report["outcome"] = "stopped"
    report["message"] = str(error)
report["failure"] = runner.failure
report["worker_gone"] = not alive(pid)
try:
    exploration.predictions
except ModelStopped as error:
    report["again"] = str(error)
report["live_after_failure"] = POOL.live()

genuine_data = open(genuine_path, "rb").read()
genuine = SandboxedRunner(genuine_data, limits)
result = explore(genuine, genuine_data, crash_models.genuine_rows()).predictions
report["genuine"] = [str(v) for v in result.frame[result.prediction_column]]
report["genuine_pid_differs"] = genuine.pid != pid
report["live_with_genuine"] = POOL.live()
genuine.close()
print(json.dumps(report), flush=True)
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each family's model file, and the genuine model's ("genuine"), on disk."""
    folder = tmp_path_factory.mktemp("crash-families")
    paths = {}
    for name in FAMILIES:
        paths[name] = folder / f"{name}.joblib"
        paths[name].write_bytes(crash_models.payload(name))
    paths["genuine"] = folder / "genuine.joblib"
    paths["genuine"].write_bytes(crash_models.joblib_bytes(crash_models.genuine()))
    return paths


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
    )


def _evidence(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr[-3000:]}"


@pytest.mark.parametrize("name", list(FAMILIES))
def test_the_payload_really_crashes_in_process(files, name):
    family = FAMILIES[name]
    done = _python(IN_PROCESS, name, str(files[name]), str(IN_PROCESS_MEMORY))
    evidence = _evidence(done)
    print(f"{name}: {evidence}")
    assert "loaded" in done.stdout, evidence
    if family.benign is not None:  # ordinary rows are fine: the crafted state is reached...
        assert "benign rows predicted" in done.stdout, evidence
    assert "survived" not in done.stdout, evidence  # ...only by the rows that set it off
    if family.outcome == "crash":
        assert done.returncode < 0 and -done.returncode in CRASH_SIGNALS, evidence
    else:  # a MemoryError under the cap, or killed for memory
        assert done.returncode == 3 or done.returncode == -signal.SIGKILL, evidence
        assert done.returncode != 3 or "MemoryError" in done.stdout, evidence


@pytest.mark.parametrize("name", list(FAMILIES))
def test_the_app_survives(files, name):
    family = FAMILIES[name]
    done = _python(THROUGH_THE_APP, name, str(files[name]), str(files["genuine"]))
    evidence = _evidence(done)
    print(f"{name}: {evidence}")
    assert done.returncode == 0, evidence  # the caller survived
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["worker_alive_before"], evidence
    assert report["outcome"] == "stopped", evidence
    message = report["message"]
    if family.outcome == "crash":
        assert "crashed (a memory fault, SIG" in message or "crashed (it aborted" in message
        assert "while predicting these rows" in message, message
        assert message.split("crashed (")[1].split(")")[0].split(", ")[-1] in {
            s.name for s in CRASH_SIGNALS
        }
    else:
        assert f"needed more than {GIB:,} bytes of memory" in message, message
    assert "Nothing else was affected" in message and "The model was unloaded" in message
    assert report["failure"] == message and report["again"] == message, evidence
    assert report["worker_gone"] and report["live_after_failure"] == 0, evidence
    # A genuine model opened afterwards runs in a new worker of the same pool.
    expected = [str(v) for v in crash_models.genuine().predict(crash_models.genuine_rows())]
    assert report["genuine"] == expected, evidence
    assert report["genuine_pid_differs"] and report["live_with_genuine"] == 1, evidence


@pytest.mark.parametrize("name", list(FAMILIES))
def test_the_loader_refuses_it(files, name):
    family = FAMILIES[name]
    data = files[name].read_bytes()
    with pytest.raises(ModelFileError) as in_process:
        load_model(data, sandbox=False)  # checks only: nothing is predicted here
    with pytest.raises(ModelFileError) as in_worker:
        SandboxedRunner(data, LIMITS)
    for refusal in (in_process.value, in_worker.value):
        message = str(refusal)
        assert isinstance(refusal, UnsafeModelError), message
        assert message.startswith("This file was refused because"), message
        assert family.refusal in message, message
        assert "crashed" not in message and "Traceback" not in message, message


def test_a_payload_crashing_on_the_opening_rows_is_refused_while_opening():
    """The precomputed SVC keeping ``n_features_in_``: the worker's opening prediction, on rows
    it builds itself, crashes it, so the file is refused before the app holds the model."""
    model = FAMILIES["svc-precomputed-support-outside-rows"].build()
    model.n_features_in_ = model.shape_fit_[0]
    with pytest.raises(UnsafeModelError, match=r"crashed the isolated process .*SIG(SEGV|BUS)\)"):
        SandboxedRunner(crash_models.joblib_bytes(model), LIMITS, checks=False)
