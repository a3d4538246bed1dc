"""Fidelity metrics: the same numbers as SDMetrics' own, detection and TSTR on real data."""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl
import pytest

from synthkit.data import Schema
from synthkit.validators import fidelity as fid


@pytest.fixture(scope="module")
def parts(adult):
    rows = adult.sample(n=4000, seed=7)
    return rows[:2000], rows[2000:3000], rows[3000:]


def test_column_shapes_and_pairs_match_sdmetrics(parts):
    from sdmetrics.column_pairs import ContingencySimilarity, CorrelationSimilarity
    from sdmetrics.single_column import KSComplement, TVComplement

    real, _, synthetic = parts
    schema = Schema.infer(real)
    shapes = fid.column_shapes(real, synthetic, schema)
    r, s = real.to_pandas(), synthetic.to_pandas()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert shapes["age"] == pytest.approx(KSComplement.compute(r["age"], s["age"]))
        assert shapes["occupation"] == pytest.approx(TVComplement.compute(r["occupation"], s["occupation"]))
        pairs = fid.pair_trends(real, synthetic, schema)
        assert pairs[("age", "hours-per-week")] == pytest.approx(
            CorrelationSimilarity.compute(r[["age", "hours-per-week"]], s[["age", "hours-per-week"]]))
        assert pairs[("education", "income")] == pytest.approx(
            ContingencySimilarity.compute(r[["education", "income"]], s[["education", "income"]]))
        assert pairs[("age", "income")] == pytest.approx(ContingencySimilarity.compute(
            r[["age", "income"]], s[["age", "income"]], continuous_column_names=["age"]))


def test_pair_trends_score_counts_related_pairs_and_drops_for_shuffled_columns(parts):
    real, _, synthetic = parts
    schema = Schema.infer(real)
    details = fid.pair_details(real, synthetic, schema)
    related = {pair for pair, d in details.items() if d["related"]}
    assert ("education", "education-num") in related and ("relationship", "sex") in related
    assert ("fnlwgt", "race") not in related
    shuffled = synthetic.select([pl.col(c).shuffle(seed=i) for i, c in enumerate(synthetic.columns)])
    assert fid.pair_trends_score(real, synthetic, schema) > 0.9
    assert fid.pair_trends_score(real, shuffled, schema) < 0.8
    assert fid.column_shapes_score(real, shuffled, schema) == pytest.approx(fid.column_shapes_score(real, synthetic, schema))


def test_ks_and_tv_complements_on_known_inputs():
    assert fid.ks_complement(np.array([1.0, 2, 3, np.nan]), np.array([1.0, 2, 3])) == 1.0
    assert fid.ks_complement(np.array([0.0, 0, 0]), np.array([1.0, 1])) == 0.0
    assert fid.tv_complement(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 0]), 2) == 0.5


def test_detection_and_tstr_on_real_rows(parts):
    real, holdout, synthetic = parts
    schema = Schema.infer(real)
    assert abs(fid.detection_auc(real, synthetic, schema) - 0.5) < 0.06
    broken = synthetic.with_columns((pl.col("age") + 15).alias("age"))
    assert fid.detection_auc(real, broken, schema) > 0.8
    auc = fid.tstr_auc(synthetic, holdout, schema, "income")
    assert 0.85 < auc < 0.95
    result = fid.tstr(synthetic, real, holdout, schema, "income")
    assert abs(result["tstr"] - result["trtr"]) < 0.04
    assert fid.model_score(real, holdout, schema, "hours-per-week")["metric"] == "r2"
    multi = fid.model_score(real, holdout, schema, "race")
    assert multi["metric"] == "roc_auc" and 0.5 < multi["value"] <= 1.0


def test_sdmetrics_quality_is_high_for_real_rows(parts):
    real, _, synthetic = parts
    assert fid.sdmetrics_quality(real, synthetic, Schema.infer(real)) > 0.9
