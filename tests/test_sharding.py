"""Sharded sampling into a Parquet folder: same rows on every backend, distinct ids, all or nothing."""

from __future__ import annotations

import os

import polars as pl
import pytest
from click.testing import CliRunner

from synthkit import generators
from synthkit.cli import main
from synthkit.data import read_table, write_table
from synthkit.errors import ConfigError, DataError
from synthkit.parallel import get_backend
from synthkit.sharding import plan_shards, sample_dataset


@pytest.fixture(scope="module")
def fitted(mixed_table):
    """A generator fitted on real Occupancy rows with an integer id, e-mails and names."""
    return generators.create("gaussian_copula", random_state=0, verbose=False).fit(mixed_table)


def test_the_shard_plan_depends_only_on_rows_seed_and_shard_size():
    plan = plan_shards({"A": 25, "B": 10}, seed=3, shard_rows=10)
    assert [(s.segment, s.start, s.rows) for s in plan] == [("A", 0, 10), ("A", 10, 10), ("A", 20, 5), ("B", 25, 10)]
    assert len({s.seed for s in plan}) == 4
    assert [s.file for s in plan] == [f"part-{i:05d}.parquet" for i in range(4)]
    assert plan == plan_shards({"A": 25, "B": 10}, seed=3, shard_rows=10)
    assert [s.seed for s in plan] != [s.seed for s in plan_shards({"A": 25, "B": 10}, seed=4, shard_rows=10)]
    with pytest.raises(ConfigError):
        plan_shards({None: 10}, seed=0, shard_rows=0)


def test_shards_have_distinct_ids_and_the_seed_fixes_the_rows(tmp_path, fitted, mixed_table):
    with get_backend("serial") as serial:
        summary = sample_dataset({None: fitted}, {None: 2_500}, tmp_path / "a.parquet", backend=serial, seed=11,
                                 shard_rows=400)
        sample_dataset({None: fitted}, {None: 2_500}, tmp_path / "b.parquet", backend=serial, seed=11, shard_rows=400)
    assert summary["rows"] == 2_500 and summary["parts"] == 7
    assert sorted(os.listdir(tmp_path)) == ["a.parquet", "b.parquet"], "no temporary folder is left"
    a, b = read_table(tmp_path / "a.parquet"), read_table(tmp_path / "b.parquet")
    assert a.equals(b)
    assert a.schema == mixed_table.schema
    ids = a.get_column("reading_id")
    assert ids.n_unique() == 2_500, "shards get distinct id ranges"
    assert not set(ids.to_list()) & set(mixed_table.get_column("reading_id").to_list())
    assert a.get_column("email").drop_nulls().n_unique() > 2_000
    # another seed gives other rows
    with get_backend("serial") as serial:
        sample_dataset({None: fitted}, {None: 2_500}, tmp_path / "c.parquet", backend=serial, seed=12, shard_rows=400)
    assert not read_table(tmp_path / "c.parquet").equals(a)


class _BreaksOnShard:
    """Wraps a generator; sampling the shard that starts at ``bad_start`` fails."""

    def __init__(self, inner, bad_start):
        self.inner, self.bad_start = inner, bad_start

    def sample(self, n, *, conditions=None, seed=None, id_offset=0):
        if id_offset == self.bad_start:
            raise DataError("disk full (simulated)")
        return self.inner.sample(n, conditions=conditions, seed=seed, id_offset=id_offset)


def test_a_failed_shard_leaves_nothing_and_keeps_the_old_folder(tmp_path, fitted):
    out = tmp_path / "out.parquet"
    with get_backend("serial") as serial:
        sample_dataset({None: fitted}, {None: 300}, out, backend=serial, seed=1, shard_rows=100)
        before = read_table(out)
        with pytest.raises(DataError, match="disk full"):
            sample_dataset({None: _BreaksOnShard(fitted, 200)}, {None: 300}, out, backend=serial, seed=2,
                           shard_rows=100)
    assert sorted(os.listdir(tmp_path)) == ["out.parquet"]
    assert read_table(out).equals(before), "the previous dataset is untouched"


def test_cli_writes_a_folder_with_the_local_backend_and_matches_the_library(tmp_path, mixed_table):
    # no PII columns: their fake values are keyed by a fresh secret at every fit, so two fits
    # with one seed agree on every other column only
    table = mixed_table.drop("email", "full_name")
    data = write_table(table, tmp_path / "sensors.parquet")
    out = tmp_path / "synth.parquet"
    result = CliRunner().invoke(main, ["generate", "-g", "gaussian_copula", "--data", str(data), "--rows", "1000", "--shard-rows", "300",
                                       "--backend", "local", "--workers", "2", "--seed", "5", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1,000 rows" in result.output and "4 part files on local (2 workers)" in result.output
    assert out.is_dir() and len(list(out.glob("part-*.parquet"))) == 4
    synthetic = read_table(out)
    assert synthetic.height == 1000
    assert pl.scan_parquet(out / "*.parquet").select(pl.len()).collect().item() == 1000
    # the CLI fits with random_state=seed, then samples the same plan
    reference = generators.create("gaussian_copula", random_state=5, verbose=False).fit(table)
    with get_backend("serial") as serial:
        sample_dataset({None: reference}, {None: 1000}, tmp_path / "ref.parquet", backend=serial, seed=5, shard_rows=300)
    assert synthetic.equals(read_table(tmp_path / "ref.parquet"))


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--backend", "local", "--out", "x.csv"], "sharded output is a Parquet dataset"),
        (["--shard-rows", "100", "--out", "x.parquet"], "--shard-rows needs --backend local or --backend dask"),
        (["--backend", "local", "--address", "tcp://127.0.0.1:1", "--out", "x.parquet"], "--address is the address of a Dask scheduler"),
        (["--backend", "local", "--shard-rows", "0", "--out", "x.parquet"], "must be a positive number of rows"),
    ],
)
def test_bad_scale_options_are_one_line_errors(tmp_path, args, needle):
    os.chdir(tmp_path)
    result = CliRunner().invoke(main, ["generate", "--rows", "10", *args])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], result.stderr
    assert os.listdir(tmp_path) == []
