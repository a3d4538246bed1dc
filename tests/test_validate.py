"""validate() on real Adult rows: the four done-when cases, and no real record in the report."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from synthkit.data import Schema
from synthkit.validators import Report, validate

TRAIN, HOLD, FRESH = 3000, 1000, 1000


@pytest.fixture(scope="module")
def split(adult):
    rows = adult.sample(fraction=1.0, shuffle=True, seed=11)
    return rows[:TRAIN], rows[TRAIN:TRAIN + HOLD], rows[TRAIN + HOLD:TRAIN + HOLD + FRESH]


@pytest.fixture(scope="module")
def schema(adult):
    schema = Schema.infer(adult)
    schema.columns["income"].sensitive = True
    schema.columns["relationship"].sensitive = True
    return schema


@pytest.fixture(scope="module")
def reports(split, schema):
    train, holdout, fresh = split
    shuffled = fresh.select([pl.col(c).shuffle(seed=i) for i, c in enumerate(fresh.columns)])
    unseen = fresh.with_columns(
        pl.when(pl.int_range(pl.len()) % 25 == 0).then(pl.lit("Atlantis")).otherwise(pl.col("native-country"))
        .alias("native-country"))
    cases = {"copy": train.sample(n=FRESH, seed=5), "fresh": fresh, "shuffled": shuffled, "unseen": unseen}
    return {name: validate(train, syn, holdout=holdout, schema=schema, target="income", seed=0)
            for name, syn in cases.items()}


def gates(report: Report, prefix: str) -> list:
    return [c for c in report.gates() if c.id.startswith(prefix)]


def test_fresh_real_rows_pass_every_gate(reports):
    report = reports["fresh"]
    assert report.passed, report.summary()
    assert len(report.gates()) >= 10
    assert 0.4 < report.check("privacy.dcr_share").value < 0.6
    assert report.check("fidelity.detection_auc").value < 0.6
    assert report.check("privacy.mia_auc").value < 0.56


def test_copies_of_training_rows_fail_the_privacy_gates(reports):
    report = reports["copy"]
    failed = {c.id for c in report.failed_gates()}
    assert {"privacy.exact_copies", "privacy.dcr_share", "privacy.mia_auc", "privacy.mia_tpr"} <= failed
    assert "privacy.attribute_inference.relationship" in failed
    assert report.check("privacy.exact_copies").value == 1.0
    assert report.check("privacy.exact_copies").baseline < 0.01
    # The copies are real rows, so nothing but privacy may object.
    assert all(c.id.startswith("privacy.") for c in report.failed_gates())


def test_independently_shuffled_columns_fail_fidelity(reports):
    report = reports["shuffled"]
    failed = {c.id for c in report.failed_gates()}
    assert {"fidelity.pair_trends", "fidelity.detection_auc"} <= failed
    assert report.check("fidelity.column_shapes").passed, "marginals are untouched by shuffling"
    assert "utility.gap" in failed
    assert not gates(report, "privacy.") or all(c.passed for c in gates(report, "privacy."))


def test_a_never_seen_category_fails_an_expectation(reports):
    report = reports["unseen"]
    assert [c.id for c in report.failed_gates()] == ["expectations.failed"]
    failed = [r for r in report.section("expectations").raw["results"] if not r["success"]]
    assert [(r["expectation"], r["column"]) for r in failed] == [("expect_column_values_to_be_in_set", "native-country")]
    assert "Atlantis" in failed[0]["result"]["unexpected_examples"]


def test_the_report_holds_no_real_record(reports, split, tmp_path):
    train, holdout, _ = split
    # The most exposed records: the extremes of a near-unique column, and rows of a rare category.
    distinctive = pl.concat([
        train.sort("fnlwgt").head(3), train.sort("fnlwgt").tail(3),
        train.filter(pl.col("capital-gain") == pl.col("capital-gain").max()).head(2),
        holdout.sort("fnlwgt").tail(2),
    ])
    for name, report in reports.items():
        html = report.to_html(tmp_path / f"{name}.html")
        text = report.to_json(tmp_path / f"{name}.json")
        assert (tmp_path / f"{name}.html").read_text() == html
        for row in distinctive.iter_rows(named=True):
            number = re.compile(rf"(?<![\d.]){row['fnlwgt']}(?![\d])")
            assert not number.search(html) and not number.search(text), (name, row["fnlwgt"])
            line = ",".join(str(v) for v in row.values())
            assert line not in html and line not in text
            values = [str(v) for v in row.values() if v is not None]
            assert json.dumps(values) not in text
        assert "partial_unexpected_list" not in text


def test_json_round_trip_and_versioned_schema(reports, tmp_path):
    report = reports["copy"]
    path = tmp_path / "r.json"
    report.to_json(path)
    raw = json.loads(path.read_text())
    assert raw["schema_version"] == "1.0" and raw["passed"] is False
    again = Report.from_json(path)
    assert again.passed is False and again.check("privacy.dcr_share").value == report.check("privacy.dcr_share").value
    provenance = raw["provenance"]
    assert set(provenance["inputs"]) == {"real", "synthetic", "holdout"}
    assert len(provenance["inputs"]["real"]["sha256"]) == 64
    assert provenance["packages"]["great-expectations"].startswith("1.")
    assert provenance["target"] == "income" and provenance["seed"] == 0


def test_without_a_holdout_the_privacy_gates_fail_unless_the_policy_allows_it(split, schema):
    train, _, fresh = split
    report = validate(train, fresh, schema=schema)
    assert not report.passed
    assert {c.id for c in report.failed_gates()} == {"privacy.dcr_share", "privacy.mia_auc"}
    assert any("holdout" in n for n in report.notes)
    relaxed = validate(train, fresh, schema=schema, policy={"privacy": {"require_holdout": False}})
    assert relaxed.passed, relaxed.summary()
    assert relaxed.check("privacy.exact_copies").gate is False


def test_policy_changes_the_gates(split, schema):
    train, holdout, fresh = split
    strict = validate(train, fresh, holdout=holdout, schema=schema,
                      policy={"fidelity": {"column_shapes_min": 0.999}, "privacy": {"mia_tpr_max": None}})
    assert [c.id for c in strict.failed_gates()] == ["fidelity.column_shapes"]
    assert strict.check("privacy.mia_tpr").gate is False and strict.check("privacy.mia_tpr").passed is None


def test_bad_inputs_are_one_line_errors(split, schema):
    from synthkit.errors import ConfigError, DataError, SchemaError

    train, holdout, fresh = split
    with pytest.raises(ConfigError, match="target column 'salary' is not in the data"):
        validate(train, fresh, holdout=holdout, schema=schema, target="salary")
    with pytest.raises(ConfigError, match="holdout is the real training data"):
        validate(train, fresh, holdout=train, schema=schema)
    with pytest.raises(DataError, match="synthetic data: 3 rows"):
        validate(train, fresh.head(3), holdout=holdout, schema=schema)
    with pytest.raises(SchemaError, match="holdout: column"):
        validate(train, fresh, holdout=holdout.drop("age"), schema=schema)
    with pytest.raises(ConfigError, match=r"privacy\.dcr_share_max"):
        validate(train, fresh, holdout=holdout, schema=schema, policy={"privacy": {"dcr_share_max": "high"}})


def test_a_synthetic_table_with_a_missing_column_is_measured_and_fails_expectations(split, schema):
    train, holdout, fresh = split
    report = validate(train, fresh.drop("fnlwgt"), holdout=holdout, schema=schema)
    failed = [r["expectation"] for r in report.section("expectations").raw["results"] if not r["success"]]
    assert "expect_table_columns_to_match_set" in failed
    assert "fnlwgt" not in report.check("fidelity.column_shapes").details["per_column"]
    assert any("lacks column(s) fnlwgt" in n for n in report.notes)


def test_pandas_frames_and_the_top_level_export(split):
    import synthkit

    train, holdout, fresh = split
    report = synthkit.validate(train.head(800).to_pandas(), fresh.head(300).to_pandas(), holdout=holdout.head(300))
    assert {s.name for s in report.sections} == {"expectations", "fidelity", "privacy"}


def test_dates_missing_values_ids_and_pii(mixed_table, tmp_path):
    rows = mixed_table.sample(fraction=1.0, shuffle=True, seed=2)
    train, holdout, fresh = rows[:200], rows[200:300], rows[300:]
    report = validate(train, fresh, holdout=holdout, target="Occupancy")
    assert report.passed, report.summary()
    assert report.check("privacy.identifier_copies").value == 0.0
    kinds = {p.title: p.data.get("x") for p in report.section("fidelity").plots if p.kind == "histogram"}
    assert kinds["date"] == "datetime" and "email" not in kinds and "reading_id" not in kinds
    report.to_html(tmp_path / "mixed.html")
    leaked = fresh.with_columns(pl.Series("email", train.get_column("email").head(fresh.height)))
    bad = validate(train, leaked, holdout=holdout)
    assert [c.id for c in bad.failed_gates()] == ["privacy.identifier_copies"]
