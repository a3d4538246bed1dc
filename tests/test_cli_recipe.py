"""``synthkit recipe validate`` / ``run`` from the command line: exit codes, messages, and a tiny
version of every shipped recipe."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from synthkit.cli import main

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "recipes"

#: each shipped recipe, cut down to seconds: two replicates, small data and model budgets
TINY = {
    "mammography.yaml": ["data.sample=1500", "train.params={max_iter: 30}"],
    "adult.yaml": ["data.sample=1500"],
    "digits.yaml": ["data.train_rows=100", "train.params.epochs=3"],
}


@pytest.fixture(autouse=True)
def _datasets_env(monkeypatch, datasets_dir):
    if not (REPO.parent / "shared" / "datasets").is_dir() and not os.environ.get("SYNTHKIT_DATASETS"):
        monkeypatch.setenv("SYNTHKIT_DATASETS", str(datasets_dir))


def run(*args: str):
    return CliRunner().invoke(main, ["recipe", *args], catch_exceptions=False)


def test_every_shipped_recipe_validates():
    shipped = sorted(p.name for p in RECIPES.glob("*.yaml"))
    assert shipped == sorted(TINY)
    for name in shipped:
        result = run("validate", str(RECIPES / name))
        assert result.exit_code == 0, result.output
        assert f"{name}: valid" in result.output


def test_validate_lists_every_error_and_exits_2(tmp_path):
    raw = yaml.safe_load((RECIPES / "mammography.yaml").read_text())
    raw["train"]["bootstrap"] = 0
    raw["train"]["modell"] = "cnn"
    raw["augment"]["methods"].append("tvea")
    raw["data"]["target"] = "klass"
    raw["data"]["path"] = str(tmp_path / "nowhere.csv")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {bad}: 2 errors\n")
    assert "  train.bootstrap: must be ≥ 1\n" in result.output
    assert "  train.modell: unknown key (known: model, params," in result.output
    assert "Traceback" not in result.output

    raw["train"]["bootstrap"] = 5
    del raw["train"]["modell"]
    bad.write_text(yaml.safe_dump(raw))
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"Error: {bad}: 2 errors",
        f"  data.path: {tmp_path / 'nowhere.csv'}: no such file",
        ("  augment.methods[2].method: unknown method 'tvea' (synthkit generators and imbalanced-learn's random, smote, "
        "smotenc, smoten, adasyn, borderline_smote, svm_smote, kmeans_smote)"),
    ]
    result = run("validate", str(bad), "--set", "data.path=${SYNTHKIT_DATASETS:-%s}/mammography.csv" % (REPO.parent / "shared/datasets"),
                 "--set", "augment.methods.2.method=tvae")
    assert result.exit_code == 2
    assert "data.target: target column 'klass' is not in the table" in result.output
    assert result.output.startswith(f"Error: {bad}: data.target:")  # the one error left

    assert run("validate", str(tmp_path / "missing.yaml")).output.strip() == f"Error: {tmp_path / 'missing.yaml'}: no such recipe file"
    (tmp_path / "broken.yaml").write_text("data: [unclosed\n")
    assert "not valid YAML (line 2)" in run("validate", str(tmp_path / "broken.yaml")).output


@pytest.mark.parametrize("name", sorted(TINY))
def test_a_tiny_version_of_each_shipped_recipe_runs(name, tmp_path):
    sets = [x for s in [*TINY[name], "train.bootstrap=2", "backend=serial"] for x in ("--set", s)]
    folder = tmp_path / "run"
    result = run("run", str(RECIPES / name), *sets, "--out", str(folder))
    assert result.exit_code in ((0, 1) if name == "adult.yaml" else (0,)), result.output
    results = json.loads((folder / "results.json").read_text())
    headline = results["headline_metric"]
    assert f"{headline} on the holdout: mean [95% percentile interval] over 2 bootstrap replicates" in result.output
    for arm, entry in results["arms"].items():
        assert arm in result.output
        assert entry[headline]["ci_low"] <= entry[headline]["mean"] <= entry[headline]["ci_high"]
    assert len(results["arms"]) >= 2 and all("vs_real" in e[headline] for a, e in results["arms"].items() if a != "real")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == ("done" if result.exit_code == 0 else "gate_failed")
    assert manifest["recipe_file"] == str(RECIPES / name)
    if name == "adult.yaml":  # exit 1 exactly when a gate failed; the training step ran either way
        assert json.loads((folder / "report.json").read_text())["passed"] is (result.exit_code == 0)

    again = run("run", str(RECIPES / name), *sets, "--out", str(folder))
    assert again.exit_code == 2 and "already holds a run; pass --resume" in again.output
    resumed = run("run", str(RECIPES / name), *sets, "--out", str(folder), "--resume")
    assert resumed.exit_code == result.exit_code and "train: 2 replicates done in an earlier run, skipped" in resumed.output
    changed = run("run", str(RECIPES / name), *sets, "--set", "seed=1", "--out", str(folder), "--resume", "-q")
    assert changed.exit_code == 2 and "the recipe changed" in changed.output and "seed: 0 → 1" in changed.output
