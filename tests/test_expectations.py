"""The Great Expectations suite built from the real profile, run on other tables."""

from __future__ import annotations

import os

import polars as pl
import pytest

from synthkit.data import Schema
from synthkit.validators.expectations import build_suite, check_expectations, rate_bounds


@pytest.fixture(scope="module")
def adult_parts(adult):
    rows = adult.sample(fraction=1.0, shuffle=True, seed=21)
    return rows[:6000], rows[6000:8000]


def failed(outcome) -> list[tuple[str, str | None]]:
    return [(r["expectation"], r["column"]) for r in outcome.failed_results]


def test_fresh_real_rows_pass_and_breaks_fail(adult_parts):
    real, fresh = adult_parts
    schema = Schema.infer(real)
    assert failed(check_expectations(real, fresh, schema)) == []
    broken = fresh.with_columns(
        (pl.col("age") * 3).alias("age"),                                      # out of range, mean shifted
        pl.lit(None, dtype=pl.String).alias("workclass"),                      # missing far more often
        pl.col("hours-per-week").cast(pl.String).alias("hours-per-week"),      # wrong type
    ).drop("fnlwgt")
    result = set(failed(check_expectations(real, broken, schema)))
    assert {("expect_column_values_to_be_between", "age"), ("expect_column_mean_to_be_between", "age"),
            ("expect_column_proportion_of_non_null_values_to_be_between", "workclass"),
            ("expect_column_values_to_be_in_type_list", "hours-per-week"),
            ("expect_table_columns_to_match_set", None)} <= result


def test_no_row_values_reach_the_results(adult_parts):
    real, fresh = adult_parts
    outcome = check_expectations(real, fresh.with_columns((pl.col("fnlwgt") * 50).alias("fnlwgt")), Schema.infer(real))
    text = repr(outcome.results)
    assert "partial_unexpected" not in text and "unexpected_index" not in text
    ranged = [r for r in outcome.results if r["expectation"] == "expect_column_values_to_be_between" and r["column"] == "fnlwgt"]
    bounds = ranged[0]["kwargs"]
    # Bounds are rounded outward: the real minimum and maximum are not spelled out.
    assert bounds["min_value"] != real["fnlwgt"].min() and bounds["max_value"] != real["fnlwgt"].max()
    assert bounds["min_value"] % 10_000 == 0


def test_ids_dates_and_booleans(mixed_table):
    frame = mixed_table.with_columns((pl.col("Occupancy") == 1).alias("busy"))
    schema = Schema.infer(frame)
    real, other = frame[:200], frame[200:]
    # Occupancy rows are time-ordered, so compare the first half with a reshuffle of itself.
    ok = check_expectations(real, real.sample(fraction=1.0, shuffle=True, seed=1), schema)
    assert failed(ok) == []
    dup = real.with_columns(pl.lit(1000).alias("reading_id"))
    assert ("expect_column_values_to_be_unique", "reading_id") in failed(check_expectations(real, dup, schema))
    late = other.with_columns(pl.col("date").dt.offset_by("30d"))
    assert ("expect_column_values_to_be_between", "date") in failed(check_expectations(real, late, schema))


def test_rate_bounds_allow_sampling_noise_only():
    lo, hi = rate_bounds(0.1, 10_000, 10_000)
    assert 0.08 < lo < 0.1 < hi < 0.12  # 4 standard errors of a difference of two rates
    assert rate_bounds(0.0, 20_000, 5_000)[1] < 0.002


def test_suite_and_data_docs(adult_parts, tmp_path):
    real, fresh = adult_parts
    schema = Schema.infer(real)
    suite = build_suite(real, schema, rows=fresh.height)
    assert len(suite.expectations) > 40
    outcome = check_expectations(real.head(2000), fresh.head(500), schema, data_docs_dir=tmp_path / "docs")
    assert outcome.data_docs and os.path.isfile(outcome.data_docs)
    assert os.environ.get("GX_ANALYTICS_ENABLED") == "false"
