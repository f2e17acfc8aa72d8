"""Bundled sample tables, from data that scikit-learn and plotly ship (no download needed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import plotly.express as px
from sklearn import datasets


@dataclass(frozen=True)
class Sample:
    """A ready-made table and the column it is usually used to predict."""

    key: str
    title: str
    target: str
    description: str
    loader: Callable[[], pd.DataFrame]

    def load(self) -> pd.DataFrame:
        """A fresh copy of the table (n_rows x n_columns)."""
        return self.loader().copy()


def _sklearn(loader: Callable, target_name: str) -> Callable[[], pd.DataFrame]:
    def load() -> pd.DataFrame:
        bunch = loader(as_frame=True)
        frame = bunch.frame.rename(columns={"target": target_name})
        if hasattr(bunch, "target_names") and target_name != "progression":
            frame[target_name] = bunch.target_names[bunch.target.to_numpy()]
        return frame

    return load


SAMPLES: dict[str, Sample] = {
    s.key: s
    for s in (
        Sample(
            "tips", "Restaurant tips", "tip",
            "244 restaurant bills: predict the tip from the bill, party and day (regression).",
            px.data.tips,
        ),
        Sample(
            "iris", "Iris flowers", "species",
            "150 flowers: predict the species from petal and sepal sizes (3 classes).",
            _sklearn(datasets.load_iris, "species"),
        ),
        Sample(
            "diabetes", "Diabetes progression", "progression",
            "442 patients: predict disease progression after one year (regression).",
            _sklearn(datasets.load_diabetes, "progression"),
        ),
        Sample(
            "wine", "Wine cultivars", "cultivar",
            "178 wines: predict the cultivar from chemical analysis (3 classes).",
            _sklearn(datasets.load_wine, "cultivar"),
        ),
        Sample(
            "breast_cancer", "Breast cancer", "diagnosis",
            "569 biopsies: predict malignant or benign from cell measurements (2 classes).",
            _sklearn(datasets.load_breast_cancer, "diagnosis"),
        ),
        Sample(
            "gapminder", "Gapminder", "lifeExp",
            "1,704 country-years: predict life expectancy from income, population and region.",
            lambda: px.data.gapminder().drop(columns=["iso_alpha", "iso_num"]),
        ),
    )
}  # fmt: skip


def load_sample(key: str) -> pd.DataFrame:
    """The sample table ``key`` (a key of ``SAMPLES``)."""
    return SAMPLES[key].load()
