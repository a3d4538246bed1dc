"""synthkit tune: the budget holds, pruning prunes, the fragment is usable."""

from __future__ import annotations

import time

import pytest
import yaml
from click.testing import CliRunner

from synthkit import generators
from synthkit.cli import main
from synthkit.data import write_table
from synthkit.errors import ConfigError
from synthkit.generators.base import BaseGenerator
from synthkit.tune import TuneJob, rung_budget, tune


@pytest.fixture(scope="module")
def adult_2k(adult):
    return adult.sample(n=2000, seed=7)


def test_exactly_the_asked_trials_run_and_weak_ones_are_pruned(adult_2k):
    result = tune(adult_2k, "gaussian_copula", trials=5, seed=0)
    assert len(result.trials) == 5
    assert result.counts.get("COMPLETE", 0) >= 1
    pruned_at_a_rung = [t for t in result.trials if t["state"] == "PRUNED" and t["rungs"] >= 1 and not t["note"]]
    assert pruned_at_a_rung, f"successive halving stopped no trial: {result.trials}"
    assert all(t["rungs"] < 3 for t in pruned_at_a_rung)
    complete = [t for t in result.trials if t["state"] == "COMPLETE"]
    assert result.best_value == max(t["value"] for t in complete)
    fragment = result.fragment()
    assert fragment["generate"]["generator"] == "gaussian_copula"
    # the best parameters build a working generator
    generators.create("gaussian_copula", **fragment["generate"]["parameters"])


def test_the_minutes_budget_holds(adult_2k):
    budget_s = 4.0
    started = time.time()
    result = tune(adult_2k, "gaussian_copula", minutes=budget_s / 60, seed=1)
    elapsed = time.time() - started
    assert all(t["start_s"] <= budget_s for t in result.trials), "no trial starts after the deadline"
    longest_rung = max(t["seconds"] for t in result.trials)
    assert elapsed <= budget_s + longest_rung + 5, f"{elapsed:.1f} s for a {budget_s} s budget"


def test_epoch_generators_climb_epoch_rungs_and_write_epochs(adult_2k, tmp_path):
    job = TuneJob("tvae", adult_2k, adult_2k, None, 9, 0, None)
    assert [rung_budget(job, r) for r in range(3)] == [{"epochs": 1}, {"epochs": 3}, {"epochs": 9}]
    rows_job = TuneJob("gaussian_copula", adult_2k, adult_2k, None, None, 0, None)
    assert [rung_budget(rows_job, r)["rows"] for r in range(3)] == [222, 667, 2000]

    small = adult_2k.head(300)
    result = tune(small, "tvae", trials=1, max_epochs=9, seed=0, fixed={"device": "cpu"})
    assert len(result.trials) == 1 and result.trials[0]["rungs"] == 3
    assert result.fragment()["generate"]["parameters"]["epochs"] == 9


def test_cli_writes_a_recipe_fragment(tmp_path, adult_2k):
    data = write_table(adult_2k, tmp_path / "adult.parquet")
    out = tmp_path / "best.yaml"
    result = CliRunner().invoke(main, ["tune", "-g", "gaussian_copula", "--data", str(data), "--trials", "3", "--out", str(out), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "3 trials" in result.output and str(out) in result.output
    fragment = yaml.safe_load(out.read_text())
    assert list(fragment) == ["generate"]
    assert fragment["generate"]["generator"] == "gaussian_copula"
    assert set(fragment["generate"]["parameters"]) == {"default_distribution"}
    assert out.read_text().startswith("# synthkit tune: gaussian_copula on adult.parquet: 3 trials")


def test_bad_budgets_and_generators_are_clear_errors(tmp_path, adult_2k):
    with pytest.raises(ConfigError, match="give a budget"):
        tune(adult_2k, "gaussian_copula")
    with pytest.raises(ConfigError, match="does not train in epochs"):
        tune(adult_2k, "gaussian_copula", trials=1, max_epochs=27)
    with pytest.raises(ConfigError, match="has no search space"):
        BaseGenerator.search_space(None)
    data = write_table(adult_2k, tmp_path / "adult.parquet")
    result = CliRunner().invoke(main, ["tune", "--data", str(data), "--trials", "0", "--out", str(tmp_path / "b.yaml")])
    assert result.exit_code == 2 and "Error: " in result.stderr and "--trials" in result.stderr
    assert not (tmp_path / "b.yaml").exists()
