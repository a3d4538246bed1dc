"""Shared fixtures: the real datasets in ../shared/datasets and small slices of them."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

REPO = Path(__file__).resolve().parents[1]


def _find_datasets() -> Path | None:
    candidates = []
    if os.environ.get("SYNTHKIT_DATASETS"):
        candidates.append(Path(os.environ["SYNTHKIT_DATASETS"]))
    candidates += [parent / "shared" / "datasets" for parent in REPO.parents]
    candidates.append(Path("/work/shared/datasets"))
    for candidate in candidates:
        if (candidate / "adult.csv.gz").is_file():
            return candidate
    return None


DATASETS = _find_datasets()


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    if DATASETS is None:
        pytest.fail("the real datasets were not found: set SYNTHKIT_DATASETS to the shared/datasets folder")
    return DATASETS


@pytest.fixture(scope="session")
def adult(datasets_dir: Path) -> pl.DataFrame:
    from synthkit.data import read_table

    return read_table(datasets_dir / "adult.csv.gz", na_values=["?"])


@pytest.fixture(scope="session")
def adult_small(adult: pl.DataFrame) -> pl.DataFrame:
    """600 real Adult rows: every kind of column the generators meet, missing values included."""
    return adult.sample(n=600, seed=1)


@pytest.fixture(scope="session")
def occupancy(datasets_dir: Path) -> pl.DataFrame:
    from synthkit.data import read_table

    return read_table(datasets_dir / "occupancy_training.csv")


@pytest.fixture(scope="session")
def mixed_table(occupancy: pl.DataFrame) -> pl.DataFrame:
    """Real Occupancy rows with a datetime column, plus missing values, an id and PII columns."""
    frame = occupancy.sample(n=400, seed=3).sort("date")
    n = frame.height
    humidity = frame.get_column("Humidity").to_list()
    frame = frame.with_columns(
        pl.Series("Humidity", [None if i % 7 == 0 else v for i, v in enumerate(humidity)]),
        pl.Series("room", [["A", "B", "C", None][i % 4] for i in range(n)]),
        pl.Series("reading_id", list(range(1000, 1000 + n))),
        pl.Series("email", [f"sensor.owner{i}@company{i % 9}.com" for i in range(n)]),
        pl.Series("full_name", [f"Person{i} Surname{i % 31}" for i in range(n)]),
    )
    return frame


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A `dask scheduler` and two `dask worker` processes on 127.0.0.1, for one test module."""
    from _dask import Cluster

    running = Cluster(tmp_path_factory.mktemp("dask"))
    yield running
    running.close()
