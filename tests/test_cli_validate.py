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
