"""What every generator inherits from the shared preprocessing: missing values, datetimes,
ids, PII, rounding — checked on a real table through the fastest generator."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from synthkit import generators
from synthkit.data import Schema
from synthkit.data.prep import TablePrep


@pytest.fixture(scope="module")
def fitted(mixed_table):
    return generators.create("gaussian_copula", random_state=0, verbose=False).fit(mixed_table)


@pytest.fixture(scope="module")
def synthetic(fitted):
    return fitted.sample(2_000, seed=7)


def test_columns_and_types_come_back(mixed_table, synthetic):
    assert synthetic.columns == mixed_table.columns
    assert synthetic.schema == mixed_table.schema


def test_missing_rates_are_close(mixed_table, synthetic):
    for column in ("Humidity", "room"):
        real = mixed_table.get_column(column).null_count() / mixed_table.height
        fake = synthetic.get_column(column).null_count() / synthetic.height
        assert real > 0.1
        assert abs(real - fake) < 0.05, column


def test_datetimes_stay_inside_the_real_range(mixed_table, synthetic):
    real, fake = mixed_table.get_column("date"), synthetic.get_column("date")
    assert fake.min() >= real.min() and fake.max() <= real.max()
    assert fake.n_unique() > 100
    # the real stamps are whole minutes; so are the synthetic ones
    assert (fake.dt.second() == 0).all()


def test_ids_are_regenerated_unique_and_never_real(mixed_table, synthetic):
    ids = synthetic.get_column("reading_id")
    assert ids.n_unique() == ids.len()
    assert not set(ids.to_list()) & set(mixed_table.get_column("reading_id").to_list())


def test_pii_never_reproduces_a_real_value(mixed_table, synthetic):
    for column in ("email", "full_name"):
        fake = set(synthetic.get_column(column).drop_nulls().to_list())
        assert len(fake) > 1_500, column
        assert not fake & set(mixed_table.get_column(column).to_list()), column
    assert synthetic.get_column("email").str.contains("@").all()


def test_pii_filter_rejects_real_values_even_when_faker_would_draw_them():
    real = pl.DataFrame({"name": ["John Smith", "Mary Jones", "Ann Lee"] * 10, "x": np.arange(30.0)})
    prep = TablePrep(Schema.infer(real)).fit(real)
    state = prep.columns["name"]["pii"]
    import base64

    from synthkit.data.prep import _bucket, _normalise_pii

    taken = set(np.frombuffer(base64.b64decode(state["buckets"]), dtype="<u4").tolist())
    for value in ("John Smith", "  john   SMITH "):
        assert _bucket(_normalise_pii(value, "name"), bytes.fromhex(state["key"]), state["bits"]) in taken
    # the filter is coarse: many values that were never in the data are refused too
    assert 0.02 < len(taken) / 2 ** state["bits"] < 0.2


def test_numbers_keep_the_real_resolution(adult_small):
    out = generators.create("gaussian_copula", random_state=0, verbose=False).fit(adult_small).sample(500, seed=1)
    assert out.get_column("age").dtype == pl.Int64
    temps = Schema.infer(adult_small)  # integer columns stay integers
    assert temps.columns["hours-per-week"].dtype == "Int64"


def test_float_rounding_matches_real_decimals(occupancy):
    frame = occupancy.head(300).select(pl.col("Temperature").round(2), "CO2")
    out = generators.create("gaussian_copula", random_state=0, verbose=False).fit(frame).sample(300, seed=2)
    cents = out.get_column("Temperature").to_numpy() * 100
    assert np.allclose(cents, np.round(cents), atol=1e-6)
    assert out.get_column("Temperature").n_unique() > 20


def test_same_seed_refits_give_the_same_pii(mixed_table):
    first = generators.create("gaussian_copula", random_state=4, verbose=False).fit(mixed_table).sample(300, seed=9)
    second = generators.create("gaussian_copula", random_state=4, verbose=False).fit(mixed_table).sample(300, seed=9)
    assert first.equals(second)
