"""The sandbox child must not re-run the caller's main script (under Streamlit: the app)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # a fresh Python that imports scikit-learn twice


def test_the_sandbox_child_does_not_import_the_main_script(tmp_path):
    marker = tmp_path / "imports.txt"
    script = tmp_path / "main_script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import io, sys
            sys.path.insert(0, {str(ROOT)!r})
            with open({str(marker)!r}, "a") as f:  # runs each time this file is imported
                f.write(__name__ + "\\n")
            if __name__ == "__main__":
                import joblib
                from sklearn.linear_model import LinearRegression
                from lib.safe_load import load_model
                buffer = io.BytesIO()
                joblib.dump(LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0]), buffer)
                load_model(buffer.getvalue(), sandbox=True)
            """
        )
    )
    subprocess.run([sys.executable, str(script)], check=True, timeout=300, cwd=tmp_path)
    assert marker.read_text().split() == ["__main__"]
