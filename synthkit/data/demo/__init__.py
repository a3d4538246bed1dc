"""The bundled demo table: a 10,000-row sample of UCI Adult (CC BY 4.0, see README.md here)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import polars as pl

DEMO_NAME = "adult_sample.parquet"
DEMO_TARGET = "income"


def demo_path() -> Path:
    return Path(str(resources.files(__name__).joinpath(DEMO_NAME)))


def load_demo() -> pl.DataFrame:
    """The demo table (age, workclass, …, income), with missing values as nulls."""
    return pl.read_parquet(demo_path())
