"""Tests for lib/persistence.py and lib/metadata.py: the downloadable .joblib file.

The heart of it: a file written by the app loads with plain ``joblib.load`` in a separate Python
where this project cannot be imported, and predicts exactly what the app predicted.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import pickletools
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from lib import catalog, metadata
from lib.metadata import METADATA_ATTR, read_metadata
from lib.persistence import COMPRESSIONS, DEFAULT_COMPRESSION, dump_model
from lib.sampling import even_sample
from lib.schema import CLASSIFICATION, REGRESSION
from lib.training import Options, train

# Runs in a fresh ``python -I``: no project on sys.path, no PYTHONPATH, cwd = tmp_path.
LOADER = textwrap.dedent(
    """
    import json, sys
    import joblib
    import numpy as np
    import pandas as pd

    job = json.load(open(sys.argv[1]))
    try:
        import lib  # noqa: F401
        project_importable = True
    except ImportError:
        project_importable = False
    rows = pd.read_csv(job["csv"])
    for model in job["models"]:
        loaded = joblib.load(model["path"])
        np.save(model["path"] + ".pred.npy", np.asarray(loaded.predict(rows)), allow_pickle=True)
        if hasattr(loaded, "predict_proba"):
            np.save(model["path"] + ".proba.npy", loaded.predict_proba(rows))
    print(json.dumps({"project_importable": project_importable, "sys_path": sys.path}))
    """
)


def _load_elsewhere(tmp_path: Path, csv: Path, model_paths: list[Path]) -> dict:
    job = tmp_path / "job.json"
    job.write_text(json.dumps({"csv": str(csv), "models": [{"path": str(p)} for p in model_paths]}))
    done = subprocess.run(
        [sys.executable, "-I", "-c", LOADER, str(job)],
        cwd=tmp_path,
        env={**os.environ, "OMP_NUM_THREADS": "1"},  # no thread fight on shared cores
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["project_importable"] is False, report["sys_path"]
    return report


def _weekly_sales() -> pd.DataFrame:
    dates = pd.date_range("2022-01-03", periods=200, freq="D")
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "date": dates.strftime("%Y-%m-%d"),
            "shop": rng.choice(["north", "south", "east"], len(dates)),
            "visits": rng.poisson(30, len(dates)).astype(float),
            "busy": np.where(dates.day_of_week >= 5, "yes", "no"),
        }
    )


BATCHES = {
    # name: (sample key or None, target, task)
    "regression-gapminder": ("gapminder", "lifeExp", REGRESSION),
    "classification-breast_cancer": ("breast_cancer", "diagnosis", CLASSIFICATION),
}


@pytest.mark.slow
@pytest.mark.parametrize("batch", list(BATCHES))
def test_every_model_round_trips_in_a_clean_python(batch, trained, sample_frames, tmp_path):
    sample_key, target, task = BATCHES[batch]
    rows = sample_frames[sample_key].drop(columns=[target]).sample(200, random_state=1)
    csv = tmp_path / "rows.csv"
    rows.to_csv(csv, index=False)
    rows = pd.read_csv(csv)  # exactly what the other process reads

    paths, expected = [], {}
    for spec in catalog.models_for(task):
        pipeline = trained(sample_key, spec.key).pipeline
        path = tmp_path / f"{spec.key}.joblib"
        path.write_bytes(dump_model(pipeline))
        paths.append(path)
        proba = pipeline.predict_proba(rows) if task == CLASSIFICATION else None
        expected[path] = (pipeline.predict(rows), proba)

    _load_elsewhere(tmp_path, csv, paths)
    for path, (y_pred, proba) in expected.items():
        got = np.load(str(path) + ".pred.npy", allow_pickle=True)
        np.testing.assert_array_equal(got, y_pred, err_msg=path.name)
        if proba is not None:
            np.testing.assert_array_equal(np.load(str(path) + ".proba.npy"), proba)


@pytest.mark.slow
def test_date_and_category_pipelines_round_trip(tmp_path):
    frame = _weekly_sales()
    paths, expected = [], {}
    csv = tmp_path / "rows.csv"
    frame.drop(columns=["busy"]).to_csv(csv, index=False)
    rows = pd.read_csv(csv)
    for key in ("hist_gradient_boosting", "logistic_regression", "mlp"):
        spec = catalog.get_model(CLASSIFICATION, key)
        params = {"max_iter": 50} if "max_iter" in {p.name for p in spec.params} else {}
        result = train(frame, "busy", model=key, options=Options(cv_folds=0, params=params))
        assert result.features == ["date", "shop", "visits"]
        path = tmp_path / f"{key}.joblib"
        path.write_bytes(dump_model(result.pipeline, compression="none"))
        paths.append(path)
        expected[path] = result.pipeline.predict(rows)
    _load_elsewhere(tmp_path, csv, paths)
    for path, y_pred in expected.items():
        got = np.load(str(path) + ".pred.npy", allow_pickle=True)
        np.testing.assert_array_equal(got, y_pred, err_msg=path.name)


_MAGIC = {
    "none": b"\x80",  # a bare pickle stream
    "zlib": b"\x78",  # a zlib stream
    "gzip": b"\x1f\x8b",
    "bz2": b"BZh",
    "lzma": b"\x5d\x00",
    "xz": b"\xfd7zXZ",
    "lz4": b"\x04\x22\x4d\x18",
}


@pytest.mark.parametrize("compression", list(COMPRESSIONS))
def test_every_compression_round_trips(compression, trained, sample_frames, tmp_path):
    result = trained("tips", "hist_gradient_boosting")
    rows = sample_frames["tips"].drop(columns=["tip"])
    raw = dump_model(result.pipeline, compression=compression)
    assert raw.startswith(_MAGIC[compression])
    path = tmp_path / f"model.{compression}.joblib"
    path.write_bytes(raw)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict(rows), result.pipeline.predict(rows))
    assert read_metadata(loaded).metadata == result.metadata
    assert joblib.load(io.BytesIO(raw)).predict(rows[:3]).shape == (3,)


def test_compression_makes_the_file_smaller(trained):
    pipeline = trained("gapminder", "random_forest").pipeline
    sizes = {name: len(dump_model(pipeline, compression=name)) for name in ("none", "zlib", "xz")}
    assert sizes["zlib"] < sizes["none"] * 0.8 and sizes["xz"] < sizes["none"] * 0.8
    assert DEFAULT_COMPRESSION in COMPRESSIONS


def test_unknown_compression_is_refused(trained):
    with pytest.raises(ValueError, match="unknown compression 'rar'"):
        dump_model(trained("iris", "gaussian_nb").pipeline, compression="rar")


def test_metadata_argument_replaces_the_stored_metadata(trained, tmp_path):
    pipeline = trained("iris", "k_neighbors").pipeline
    original = getattr(pipeline, METADATA_ATTR)
    try:
        changed = dict(original, target="renamed")
        path = tmp_path / "m.joblib"
        path.write_bytes(dump_model(pipeline, metadata=changed))
        assert read_metadata(joblib.load(path)).metadata.target == "renamed"
    finally:
        setattr(pipeline, METADATA_ATTR, original)


# --- the metadata -----------------------------------------------------------------------------

_PLAIN = (dict, list, str, int, float, bool, type(None))


def _non_plain(value, where="metadata") -> list[str]:
    """Paths of every value in ``value`` that is not plain Python data."""
    if type(value) not in _PLAIN:
        return [f"{where}: {type(value).__name__}"]
    if isinstance(value, dict):
        bad = [f"{where} key {k!r}" for k in value if type(k) is not str]
        return bad + [p for k, v in value.items() for p in _non_plain(v, f"{where}[{k!r}]")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _non_plain(v, f"{where}[{i}]")]
    return []


def test_non_plain_detector_can_fail():
    assert _non_plain({"a": [1, np.float64(2.0)]}) == ["metadata['a'][1]: float64"]
    assert _non_plain({"a": (1, 2)}) and _non_plain({1: "x"})


@pytest.mark.parametrize(
    ("sample_key", "model_key"),
    [("tips", "hist_gradient_boosting"), ("gapminder", "ridge"), ("iris", "svc"),
     ("breast_cancer", "random_forest")],
)  # fmt: skip
def test_metadata_is_plain_and_complete(sample_key, model_key, trained, sample_frames):
    result = trained(sample_key, model_key)
    frame = sample_frames[sample_key]
    meta = joblib.load(io.BytesIO(dump_model(result.pipeline)))
    meta = getattr(meta, METADATA_ATTR)
    assert _non_plain(meta) == []
    assert meta == result.metadata.to_plain()
    assert meta["format"] == metadata.FORMAT
    assert meta["task"] == result.task and meta["target"] == result.target
    if result.task == CLASSIFICATION:
        assert meta["classes"] == sorted(frame[result.target].unique().tolist())
    else:
        assert meta["classes"] is None

    features = {f["name"]: f for f in meta["features"]}
    assert list(features) == result.features
    for name, feature in features.items():
        column = frame[name]
        if feature["kind"] == "numeric":
            assert feature["min"] == column.min() and feature["max"] == column.max()
            assert sum(feature["histogram"]["counts"]) == column.notna().sum()
        else:
            assert feature["kind"] == "categorical"
            categories = [value for value, _ in feature["categories"]]
            assert set(categories) == set(column.astype(str).unique()[:50])
            _, count = feature["categories"][0]
            assert count == column.astype(str).value_counts().iloc[0]

    assert meta["metrics"]["holdout"] == result.metrics
    assert meta["metrics"]["baseline"] == result.baseline_metrics
    assert {k: v["folds"] for k, v in meta["metrics"]["cv"].items()} == result.cv_scores
    assert re.fullmatch(r"[0-9a-f]{64}", meta["training_data"]["fingerprint"])
    assert meta["training_data"]["rows"] == len(frame)
    assert set(meta["versions"]) >= {"python", "sklearn", "numpy", "pandas", "joblib"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", meta["created_at"])
    assert meta["validation"] == {"test_size": 0.2, "cv_folds": 3, "random_state": 0}
    assert meta["model"]["key"] == model_key


def test_fingerprint_follows_the_data(trained, sample_frames):
    ridge = trained("gapminder", "ridge").metadata.training_data.fingerprint
    forest = trained("gapminder", "random_forest").metadata.training_data.fingerprint
    assert ridge == forest  # same rows, different model
    frame = sample_frames["gapminder"].copy()
    frame.loc[5, "pop"] += 1
    changed = train(frame, "lifeExp", model="ridge", options=Options(test_size=0, cv_folds=0))
    assert changed.metadata.training_data.fingerprint != ridge
    assert metadata.frame_fingerprint(frame) == metadata.frame_fingerprint(
        frame.set_axis(range(100, 100 + len(frame)))
    )  # the index does not matter


# --- nothing of this project in the pickle ----------------------------------------------------


def _pickled_globals(raw: bytes) -> set[str]:
    """``module.name`` of every GLOBAL / STACK_GLOBAL in a pickle stream."""
    found, pushed, memo = set(), [], {}
    for opcode, arg, _ in pickletools.genops(raw):
        name = opcode.name
        if name == "GLOBAL":
            found.add(arg.replace(" ", "."))
        elif name == "STACK_GLOBAL":
            found.add(f"{pushed[-2]}.{pushed[-1]}")
        elif name in ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"):
            pushed.append(arg)
        elif name == "MEMOIZE":
            memo[len(memo)] = pushed[-1] if pushed else None
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            memo[arg] = pushed[-1] if pushed else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            pushed.append(memo.get(arg))
    return found


def test_pickle_scanner_finds_project_classes():
    from lib.catalog import ParamSpec

    found = _pickled_globals(pickle.dumps(ParamSpec("a", "A", "int", 1), protocol=5))
    assert "lib.catalog.ParamSpec" in found
    assert "lib.catalog.ParamSpec" in _pickled_globals(
        pickle.dumps([ParamSpec("a", "A", "int", 1)] * 2, protocol=2)
    )


@pytest.mark.slow
@pytest.mark.parametrize("task", [REGRESSION, CLASSIFICATION])
def test_model_files_reference_no_project_module(task, trained):
    sample_key = "tips" if task == REGRESSION else "iris"
    for spec in catalog.models_for(task):
        pipeline = trained(sample_key, spec.key).pipeline
        for protocol in (2, pickle.HIGHEST_PROTOCOL):
            found = _pickled_globals(pickle.dumps(pipeline, protocol=protocol))
            assert "sklearn.pipeline.Pipeline" in found
            assert not [g for g in found if g.split(".")[0] == "lib"], (spec.key, found)
            assert not [g for g in found if g.startswith(("__main__", "tests", "conftest"))]


def test_summary_of_a_large_numeric_column():
    rng = np.random.default_rng(0)
    whole = pd.Series(rng.integers(0, 1_000, 300_000).astype("float64"), name="count")
    spread = pd.Series(rng.normal(5.0, 2.0, 300_000), name="spread")
    frame = pd.DataFrame({"count": whole, "spread": spread, "almost": whole.copy()})
    frame.loc[0, "almost"] = 0.5  # one fraction, where the 100,000-value sample does not look
    assert 0 not in even_sample(np.arange(300_000), metadata.SUMMARY_SAMPLE)
    groups = {"numeric": list(frame), "categorical": [], "datetime": []}
    summaries = {s.name: s for s in metadata.training_summaries(frame, groups)}

    assert summaries["count"].integer and not summaries["almost"].integer
    assert not summaries["spread"].integer
    assert summaries["spread"].min == spread.min() and summaries["spread"].max == spread.max()
    assert summaries["spread"].mean == pytest.approx(spread.mean(), rel=1e-12)
    assert summaries["spread"].std == pytest.approx(spread.std(), rel=0.02)  # from the sample
    assert sum(summaries["spread"].histogram.counts) == pytest.approx(300_000, abs=20)
