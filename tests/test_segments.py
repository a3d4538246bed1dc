"""Per-segment generators: each segment's rows come from its own generator only."""

from __future__ import annotations

import os

import polars as pl
import pytest
from click.testing import CliRunner

from synthkit import generators
from synthkit.cli import main
from synthkit.data import read_table, write_table
from synthkit.segments import allocate_rows

HOURS = "hours-per-week"


@pytest.fixture(scope="module")
def units(adult) -> pl.DataFrame:
    """Real Adult rows in three business units; "east" has hours no other unit has, and a
    workclass level of its own."""
    base = adult.sample(n=1500, seed=4).select("age", "workclass", "education", HOURS, "income")
    frame = base.with_columns(pl.Series("unit", ["north"] * 600 + ["south"] * 500 + ["east"] * 400))
    east = pl.col("unit") == "east"
    return frame.with_columns(
        pl.when(east).then(pl.col(HOURS) + 1000).otherwise(pl.col(HOURS)).alias(HOURS),
        pl.when(east & (pl.col("workclass") == "Private")).then(pl.lit("Contractor")).otherwise(pl.col("workclass")).alias("workclass"),
    )


def run(*args):
    return CliRunner().invoke(main, list(args))


def outside_own_unit(synthetic: pl.DataFrame, real: pl.DataFrame) -> int:
    """Synthetic rows whose hours fall outside their unit's real range, or that carry
    another unit's own workclass level."""
    bad = 0
    for unit, rows in synthetic.group_by("unit"):
        own = real.filter(pl.col("unit") == unit[0])
        low, high = own.get_column(HOURS).min(), own.get_column(HOURS).max()
        hours = rows.get_column(HOURS)
        bad += int(((hours < low) | (hours > high)).sum())
        levels = set(own.get_column("workclass").drop_nulls().to_list())
        bad += sum(1 for v in rows.get_column("workclass").drop_nulls().to_list() if v not in levels)
    return bad


def test_each_segment_samples_only_from_its_own_generator(tmp_path, units):
    data = write_table(units, tmp_path / "units.parquet")
    out = tmp_path / "synth.parquet"
    result = run("generate", "-g", "gaussian_copula", "--data", str(data), "--segment-by", "unit", "--rows", "3000", "--seed", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "3 gaussian_copula generators (one per unit)" in result.output
    synthetic = read_table(out)
    counts = dict(synthetic.group_by("unit").len().iter_rows())
    assert counts == {"north": 1200, "south": 1000, "east": 800}, "in proportion to the real segments"
    assert outside_own_unit(synthetic, units) == 0
    assert synthetic.filter(pl.col("unit") == "east").get_column(HOURS).min() >= 1000

    # The control: one generator for the whole table lets the units shape each other.
    pooled = generators.create("gaussian_copula", random_state=2, verbose=False).fit(units).sample(3000, seed=2)
    assert outside_own_unit(pooled, units) > 0


def test_segment_rows_as_asked_and_unlisted_segments_are_left_out(tmp_path, units):
    data = write_table(units, tmp_path / "units.csv")
    out = tmp_path / "synth.csv"
    result = run("generate", "-g", "gaussian_copula", "--data", str(data), "--segment-by", "unit", "--segment-rows", "east=50",
                 "--segment-rows", "north=120", "--seed", "1", "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    synthetic = read_table(out)
    assert dict(synthetic.group_by("unit").len().iter_rows()) == {"north": 120, "east": 50}
    assert outside_own_unit(synthetic, units) == 0


def test_ids_and_pii_never_repeat_a_real_value_of_any_segment(tmp_path, mixed_table):
    data = write_table(mixed_table, tmp_path / "sensors.parquet")
    out = tmp_path / "synth.parquet"
    result = run("generate", "-g", "gaussian_copula", "--data", str(data), "--segment-by", "room", "--rows", "800", "--seed", "4", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "rows per segment: A=" in result.output and "null=" in result.output
    synthetic = read_table(out)
    assert synthetic.height == 800
    assert set(synthetic.get_column("room").to_list()) == {"A", "B", "C", None}
    ids = synthetic.get_column("reading_id")
    assert ids.n_unique() == 800
    assert ids.min() > mixed_table.get_column("reading_id").max(), "ids continue after the whole table's largest"
    assert not set(synthetic.get_column("email").drop_nulls().to_list()) & set(mixed_table.get_column("email").to_list())


def test_allocate_rows_sums_exactly():
    assert allocate_rows({"a": 1, "b": 1, "c": 1}, 10) == {"a": 4, "b": 3, "c": 3}
    assert sum(allocate_rows({"a": 7, "b": 13, "c": 980}, 999).values()) == 999


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--segment-by", "nope"], "segment column 'nope' is not in the data"),
        (["--segment-by", "unit", "--segment-rows", "west=10"], "--segment-rows: unit='west' is not a segment"),
        (["--segment-rows", "east=10"], "--segment-rows needs --segment-by"),
        (["--segment-by", "unit", "--segment-rows", "east=10", "--rows", "20"], "differs from the sum of --segment-rows"),
    ],
)
def test_bad_segment_options_are_one_line_errors(tmp_path, units, args, needle):
    data = write_table(units, tmp_path / "units.parquet")
    os.chdir(tmp_path)
    result = run("generate", "--data", str(data), "--out", "out.parquet", *args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], result.stderr
    assert sorted(os.listdir(tmp_path)) == ["units.parquet"]
