"""`synthkit validate` exit codes and `synthkit generate --report`."""

from __future__ import annotations

import json
import os

import polars as pl
import pytest
from click.testing import CliRunner

from synthkit.cli import main
from synthkit.data import read_table, write_table


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def files(adult, tmp_path_factory):
    folder = tmp_path_factory.mktemp("validate")
    rows = adult.sample(n=2000, seed=9)
    paths = {}
    for name, frame in (("train", rows[:1200]), ("holdout", rows[1200:1600]), ("fresh", rows[1600:]),
                        ("copy", rows[:400])):
        paths[name] = write_table(frame, folder / f"{name}.csv")
    return folder, paths


def test_exit_0_when_every_gate_passes(files):
    folder, p = files
    html, report_json = folder / "ok.html", folder / "ok.json"
    result = run("validate", "--real", str(p["train"]), "--synthetic", str(p["fresh"]), "--holdout", str(p["holdout"]),
                 "--target", "income", "--html", str(html), "--json", str(report_json))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("PASS") and "DCR share" in result.output
    assert html.read_text().startswith("<!DOCTYPE html>")
    raw = json.loads(report_json.read_text())
    assert raw["passed"] is True and raw["provenance"]["files"]["real"]["path"] == str(p["train"])


def test_exit_1_when_a_gate_fails(files):
    folder, p = files
    result = run("validate", "--real", str(p["train"]), "--synthetic", str(p["copy"]), "--holdout", str(p["holdout"]),
                 "--json", str(folder / "copy.json"), "-q")
    assert result.exit_code == 1
    assert result.output == ""
    assert json.loads((folder / "copy.json").read_text())["passed"] is False


def test_policy_and_schema_files(files):
    folder, p = files
    policy = folder / "lenient.yaml"
    policy.write_text("privacy:\n  exact_copy_excess_max: null\n  dcr_share_max: null\n  mia_auc_max: null\n  mia_tpr_max: null\n")
    result = run("validate", "--real", str(p["train"]), "--synthetic", str(p["copy"]), "--holdout", str(p["holdout"]),
                 "--policy", str(policy))
    assert result.exit_code == 0, result.output
    schema = folder / "schema.yaml"
    assert run("inspect", str(p["train"]), "-o", str(schema)).exit_code == 0
    schema.write_text(schema.read_text().replace("  income:\n    kind: categorical", "  income:\n    sensitive: true\n    kind: categorical"))
    result = run("validate", "--real", str(p["train"]), "--synthetic", str(p["copy"]), "--holdout", str(p["holdout"]),
                 "--schema", str(schema))
    assert result.exit_code == 1 and "Attribute inference advantage on 'income'" in result.output


@pytest.mark.parametrize("extra, needle", [
    (["--target", "nope"], "target column 'nope' is not in the data"),
    (["--policy", "POLICY"], "privacy.dcr_share_maxx: unknown key"),
    (["--html", "/nonexistent/dir/r.html"], "does not exist"),
    (["--synthetic", "/nonexistent.csv"], "no such file"),
])
def test_exit_2_for_bad_input(files, extra, needle):
    folder, p = files
    policy = folder / "bad.yaml"
    policy.write_text("privacy:\n  dcr_share_maxx: 0.5\n")
    extra = [str(policy) if e == "POLICY" else e for e in extra]
    result = run("validate", "--real", str(p["train"]), "--synthetic", str(p["fresh"]), *extra)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_missing_required_option_is_a_usage_error():
    result = run("validate", "--real", "x.csv")
    assert result.exit_code == 2 and "--synthetic" in result.stderr


