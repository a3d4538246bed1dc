"""Streaming marginals and pairs: exact against eager computations, on files and Parquet folders."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from synthkit.data import Schema
from synthkit.validators.streaming import compare, profile


@pytest.fixture(scope="module")
def adult_folder(adult, tmp_path_factory):
    """Real Adult rows as a folder of three Parquet parts, like sharded sampling writes."""
    folder = tmp_path_factory.mktemp("adult") / "adult.parquet"
    folder.mkdir()
    for i, start in enumerate(range(0, adult.height, 12_000)):
        adult.slice(start, 12_000).write_parquet(folder / f"part-{i:05d}.parquet")
    return folder


def test_profile_of_a_folder_matches_eager_numbers(adult, adult_folder):
    result = profile(adult_folder)
    assert result.rows == adult.height
    age = adult.get_column("age").to_numpy().astype(float)
    hours = adult.get_column("hours-per-week").to_numpy().astype(float)
    stats = result.numeric["age"]
    assert stats.mean == pytest.approx(age.mean()) and stats.std == pytest.approx(age.std(ddof=1))
    assert (stats.min, stats.max) == (age.min(), age.max())
    assert sum(stats.counts) == adult.height
    assert np.histogram(age, bins=stats.edges)[0].sum() == sum(stats.counts[1:-1])
    assert result.correlations["age|hours-per-week"] == pytest.approx(np.corrcoef(age, hours)[0, 1], abs=1e-12)
    workclass = result.categorical["workclass"]
    assert workclass.null_rate == pytest.approx(adult.get_column("workclass").null_count() / adult.height)
    assert workclass.levels == dict(adult.get_column("workclass").drop_nulls().value_counts().iter_rows())
    joint = result.contingency["workclass|sex"]
    assert sum(joint.values()) == adult.height


def test_compare_scores_identical_data_one_and_distorted_data_lower(adult, adult_folder):
    schema = Schema.infer(adult)
    same = compare(adult_folder, adult, schema=schema)
    assert same["scores"]["overall"] == pytest.approx(1.0)
    shuffled = adult.with_columns(
        pl.col("age").shuffle(seed=1), (pl.col("hours-per-week") + 15), pl.col("sex").shuffle(seed=2),
    )
    worse = compare(adult_folder, shuffled, schema=schema)
    assert worse["column_shapes"]["hours-per-week"]["score"] < 0.8
    assert worse["column_shapes"]["age"]["score"] == pytest.approx(1.0), "a shuffle keeps the marginal"
    assert worse["column_pair_trends"]["age|hours-per-week"]["score"] < 0.98
    assert worse["column_pair_trends"]["age|hours-per-week"]["metric"] == "CorrelationSimilarity"
    assert worse["column_pair_trends"]["relationship|sex"]["score"] < 0.9
    assert worse["scores"]["overall"] < same["scores"]["overall"]
