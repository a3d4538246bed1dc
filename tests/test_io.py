"""Tables in and out: every format, missing-value markers, and one-line errors for bad files."""

from __future__ import annotations

import gzip
import os

import polars as pl
import pytest

from synthkit.data import Schema, read_table, write_table
from synthkit.errors import DataError


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".tsv", ".parquet", ".jsonl", ".arrow", ".feather"])
def test_round_trip_keeps_values_and_types(tmp_path, mixed_table, suffix):
    path = tmp_path / f"table{suffix}"
    write_table(mixed_table, path)
    back = read_table(path)
    assert back.columns == mixed_table.columns
    assert back.height == mixed_table.height
    # JSON has no datetime type: there the schema recognises the timestamps
    assert Schema.infer(back).columns["date"].kind == "datetime"
    assert back.get_column("Humidity").null_count() == mixed_table.get_column("Humidity").null_count()
    assert back.get_column("reading_id").to_list() == mixed_table.get_column("reading_id").to_list()


def test_csv_gz_is_really_gzip(tmp_path, adult_small):
    path = write_table(adult_small, tmp_path / "a.csv.gz")
    with gzip.open(path, "rt") as handle:
        assert handle.readline().startswith("age,workclass")


def test_na_values_marks_missing(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("a,b\n1,x\n?,y\n3, ?\n")
    plain = read_table(path)
    assert plain.get_column("b").to_list() == ["x", "y", " ?"]
    marked = read_table(path, na_values=["?"])
    assert marked.get_column("a").to_list() == [1, None, 3]
    assert marked.get_column("a").dtype.is_integer()
    assert marked.get_column("b").to_list() == ["x", "y", None]


def test_real_adult_missing_markers(datasets_dir):
    frame = read_table(datasets_dir / "adult.csv.gz", na_values=["?"])
    assert frame.shape == (32_561, 15)
    assert frame.get_column("workclass").null_count() == 1_836
    assert frame.get_column("native-country").null_count() == 583


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (b"a,b,c\n", "header but no rows")],
)
def test_empty_and_header_only(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_table(path)


def test_unknown_extension_and_missing_file(tmp_path):
    with pytest.raises(DataError, match="unknown table format"):
        read_table(tmp_path / "table.xlsx")
    with pytest.raises(DataError, match="no such file"):
        read_table(tmp_path / "absent.csv")


def test_unreadable_file_is_one_line(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"this is not parquet at all" * 10)
    with pytest.raises(DataError) as info:
        read_table(path)
    assert "cannot be read as parquet" in str(info.value)
    assert "\n" not in str(info.value)


def test_failed_write_leaves_nothing(tmp_path, adult_small, monkeypatch):
    target = tmp_path / "out.parquet"

    def explode(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", explode)
    with pytest.raises(DataError, match="disk full"):
        write_table(adult_small, target)
    assert os.listdir(tmp_path) == []


def test_written_file_has_normal_permissions(tmp_path, adult_small):
    path = write_table(adult_small, tmp_path / "x.parquet")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_folder_replacing_a_file_leaves_no_stray_copy(tmp_path):
    from synthkit.data.io import atomic_path

    target = tmp_path / "model"
    target.write_text("an old file")
    with atomic_path(target, directory=True) as tmp:
        (tmp / "x").write_text("new")
    assert (target / "x").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
