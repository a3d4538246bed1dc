"""The command line: the demo run, own files, inspect, and one-line errors for bad input."""

from __future__ import annotations

import json
import os

import polars as pl
import pytest
from click.testing import CliRunner

from synthkit.cli import main
from synthkit.data import load_demo, read_table, write_table


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def assert_clean_failure(result, *, needle: str, out_dir, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and needle in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not [p for p in os.listdir(out_dir) if p.startswith(("out", ".out"))], "nothing half-written"


def test_generate_on_the_demo(tmp_path):
    out = tmp_path / "synthetic.parquet"
    result = run("generate", "-g", "gaussian_copula", "--rows", "500", "--seed", "3", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "500 rows × 15 columns" in result.output and str(out) in result.output
    synthetic = pl.read_parquet(out)
    demo = load_demo()
    assert synthetic.schema == demo.schema
    assert synthetic.height == 500
    again = tmp_path / "again.parquet"
    assert run("generate", "-g", "gaussian_copula", "--rows", "500", "--seed", "3", "--out", str(again), "-q").exit_code == 0
    assert pl.read_parquet(again).equals(synthetic), "the same seed gives identical rows"


def test_default_output_is_synthetic_parquet_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("generate", "-g", "gaussian_copula", "--rows", "50", "-q")
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert pl.read_parquet(tmp_path / "synthetic.parquet").height == 50


def test_generate_on_a_real_file_with_dates_missing_values_ids_and_pii(tmp_path, mixed_table):
    data = write_table(mixed_table, tmp_path / "sensors.csv")
    out = tmp_path / "out.csv"
    model = tmp_path / "model"
    result = run("generate", "-g", "gaussian_copula", "--data", str(data), "--rows", "300", "--out", str(out), "--seed", "1",
                 "--condition", "Occupancy=1", "--save-model", str(model))
    assert result.exit_code == 0, result.output
    synthetic = read_table(out)
    assert synthetic.columns == mixed_table.columns
    assert set(synthetic.get_column("Occupancy").to_list()) == {1}
    assert synthetic.get_column("date").dtype.is_temporal()
    assert synthetic.get_column("Humidity").null_count() > 0
    assert (model / "synthkit.json").is_file()


def test_na_values_option(tmp_path, datasets_dir):
    raw = read_table(datasets_dir / "adult.csv.gz").head(400)
    data = write_table(raw, tmp_path / "adult.csv")
    out = tmp_path / "out.parquet"
    result = run("generate", "-g", "gaussian_copula", "--data", str(data), "--na-values", "?", "--rows", "400", "--out", str(out), "-q", "--seed", "0")
    assert result.exit_code == 0, result.output
    synthetic = pl.read_parquet(out)
    assert "?" not in synthetic.get_column("workclass").to_list()


def test_epochs_and_params_reach_the_generator(tmp_path, adult_small):
    data = write_table(adult_small, tmp_path / "a.parquet")
    model = tmp_path / "m"
    result = run("generate", "--data", str(data), "-g", "tvae", "--epochs", "1", "--param", "batch_size=100",
                 "--device", "cpu", "--rows", "20", "--out", str(tmp_path / "o.parquet"), "--save-model", str(model), "-q")
    assert result.exit_code == 0, result.output
    import json

    params = json.loads((model / "synthkit.json").read_text())["params"]
    assert params["epochs"] == 1 and params["batch_size"] == 100 and params["device"] == "cpu"


def test_inspect_and_schema_round_trip(tmp_path, mixed_table):
    data = write_table(mixed_table, tmp_path / "t.parquet")
    schema = tmp_path / "schema.yaml"
    result = run("inspect", str(data), "--schema-out", str(schema))
    assert result.exit_code == 0, result.output
    for word in ("datetime", "pii (email)", "id", "categorical"):
        assert word in result.output
    schema.write_text(schema.read_text().replace("  Occupancy:\n    kind: categorical", "  Occupancy:\n    kind: numeric"))
    result = run("inspect", str(data), "--schema", str(schema))
    assert "Occupancy" in result.output
    out = tmp_path / "o.parquet"
    assert run("generate", "-g", "gaussian_copula", "--data", str(data), "--schema", str(schema), "--rows", "30", "--out", str(out), "-q").exit_code == 0


def test_generators_lists_names():
    result = run("generators")
    assert result.exit_code == 0
    for name in ("gaussian_copula", "ctgan", "tvae", "copulagan"):
        assert name in result.output


@pytest.fixture()
def files(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "header.csv").write_text("a,b,c\n")
    (tmp_path / "ok.csv").write_text("a,b\n" + "".join(f"{i},{'xy'[i % 2]}\n" for i in range(40)))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    return tmp_path, out_dir


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--data", "{d}/missing.csv"], "no such file"),
        (["--data", "{d}/empty.csv"], "the file is empty"),
        (["--data", "{d}/header.csv"], "header but no rows"),
        (["--data", "{d}/ok.csv", "--generator", "nope"], "unknown generator 'nope'"),
        (["--data", "{d}/ok.csv", "--condition", "zzz=1"], "unknown column 'zzz'"),
        (["--data", "{d}/ok.csv", "--condition", "b=q"], "never occurs"),
        (["--data", "{d}/ok.csv", "--condition", "novalue"], "NAME=VALUE"),
        (["--data", "{d}/ok.csv", "--rows", "0"], "positive number of rows"),
        (["--data", "{d}/ok.csv", "--rows", "-5"], "positive number of rows"),
        (["--data", "{d}/ok.csv", "-g", "gaussian_copula", "--epochs", "3"], "does not train in epochs"),
        (["--data", "{d}/ok.csv", "--param", "bogus=1"], "unknown parameter"),
        (["--data", "{d}/ok.csv", "--schema", "{d}/missing.yaml"], "no such schema file"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(files, args, needle):
    folder, out_dir = files
    args = [a.format(d=folder) for a in args] + ["--out", str(out_dir / "out.parquet"), "--save-model", str(out_dir / "out_model")]
    assert_clean_failure(run("generate", *args), needle=needle, out_dir=out_dir)


def test_unknown_output_extension(files):
    folder, out_dir = files
    result = run("generate", "--data", str(folder / "ok.csv"), "--out", str(out_dir / "out.xlsx"))
    assert_clean_failure(result, needle="unknown table format", out_dir=out_dir)


def test_saved_model_samples_only_when_trusted(tmp_path, adult_small):
    data = write_table(adult_small, tmp_path / "a.parquet")
    model, first, second = tmp_path / "m", tmp_path / "first.parquet", tmp_path / "second.parquet"
    assert run("generate", "-g", "gaussian_copula", "--data", str(data), "--seed", "5", "--rows", "100", "--out", str(first),
               "--save-model", str(model), "-q").exit_code == 0
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    refused = run("generate", "--model", str(model), "--rows", "100", "--out", str(out_dir / "out.parquet"))
    assert_clean_failure(refused, needle="--trust-model", out_dir=out_dir)
    result = run("generate", "--model", str(model), "--trust-model", "--seed", "5", "--rows", "100", "--out", str(second), "-q")
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(second).equals(pl.read_parquet(first)), "a saved model samples what the fitted one did"


def test_default_generator_with_a_time_budget(tmp_path):
    from synthkit import generators

    assert generators.DEFAULT == "masked_diffusion"
    out = tmp_path / "s.parquet"
    model = tmp_path / "model"
    result = run("generate", "--rows", "40", "--max-minutes", "0.01", "--param", "width=32", "--param", "depth=1",
                 "--param", "sampling_steps=4", "--seed", "1", "--out", str(out), "--save-model", str(model), "-q")
    assert result.exit_code == 0, result.output
    assert pl.read_parquet(out).height == 40
    meta = json.loads((model / "synthkit.json").read_text())
    assert meta["generator"] == "masked_diffusion" and meta["params"]["max_minutes"] == 0.01
    assert json.loads((model / "diffusion.json").read_text())["stop_reason"] == "max_minutes"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-g", "gaussian_copula", "--max-minutes", "1"], "has no training time budget"),
        (["--max-minutes", "0"], "must be a positive number of minutes"),
    ],
)
def test_bad_max_minutes(tmp_path, args, needle):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert_clean_failure(run("generate", *args, "--out", str(out_dir / "out.parquet")), needle=needle, out_dir=out_dir)
