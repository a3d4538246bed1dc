"""Column kinds are inferred from names, types and values, and an edited schema comes back."""

from __future__ import annotations

import polars as pl
import pytest

from synthkit.data import Schema
from synthkit.errors import SchemaError


def test_kinds_on_a_mixed_real_table(mixed_table):
    schema = Schema.infer(mixed_table)
    kinds = {name: spec.kind for name, spec in schema.columns.items()}
    assert kinds["date"] == "datetime"
    assert kinds["Temperature"] == "numeric"
    assert kinds["Occupancy"] == "categorical"  # a 0/1 code, learned as a category
    assert kinds["room"] == "categorical"
    assert kinds["reading_id"] == "id"
    assert kinds["email"] == "pii" and schema.columns["email"].pii_type == "email"
    assert kinds["full_name"] == "pii" and schema.columns["full_name"].pii_type == "name"


def test_kinds_on_adult(adult):
    schema = Schema.infer(adult)
    assert schema.names("numeric") == ["age", "fnlwgt", "capital-gain", "capital-loss", "hours-per-week"]
    assert "income" in schema.names("categorical")
    assert schema.names("id", "pii") == []


def test_row_numbers_are_ids(datasets_dir):
    from synthkit.data import read_table

    beijing = read_table(datasets_dir / "beijing_pm25.csv.gz", na_values=["NA"])
    schema = Schema.infer(beijing)
    assert schema.columns["No"].kind == "id"
    assert schema.columns["pm2.5"].kind == "numeric"
    assert schema.columns["cbwd"].kind == "categorical"


def test_values_reveal_pii_ids_and_dates():
    n = 120
    frame = pl.DataFrame({
        "contact": [f"user{i}@mail{i % 5}.org" for i in range(n)],
        "tel": [f"+44 20 7946 {i:04d}" for i in range(n)],
        "token": [f"{i:08x}-aaaa-4bbb-8ccc-{i:012x}" for i in range(n)],
        "when": [f"2024-03-{1 + i % 28:02d}" for i in range(n)],
        "flag": [i % 2 == 0 for i in range(n)],
        "paid": [float(i) * 1.5 for i in range(n)],  # unique floats are measurements, not ids
    })
    kinds = {k: (v.kind, v.pii_type) for k, v in Schema.infer(frame).columns.items()}
    assert kinds["contact"] == ("pii", "email")
    assert kinds["tel"] == ("pii", "phone")
    assert kinds["token"] == ("id", None)
    assert kinds["when"] == ("datetime", None)
    assert kinds["flag"] == ("boolean", None)
    assert kinds["paid"] == ("numeric", None)


def test_yaml_round_trip_and_edit(tmp_path, adult_small):
    schema = Schema.infer(adult_small)
    path = schema.write_yaml(tmp_path / "schema.yaml")
    text = path.read_text().replace("  education-num:\n    kind: categorical", "  education-num:\n    kind: numeric")
    path.write_text(text)
    edited = Schema.from_yaml(path)
    assert edited.columns["education-num"].kind == "numeric"
    assert edited.columns["age"] == schema.columns["age"]


def test_bad_schema_files_name_the_problem(tmp_path, adult_small):
    path = tmp_path / "s.yaml"
    path.write_text("columns:\n  age:\n    kind: number\n    dtype: Int64\n")
    with pytest.raises(SchemaError, match="columns.age.kind"):
        Schema.from_yaml(path)
    path.write_text("columns:\n  age:\n    kind: numeric\n    dtype: Int64\n")
    with pytest.raises(SchemaError, match="in the data but not in the schema"):
        Schema.from_yaml(path).check(adult_small)
    with pytest.raises(SchemaError, match="no such schema file"):
        Schema.from_yaml(tmp_path / "absent.yaml")


def test_conform_names_the_column_that_cannot_be_cast():
    schema = Schema.from_dict({"columns": {"x": {"kind": "numeric", "dtype": "Int64"}}})
    with pytest.raises(SchemaError, match="column 'x' cannot be read as Int64"):
        schema.conform(pl.DataFrame({"x": ["1", "two"]}))
