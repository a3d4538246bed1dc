"""Privacy metrics: exact blocked nearest neighbours, copies, DCR share, attacks."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import synthkit.validators.privacy as priv
from synthkit.data import Schema


def brute_force(query: priv.Encoded, reference: priv.Encoded, k: int) -> np.ndarray:
    rows = np.repeat(np.arange(len(query))[:, None], len(reference), 1)
    cols = np.repeat(np.arange(len(reference))[None, :], len(query), 0)
    return np.sqrt(np.sort(priv._exact_sq(query, reference, rows, cols), 1)[:, :k] / query.width)


@pytest.fixture(scope="module")
def rows(adult):
    return adult.sample(n=2400, seed=4)


def test_nearest_is_exact_on_mixed_types_with_missing_values_and_dates(mixed_table, monkeypatch):
    schema = Schema.infer(mixed_table)
    a, b = mixed_table[:250], mixed_table[250:]
    e_a, e_b = priv.DistanceSpace(schema).encode(a, b)
    assert e_a.width == 8  # date, 5 numbers, Occupancy, room: ids and PII are not compared
    dist, index = priv.nearest(e_b, e_a, k=2)
    np.testing.assert_allclose(dist, brute_force(e_b, e_a, 2), atol=1e-12)
    assert index.shape == (len(b), 2) and index.max() < len(a)
    # The same through the value-by-value path for wide categories and through tiny blocks.
    monkeypatch.setattr(priv, "MAX_ONE_HOT", 1)
    monkeypatch.setattr(priv, "BLOCK_CELLS", 1000)
    monkeypatch.setattr(priv, "REFERENCE_CHUNK", 64)
    e_a, e_b = priv.DistanceSpace(schema).encode(a, b)
    assert e_a.wide.shape[1] == 2
    dist_wide, _ = priv.nearest(e_b, e_a, k=2)
    np.testing.assert_allclose(dist_wide, dist, atol=1e-12)


def test_distance_definition_on_a_tiny_table():
    schema = Schema.infer(pl.DataFrame({"x": [0.0, 10.0, 5.0, 2.5], "c": ["a", "b", "a", "b"]}))
    frame = pl.DataFrame({"x": [0.0, 10.0, 5.0, 2.5], "c": ["a", "b", "a", "b"]})
    query = pl.DataFrame({"x": [0.0, 5.0, None], "c": ["b", "a", "zz"]})
    e_ref, e_q = priv.DistanceSpace(schema).encode(frame, query)
    dist, index = priv.nearest(e_q, e_ref, k=1)
    # (0,b): nearest (2.5,b): (0.25² + 0)/2; (5,a) is a copy; (null, zz): median 3.75 filled, missing
    # indicator 1, category mismatch 1 -> nearest (2.5|5.0): ((1.25/10)² + 1 + 1)/2.
    np.testing.assert_allclose(dist[:, 0], np.sqrt([0.0625 / 2, 0.0, (0.125**2 + 2) / 2]))
    assert index[1, 0] == 2


def test_exact_copy_rate(rows):
    schema = Schema.infer(rows)
    train, other = rows[:1200], rows[1200:]
    assert priv.exact_copy_rate(train, train.sample(n=300, seed=1), schema) == 1.0
    assert priv.exact_copy_rate(train, other, schema) < 0.02
    # An int column read back as float is still the same row.
    as_float = train.head(50).with_columns(pl.col("age").cast(pl.Float64))
    assert priv.exact_copy_rate(train, as_float, Schema.infer(rows)) == 1.0


def test_dcr_share_separates_copies_from_fresh_rows(rows):
    schema = Schema.infer(rows)
    train, holdout, fresh = rows[:800], rows[800:1600], rows[1600:]
    assert priv.dcr_share(train, holdout, train.sample(n=800, seed=2), schema) > 0.95
    assert 0.42 < priv.dcr_share(train, holdout, fresh, schema) < 0.58


def test_membership_and_attribute_inference(rows):
    schema = Schema.infer(rows)
    train, holdout, fresh = rows[:800], rows[800:1600], rows[1600:]
    leak = priv.membership_inference(train, holdout, train, schema)
    assert leak["auc"] > 0.95 and leak["tpr_at_low_fpr"] > 0.9
    none = priv.membership_inference(train, holdout, fresh, schema)
    assert 0.44 < none["auc"] < 0.56 and none["tpr_at_low_fpr"] < 0.05
    assert len(none["curve"]["fpr"]) == 101
    copied = priv.attribute_inference(train, holdout, train, schema, "relationship")
    assert copied["success_train"] == 1.0 and copied["advantage"] > 0.5
    fair = priv.attribute_inference(train, holdout, fresh, schema, "relationship")
    assert abs(fair["advantage"]) < 0.1
    numeric = priv.attribute_inference(train, holdout, train, schema, "hours-per-week")
    assert numeric["success_train"] == 1.0 and numeric["advantage"] > 0.3


def test_nndr_is_zero_for_copies_and_defined_for_double_zero():
    d = np.array([[0.0, 0.5], [0.2, 0.4], [0.0, 0.0]])
    np.testing.assert_allclose(priv.nndr(d), [0.0, 0.5, 0.0])
