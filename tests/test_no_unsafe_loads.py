"""No app code may hand bytes to an unpickler: only lib.safe_load turns model files into objects."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_CODE = [ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "lib").rglob("*.py")]
UNPICKLERS = {"joblib", "pickle", "_pickle", "cloudpickle", "dill"}
UNSAFE_MODULES = UNPICKLERS | {"numpy", "np", "pandas", "pd"}
UNSAFE_NAMES = {"load", "loads", "read_pickle", "Unpickler"}
# The one sanctioned unpickling: a worker reading requests from the web process, which it
# trusts (the reverse direction, worker -> web process, is parsed as data: lib/worker/_wire.py).
SANCTIONED = {("lib/worker/_wire.py", "receive_request")}


def unsafe_calls(path: Path) -> list[int]:
    """Line numbers of calls such as joblib.load(...), pickle.loads(...), pd.read_pickle(...),
    or of a name imported from those modules."""
    tree = ast.parse(path.read_text(), filename=str(path))
    imported = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in UNSAFE_MODULES
        for alias in node.names
        if alias.name in UNSAFE_NAMES
    }
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    allowed_lines = {
        line
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and (rel, node.name) in SANCTIONED
        for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or node.lineno in allowed_lines:
            continue
        func = node.func
        by_attribute = (
            isinstance(func, ast.Attribute)
            and func.attr in UNSAFE_NAMES
            and isinstance(func.value, ast.Name)
            and func.value.id in UNSAFE_MODULES
        )
        by_name = isinstance(func, ast.Name) and func.id in imported
        if (by_attribute or by_name) and not _numpy_without_pickles(node):
            found.append(node.lineno)
    return sorted(found)


def _numpy_without_pickles(call: ast.Call) -> bool:
    """``np.load(..., allow_pickle=False)``: numpy then refuses any pickled array."""
    func = call.func
    is_numpy_load = (
        isinstance(func, ast.Attribute) and func.attr == "load"
        and isinstance(func.value, ast.Name) and func.value.id in {"numpy", "np"}
    )  # fmt: skip
    return is_numpy_load and any(
        keyword.arg == "allow_pickle"
        and isinstance(keyword.value, ast.Constant)
        and keyword.value.value is False
        for keyword in call.keywords
    )


def test_the_search_finds_the_app_code():
    """A moved folder must not leave the check below with nothing to look at."""
    found = {p.relative_to(ROOT).as_posix() for p in APP_CODE if p.is_file()}
    assert "app.py" in found
    assert len([p for p in found if p.startswith("pages/")]) >= 4, sorted(found)
    assert len([p for p in found if p.startswith("lib/safe_load/")]) >= 5, sorted(found)
    assert len([p for p in found if p.startswith("lib/")]) >= 15, sorted(found)
    assert {"pages/predict.py", "lib/safe_load/__init__.py"} <= found


def test_app_code_never_calls_an_unpickler():
    assert len(APP_CODE) >= 20, "the search found almost no app code"
    found = [f"{p.relative_to(ROOT)}:{line}" for p in APP_CODE for line in unsafe_calls(p)]
    assert found == [], f"unpickling outside lib.safe_load: {found}"


def test_the_check_finds_an_unsafe_call(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import joblib\nfrom pickle import loads\nimport numpy as np\njoblib.load(p)\nloads(b)\n"
        "np.load(p)\nnp.load(p, allow_pickle=True)\nnp.load(p, allow_pickle=False)\n"
    )
    assert unsafe_calls(sample) == [4, 5, 6, 7]


def test_only_the_worker_reads_requests():
    """The sanctioned unpickling runs only in a worker's request loop, on what the web process
    sent; no other code calls it (so no uploaded or stored file's bytes can reach it)."""
    callers = []
    for path in APP_CODE:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "receive_request":
                    callers.append(path.relative_to(ROOT).as_posix())
    assert callers == ["lib/worker/_child.py"], callers
