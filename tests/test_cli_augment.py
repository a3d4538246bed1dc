"""``synthkit augment`` on real tables: SMOTE(NC) and a synthkit generator balance the classes
keeping every original row; bad input is a one-line error with nothing written."""

from __future__ import annotations

import os
from collections import Counter

import polars as pl
import pytest
from click.testing import CliRunner

from synthkit.cli import main
from synthkit.data import read_table, write_table


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def bank_file(datasets_dir, tmp_path_factory):
    """3,000 real Bank Marketing rows (mixed integer and categorical columns, ~12% 'yes')."""
    table = read_table(datasets_dir / "bank-full.csv.gz").sample(n=3000, seed=2)
    return write_table(table, tmp_path_factory.mktemp("bank") / "bank.csv"), table


def _assert_balanced_with_originals_first(out, original: pl.DataFrame, target: str) -> pl.DataFrame:
    result = read_table(out)
    assert result.columns == original.columns
    assert result.schema == original.schema
    assert result.head(original.height).equals(original), "every original row, first and unchanged"
    counts = Counter(result.get_column(target).to_list())
    majority = Counter(original.get_column(target).to_list()).most_common(1)[0][1]
    assert set(counts.values()) == {majority}, counts
    return result.slice(original.height)


def test_smote_on_mixed_types_switches_to_smotenc_and_says_so(bank_file, tmp_path):
    data, table = bank_file
    out = tmp_path / "balanced.parquet"
    result = run("augment", "--data", str(data), "--target", "y", "--method", "smote", "--seed", "0", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "SMOTENC runs instead" in result.output and "yes: 3" in result.output
    new = _assert_balanced_with_originals_first(out, table, "y")
    for column in ("job", "marital", "education", "month", "poutcome"):
        assert set(new.get_column(column).unique().to_list()) <= set(table.get_column(column).unique().to_list())
    assert new.get_column("age").dtype == pl.Int64


def test_smote_does_not_interpolate_integer_coded_categories(datasets_dir, tmp_path):
    """Credit Default codes SEX, EDUCATION, MARRIAGE and PAY_* as integers: plain SMOTE would
    invent codes such as SEX=1.4; synthkit switches to SMOTENC."""
    table = read_table(datasets_dir / "credit_default_taiwan.csv.gz").sample(n=2000, seed=0)
    data = write_table(table, tmp_path / "credit.csv")
    out = tmp_path / "out.csv"
    result = run("augment", "--data", str(data), "--target", "default_payment_next_month", "--method", "smote",
                 "--strategy", "0.5", "--seed", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "SMOTENC" in result.output
    augmented = read_table(out)
    new = augmented.slice(table.height)
    assert new.height > 0 and augmented.head(table.height).equals(table)
    for column in ("SEX", "EDUCATION", "MARRIAGE", "PAY_0"):
        assert set(new.get_column(column).to_list()) <= set(table.get_column(column).to_list())
    counts = Counter(augmented.get_column("default_payment_next_month").to_list())
    assert counts[1] == int(counts[0] * 0.5)


def test_a_synthkit_generator_balances_keeping_originals(bank_file, tmp_path):
    data, table = bank_file
    out = tmp_path / "balanced.csv"
    args = ("augment", "--data", str(data), "--target", "y", "--method", "gaussian_copula", "--seed", "3",
            "--param", "default_distribution=norm", "--out", str(out))
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert "one generator per class" in result.output
    new = _assert_balanced_with_originals_first(out, table, "y")
    assert set(new.get_column("y").to_list()) == {"yes"}
    assert not new.join(table, on=table.columns, how="inner").height, "no real row is copied"
    again = tmp_path / "again.csv"
    assert run(*args[:-1], str(again), "-q").exit_code == 0
    assert read_table(again).equals(read_table(out)), "the same seed gives the same rows"


def test_multiclass_auto_with_random(bank_file, tmp_path):
    data, table = bank_file
    out = tmp_path / "jobs.jsonl"
    result = run("augment", "--data", str(data), "--target", "education", "--method", "random", "--out", str(out), "-q")
    assert result.exit_code == 0 and result.output == ""
    _assert_balanced_with_originals_first(out, table, "education")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--target", "nope", "--method", "smote"), "target column 'nope' is not in the table"),
        (("--target", "y", "--method", "magic"), "unknown method 'magic'"),
        (("--target", "education", "--method", "smote", "--strategy", "0.5"), "a ratio works for two classes only"),
        (("--target", "y", "--method", "smote", "--strategy", "0.05"), "the minority is already"),
        (("--target", "y", "--method", "smote", "--strategy", "1.5"), "at most 1"),
        (("--target", "y", "--method", "smote", "--strategy", "lots"), "strategy 'lots'"),
        (("--target", "y", "--method", "adasyn"), "adasyn interpolates every column"),
        (("--target", "y", "--method", "smote", "--param", "k_nieghbors=3"), "unknown parameter(s) k_nieghbors"),
        (("--target", "y", "--method", "tvae", "--param", "epoch=3"), "unknown parameter(s) epoch"),
        (("--target", "y", "--method", "smote", "--param", "k_neighbors=-1"), "k_neighbors"),
        (("--target", "y", "--method", "gaussian_copula", "--param", "selection=everywhere"), "selection"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(bank_file, tmp_path, args, needle):
    data, _ = bank_file
    result = run("augment", "--data", str(data), *args, "--out", str(tmp_path / "out.csv"))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], result.stderr
    assert os.listdir(tmp_path) == []


def test_unusable_targets_and_missing_values(tmp_path, datasets_dir):
    table = read_table(datasets_dir / "mammography.csv").sample(n=800, seed=0)
    one_class = write_table(table.filter(pl.col("class") == -1), tmp_path / "one.csv")
    continuous = write_table(table, tmp_path / "cont.csv")
    holes = write_table(table.with_columns(pl.when(pl.int_range(pl.len()) % 9 == 0).then(None)
                                           .otherwise(pl.col("attr1")).alias("attr1")), tmp_path / "holes.csv")
    cases = [
        (one_class, "class", "smote", "has a single class"),
        (continuous, "attr1", "smote", "must hold class labels"),
        (holes, "class", "smote", "cannot interpolate missing values"),
    ]
    for data, target, method, needle in cases:
        result = run("augment", "--data", str(data), "--target", target, "--method", method, "--out", str(tmp_path / "out.csv"))
        assert result.exit_code == 2 and needle in result.stderr and "Traceback" not in result.output, result.output
        assert not (tmp_path / "out.csv").exists()
    # random over-sampling and synthkit generators take missing values in their stride
    out = tmp_path / "out.csv"
    assert run("augment", "--data", str(holes), "--target", "class", "--method", "random", "--out", str(out), "-q").exit_code == 0
    assert read_table(out).get_column("attr1").null_count() > table.height // 9