def test_generate_with_a_report(files, tmp_path):
    _, p = files
    out, html, report_json = tmp_path / "syn.parquet", tmp_path / "r.html", tmp_path / "r.json"
    result = run("generate", "-g", "gaussian_copula", "--data", str(p["train"]), "--rows", "600", "--out", str(out), "--seed", "2",
                 "--report", str(html), "--report-json", str(report_json), "--target", "income",
                 "--holdout-fraction", "0.25")
    assert result.exit_code in (0, 1), result.output
    assert pl.read_parquet(out).height == 600, "the synthetic data is written whatever the verdict"
    raw = json.loads(report_json.read_text())
    assert "25% of the input rows (300) were held out" in raw["provenance"]["holdout"]
    assert raw["provenance"]["generator"] == "gaussian_copula"
    assert raw["provenance"]["inputs"]["real"]["rows"] == 900 and raw["provenance"]["inputs"]["holdout"]["rows"] == 300
    assert "held out" in html.read_text()
    if result.exit_code == 1:
        assert f"the synthetic data was still written to {out}" in result.stderr


def test_generate_report_option_errors(files, tmp_path):
    _, p = files
    out = tmp_path / "o.parquet"
    bad = run("generate", "--data", str(p["train"]), "--out", str(out), "--report", str(tmp_path / "r.html"),
              "--holdout-fraction", "1.5")
    assert bad.exit_code == 2 and "--holdout-fraction" in bad.stderr
    bad = run("generate", "--data", str(p["train"]), "--out", str(out), "--target", "income")
    assert bad.exit_code == 2 and "only apply with --report" in bad.stderr
    bad = run("generate", "--data", str(p["train"]), "--out", str(out), "--report", str(tmp_path / "r.html"),
              "--target", "salary")
    assert bad.exit_code == 2 and "target column 'salary'" in bad.stderr
    assert not os.path.exists(out)
    assert read_table(p["train"]).height == 1200


def test_a_parquet_folder_beyond_the_sample(adult, files, tmp_path):
    """Synthetic rows from sharded sampling (a folder of part files), more than --sample-rows: every
    check runs on a seeded sample, the marginals on every row; a broken part fails the full-data gate."""
    _, p = files
    seen = read_table(p["train"]).vstack(read_table(p["holdout"]))
    fresh = adult.join(seen, on=adult.columns, how="anti", nulls_equal=True).sample(n=3000, seed=21)
    parts = tmp_path / "parts"
    parts.mkdir()
    for i in range(3):
        fresh[i * 1000:(i + 1) * 1000].write_parquet(parts / f"part-{i:05d}.parquet")
    out = tmp_path / "r.json"
    args = ["validate", "--real", str(p["train"]), "--synthetic", str(parts), "--holdout", str(p["holdout"]),
            "--sample-rows", "800", "--json", str(out), "--quiet"]
    result = run(*args)
    raw = json.loads(out.read_text())
    assert result.exit_code == 0, [c["id"] for s in raw["sections"] for c in s["checks"] if c["gate"] and not c["passed"]]
    assert raw["provenance"]["synthetic_sample"] == {"rows": 800, "of": 3000, "seed": 0}
    assert raw["provenance"]["inputs"]["synthetic"]["rows"] == 800
    checks = {c["id"]: c for s in raw["sections"] for c in s["checks"]}
    assert checks["fidelity.full_column_shapes"]["value"] > 0.9 and checks["fidelity.full_column_shapes"]["gate"]
    assert any("3,000 rows" in n for n in raw["notes"])
    first = out.read_text()
    assert run(*args).exit_code == 0 and json.loads(out.read_text())["sections"] == json.loads(first)["sections"]

    # one part whose ages are all 90: the full-data column shapes see all of it
    broken = fresh[:1000].with_columns(pl.lit(90, dtype=fresh["age"].dtype).alias("age"))
    broken.write_parquet(parts / "part-00000.parquet")
    for i in (1, 2):
        broken.write_parquet(parts / f"part-{i:05d}.parquet")
    assert run(*args).exit_code == 1
    checks = {c["id"]: c for s in json.loads(out.read_text())["sections"] for c in s["checks"]}
    assert checks["fidelity.full_column_shapes"]["details"]["per_column"]["age"] < 0.1
