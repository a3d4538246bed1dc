"""Recipes: the schema and its errors, the dry run, and runs on real data (tiny budgets).

Runs use real slices of Mammography, Bank Marketing, Adult and scikit-learn's digits, in
this process (``backend: serial``) unless a test is about the backends.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import yaml

from synthkit.data import read_table, write_table
from synthkit.errors import ConfigError
from synthkit.recipes import check_recipe, recipe_from_dict, run_recipe
from synthkit.recipes.schema import RecipeError, load_recipe

REPO = Path(__file__).resolve().parents[1]


def tiny_mammography(path: Path) -> dict:
    return {
        "name": "tiny",
        "seed": 3,
        "data": {"path": str(path), "target": "class", "holdout": 0.3, "sample": 1500},
        "augment": {"strategy": 0.1, "methods": [{"method": "gaussian_copula", "name": "copula"}, "smote"]},
        "train": {"model": "hist_gradient_boosting", "params": {"max_iter": 30}, "metric": ["pr_auc", "roc_auc"],
                  "bootstrap": 2, "arms": ["real", "augmented"]},
        "backend": "serial",
    }


@pytest.fixture(scope="module")
def mammography_file(datasets_dir) -> Path:
    return datasets_dir / "mammography.csv"


def numbers(results: dict) -> dict:
    """Everything in results.json that is a measurement (for run-to-run comparisons)."""
    return {"arms": results["arms"], "replicates": results["replicates"], "split": results["split"]}


# -------------------------------------------------------------------------------------------
# the schema
# -------------------------------------------------------------------------------------------

def test_unknown_keys_and_bad_values_are_all_reported_with_their_field_paths(mammography_file):
    raw = tiny_mammography(mammography_file)
    raw["train"].update(bootstrap=0, bootstraps=5, metric=["pr_auc", "auc"])
    raw["augment"]["methods"][0]["strategy"] = [1]
    raw["colour"] = "blue"
    with pytest.raises(RecipeError) as caught:
        recipe_from_dict(raw)
    errors = caught.value.errors
    assert "train.bootstrap: must be ≥ 1" in errors
    assert any(e.startswith("train.bootstraps: unknown key (known: model, params, metric, bootstrap,") for e in errors)
    assert any(e.startswith("colour: unknown key") for e in errors)
    assert any(e.startswith("train.metric: unknown metric(s) auc") for e in errors)
    assert "augment.methods[0].strategy: must be a number, text or a mapping, not [1]" in errors
    assert len(errors) == 5, errors
    assert str(caught.value).startswith("recipe: 5 errors")


def test_sections_must_agree(mammography_file):
    raw = tiny_mammography(mammography_file)
    raw["train"]["arms"] = ["augmented", "synthetic"]
    del raw["augment"]
    raw["validate"] = {}
    with pytest.raises(RecipeError) as caught:
        recipe_from_dict(raw)
    assert set(caught.value.errors) == {
        "train.arms: must include real: every other arm is compared with it, replicate by replicate",
    }
    raw["train"]["arms"] = ["real", "augmented", "synthetic"]
    with pytest.raises(RecipeError) as caught:
        recipe_from_dict(raw)
    assert set(caught.value.errors) == {
        "validate: needs a generate section (it validates the generated data)",
        "train.arms: augmented needs an augment section",
        "train.arms: synthetic needs a generate section",
    }


def test_what_synthkit_tune_writes_is_a_generate_section(adult_small, tmp_path, mammography_file):
    from synthkit.tune import tune, write_fragment

    result = tune(adult_small, "gaussian_copula", trials=1, seed=0)
    fragment = yaml.safe_load(write_fragment(result, tmp_path / "best.yaml").read_text())
    raw = tiny_mammography(mammography_file) | fragment
    recipe = recipe_from_dict(raw)
    assert recipe.generate.generator == "gaussian_copula"
    assert recipe.generate.parameters == fragment["generate"]["parameters"] != {}
    assert check_recipe(recipe) == []


def test_set_values_are_read_as_yaml_and_validated_like_the_file(tmp_path, mammography_file, monkeypatch):
    recipe_file = tmp_path / "r.yaml"
    raw = tiny_mammography(Path("data/mammography.csv"))  # relative: to the recipe's folder
    recipe_file.write_text(yaml.safe_dump(raw))
    recipe = load_recipe(recipe_file, ["train.bootstrap=7", "augment.methods.1.strategy=0.2", "train.ci=0.9",
                                       "backend=local"])
    assert recipe.train.bootstrap == 7 and recipe.train.ci == 0.9 and recipe.backend.name == "local"
    assert recipe.augment.methods[1].strategy == 0.2
    assert recipe.data.path == str(tmp_path / "data" / "mammography.csv")
    monkeypatch.chdir(mammography_file.parent)
    assert load_recipe(recipe_file, [f"data.path={mammography_file.name}"]).data.path == str(mammography_file)
    with pytest.raises(RecipeError) as caught:
        load_recipe(recipe_file, ["train.bootstrap=two", "train.bootsrap=3", "augment.methods.5.method=x", "nonsense"])
    assert caught.value.errors == [
        "--set 'augment.methods.5.method=x': augment.methods.5: a list of 2; use an index from 0 to 1",
        "--set 'nonsense': expected section.key=value, e.g. train.bootstrap=2",
        "train.bootstrap: must be a whole number, not 'two' (from --set)",
        "train.bootsrap: unknown key (known: model, params, metric, bootstrap, ci, arms, holdout_bootstrap) (from --set)",
    ]


def test_paths_read_environment_variables(tmp_path, monkeypatch):
    raw = {"data": {"path": "${SK_TEST_DIR:-fallback}/m.csv", "target": "class"}}
    monkeypatch.delenv("SK_TEST_DIR", raising=False)
    assert recipe_from_dict(raw, base=tmp_path).data.path == str(tmp_path / "fallback" / "m.csv")
    monkeypatch.setenv("SK_TEST_DIR", "/somewhere")
    assert recipe_from_dict(raw, base=tmp_path).data.path == "/somewhere/m.csv"
    with pytest.raises(RecipeError, match=r"data.path: environment variable SK_UNSET_VAR is not set"):
        recipe_from_dict({"data": {"path": "${SK_UNSET_VAR}/m.csv"}})


# -------------------------------------------------------------------------------------------
# the dry run
# -------------------------------------------------------------------------------------------

def test_the_dry_run_reports_every_problem_with_files_and_names_at_once(tmp_path, mammography_file):
    raw = tiny_mammography(mammography_file)
    raw["data"]["target"] = "label"
    raw["augment"]["methods"] = ["smot", {"method": "gaussian_copula", "params": {"epochs": 3}},
                                 {"method": "smote", "params": {"k_neighbours": 3}}]
    raw["generate"] = {"generator": "ctgann"}
    raw["train"]["params"] = {"learning_rte": 0.1}
    raw["train"]["arms"] = ["real", "augmented", "synthetic"]
    raw["validate"] = {"policy": {"privacy": {"dcr_share_mx": 0.5}}}
    errors = check_recipe(recipe_from_dict(raw))
    assert errors[0].startswith("data.target: target column 'label' is not in the table (columns: attr1,")
    assert errors[1].startswith("generate.generator: unknown tabular generator 'ctgann' (available: gaussian_copula,")
    assert errors[2].startswith("validate.policy.privacy.dcr_share_mx: unknown key")
    assert errors[3].startswith("augment.methods[0].method: unknown method 'smot'")
    assert errors[4].startswith("augment.methods[1].params: gaussian_copula: unknown parameter(s) epochs")
    assert errors[5].startswith("augment.methods[2].params: unknown parameter(s) k_neighbours for smote")
    assert errors[6].startswith("train.params: unknown parameter(s) learning_rte for hist_gradient_boosting")
    assert len(errors) == 7, errors

    raw = tiny_mammography(tmp_path / "missing.csv")
    raw["augment"]["strategy"] = 0.01  # below the natural 2.4%: nothing to add
    assert check_recipe(recipe_from_dict(raw)) == [f"data.path: {tmp_path / 'missing.csv'}: no such file"]
    raw["data"]["path"] = str(mammography_file)
    errors = check_recipe(recipe_from_dict(raw))
    assert len(errors) == 2 and all("the minority is already 0.0" in e for e in errors), errors


# -------------------------------------------------------------------------------------------
# runs
# -------------------------------------------------------------------------------------------

def test_a_run_writes_its_folder_and_the_same_seed_gives_the_same_numbers(tmp_path, mammography_file):
    from synthkit.data.io import file_sha256

    recipe = recipe_from_dict(tiny_mammography(mammography_file))
    first = run_recipe(recipe, tmp_path / "one")
    assert first.exit_code == 0
    folder = tmp_path / "one"
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "replicates", "results.json", "uplift.png"]
    assert (folder / "uplift.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    results = json.loads((folder / "results.json").read_text())
    assert results["ci_method"] == "percentile" and results["bootstrap"] == 2
    assert list(results["arms"]) == ["real", "copula", "smote"]
    for name, arm in results["arms"].items():
        for metric in ("pr_auc", "roc_auc"):
            entry = arm[metric]
            assert 0 <= entry["ci_low"] <= entry["mean"] <= entry["ci_high"] <= 1
            values = [r["scores"][name][metric] for r in results["replicates"]]
            assert entry["mean"] == pytest.approx(np.mean(values))
            if name != "real":
                diff = entry["vs_real"]
                assert diff["ci_low"] <= diff["mean"] <= diff["ci_high"]
                paired = [r["scores"][name][metric] - r["scores"]["real"][metric] for r in results["replicates"]]
                assert diff["won"] == np.mean(np.array(paired) > 0)
    assert results["arms"]["copula"]["train_rows_mean"] > results["arms"]["real"]["train_rows_mean"]

    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "done"
    assert manifest["inputs"]["data"]["sha256"] == file_sha256(mammography_file)
    assert manifest["recipe"]["train"]["bootstrap"] == 2 and manifest["recipe"]["data"]["path"] == str(mammography_file)
    assert len(manifest["seeds"]["replicates"]) == 2 and manifest["versions"]["scikit-learn"]
    assert [s for s, v in manifest["steps"].items() if v["status"] == "done"] == ["data", "train", "results"]
    assert all(manifest["steps"][s]["seconds"] >= 0 for s in ("data", "train", "results"))

    second = run_recipe(recipe, tmp_path / "two")
    assert numbers(second.results) == numbers(first.results)
    assert numbers(json.loads((tmp_path / "two" / "results.json").read_text())) == numbers(results)


def test_resume_skips_what_finished_and_refuses_a_changed_recipe(tmp_path, mammography_file):
    from synthkit.data import Schema

    raw = tiny_mammography(mammography_file)
    raw["generate"] = {"generator": "gaussian_copula", "rows": 300}
    raw["data"]["schema"] = str(Schema.infer(read_table(mammography_file)).write_yaml(tmp_path / "schema.yaml"))
    recipe = recipe_from_dict(raw)
    folder = tmp_path / "run"
    first = run_recipe(recipe, folder)
    stamps = {p.name: p.stat().st_mtime_ns for p in [*folder.iterdir(), *(folder / "replicates").iterdir()]}
    with pytest.raises(ConfigError, match="already holds a run; pass --resume"):
        run_recipe(recipe, folder)

    again = run_recipe(recipe, folder, resume=True)
    assert again.skipped == ["generate", "train", "results"] and again.replicates_run == 0
    assert numbers(again.results) == numbers(first.results)
    for path in [*folder.iterdir(), *(folder / "replicates").iterdir()]:
        if path.name != "manifest.json":
            assert path.stat().st_mtime_ns == stamps[path.name], f"{path.name} was rewritten"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert [r["resumed"] for r in manifest["runs"]] == [False, True]
    assert manifest["runs"][1]["skipped"] == ["generate", "train", "results"]

    # a lost replicate is run again, and only it
    (folder / "replicates" / "0001.json").unlink()
    patched = run_recipe(recipe, folder, resume=True)
    assert patched.replicates_run == 1 and "train" not in patched.skipped
    assert numbers(patched.results) == numbers(first.results)

    changed = recipe_from_dict(raw | {"train": raw["train"] | {"model": "logistic_regression", "params": {}}})
    with pytest.raises(ConfigError) as caught:
        run_recipe(changed, folder, resume=True)
    assert "the recipe changed" in str(caught.value)
    assert 'train.model: "hist_gradient_boosting" → "logistic_regression"' in str(caught.value)
    # the backend is not part of what a result depends on
    assert run_recipe(recipe_from_dict(raw | {"backend": {"name": "local", "workers": 1}}), folder, resume=True).exit_code == 0
    # an input file that changed under the same path is refused too
    with open(tmp_path / "schema.yaml", "a") as handle:
        handle.write("# edited\n")
    with pytest.raises(ConfigError, match="the schema file changed since the run"):
        run_recipe(recipe, folder, resume=True)


def test_each_replicate_resamples_within_classes_and_refits_on_its_resample_only(mammography_file, monkeypatch):
    from synthkit.generators.base import BaseGenerator
    from synthkit.recipes.bootstrap import BootstrapJob, run_replicate, stratified_bootstrap
    from synthkit.recipes.check import inspect_recipe
    from synthkit.recipes.runner import arm_specs

    raw = tiny_mammography(mammography_file)
    raw["generate"] = {"generator": "gaussian_copula"}
    raw["train"]["arms"] = ["real", "augmented", "synthetic"]
    recipe = recipe_from_dict(raw)
    _, data, split = inspect_recipe(recipe)
    train, holdout = data.take(split.train), data.take(split.holdout)
    fitted: list = []
    original_fit = BaseGenerator.fit

    def recording_fit(self, frame, *, schema=None):
        fitted.append(frame)
        return original_fit(self, frame, schema=schema)

    monkeypatch.setattr(BaseGenerator, "fit", recording_fit)
    job = BootstrapJob("table", train, holdout, "class", data.schema, split.classes, split.positive,
                       "logistic_regression", {}, ["pr_auc"], arm_specs(recipe, data, split), True)
    record = run_replicate(job, (0, 12345))
    assert set(record["scores"]) == {"real", "copula", "smote", "synthetic"}
    assert run_replicate(job, (0, 12345))["scores"] == record["scores"], "a replicate is a function of its seed"

    # the resample: drawn with replacement within each class, the class counts kept
    from synthkit._runtime import child_seeds

    labels = train.get_column("class").to_numpy()
    rows = stratified_bootstrap((labels == 1).astype(int), np.random.default_rng(child_seeds(12345, 3)[0]))
    resample = train[rows]
    assert resample.get_column("class").value_counts().sort("class").rows() == \
        train.get_column("class").value_counts().sort("class").rows()
    assert len(set(rows.tolist())) < rows.size  # with replacement
    # every generator fit saw rows of this replicate's resample only: the copula arm's per-class
    # fit (its minority rows), then the synthetic arm's fit (the whole resample)
    assert [f.height for f in fitted[:2]] == [int((labels == 1).sum()), train.height]
    for frame in fitted[:2]:
        assert set(frame.rows()) <= set(resample.select(frame.columns).rows())
    assert fitted[1].equals(resample)


def test_a_failing_replicate_leaves_no_results_and_a_failed_manifest(tmp_path, mammography_file):
    raw = tiny_mammography(mammography_file)
    raw["augment"]["methods"] = [{"method": "smote", "params": {"k_neighbors": 500}}]  # more than the minority rows
    folder = tmp_path / "run"
    with pytest.raises(ConfigError, match="smote: Expected n_neighbors <= n_samples"):
        run_recipe(recipe_from_dict(raw), folder)
    assert not (folder / "results.json").exists() and not (folder / "uplift.png").exists()
    assert not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["steps"]["train"]["status"] == "failed"
    assert "n_neighbors" in manifest["steps"]["train"]["error"]


def test_bank_marketing_through_the_mammography_recipe(datasets_dir, tmp_path):
    """Another real imbalanced table, with categorical columns: SMOTE turns into SMOTENC."""
    sample = read_table(datasets_dir / "bank-full.csv.gz").sample(n=2500, seed=4)
    data = write_table(sample, tmp_path / "bank.csv")
    recipe = load_recipe(REPO / "recipes" / "mammography.yaml",
                         [f"data.path={data}", "data.target=y", "data.drop=[duration]", "train.bootstrap=2",
                          "train.params={max_iter: 30}", "backend=serial"])
    outcome = run_recipe(recipe, tmp_path / "run")
    results = outcome.results
    assert results["split"]["positive_class"] == "yes"
    assert set(results["arms"]) == {"real", "synthkit_copula", "smote"}
    smote = results["arms"]["smote"]["pr_auc"]
    assert smote["ci_low"] <= smote["mean"] <= smote["ci_high"] and "vs_real" in smote
    assert any("SMOTENC runs instead" in note for note in results["notes"])


def test_a_failed_gate_exits_1_and_training_still_runs_unless_told_to_stop(tmp_path):
    raw = yaml.safe_load((REPO / "recipes" / "adult.yaml").read_text())
    raw["data"]["sample"] = 1200
    raw["train"].update(bootstrap=2)
    raw["backend"] = "serial"
    raw["validate"]["policy"]["privacy"]["dcr_share_max"] = 0.0  # no synthetic table can pass this
    raw["validate"]["policy"]["expectations"] = {"failed_max": None}  # 900 rows: the means are too noisy to gate
    outcome = run_recipe(recipe_from_dict(raw, base=REPO / "recipes"), tmp_path / "continue")
    assert outcome.exit_code == 1 and outcome.report_passed is False
    assert outcome.results is not None and set(outcome.results["arms"]) == {"real", "synthetic"}
    assert outcome.results["validation"]["failed_gates"] == ["privacy.dcr_share"]
    report = json.loads((tmp_path / "continue" / "report.json").read_text())
    assert report["passed"] is False
    assert (tmp_path / "continue" / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert read_table(tmp_path / "continue" / "synthetic.parquet").height == 900

    raw["validate"]["on_fail"] = "stop"
    stopped = run_recipe(recipe_from_dict(raw, base=REPO / "recipes"), tmp_path / "stop")
    assert stopped.exit_code == 1 and stopped.results is None
    manifest = json.loads((tmp_path / "stop" / "manifest.json").read_text())
    assert manifest["steps"]["train"]["status"] == "skipped" and manifest["status"] == "gate_failed"
    assert not (tmp_path / "stop" / "results.json").exists()


# -------------------------------------------------------------------------------------------
# images
# -------------------------------------------------------------------------------------------

class PixelNoiseGenerator:
    """A registry image generator with issue 6's contract (fit(images, labels), generate(labels, seed)):
    each class's mean image plus Gaussian pixel noise. Only for testing the registry path."""

    name = "test_pixel_noise"

    def __init__(self, *, noise: float = 0.1, random_state: int | None = None, verbose: bool = False):
        self.noise, self.random_state, self.verbose = noise, random_state, verbose

    @classmethod
    def _param_names(cls) -> list[str]:
        return ["noise", "random_state", "verbose"]

    def _check_params(self) -> None:
        if self.noise < 0:
            raise ConfigError(f"noise must be ≥ 0, not {self.noise}")

    def fit(self, images, labels):
        assert images.ndim == 3 and images.dtype == np.float32  # channels last, as image generators expect
        self.means_ = {int(c): images[labels == c].mean(axis=0) for c in np.unique(labels)}
        return self

    def generate(self, labels, *, seed=None):
        rng = np.random.default_rng(seed)
        images = np.stack([self.means_[int(c)] for c in labels]) + self.noise * rng.standard_normal((len(labels), 8, 8))
        return np.clip(images, 0, 1)[:, None].astype(np.float32), np.asarray(labels)


@pytest.fixture
def registered_image_generator():
    from synthkit import generators

    generators.register("test_pixel_noise", f"{__name__}:PixelNoiseGenerator", "test only", modality="image")
    yield "test_pixel_noise"
    generators._REGISTRY.pop("test_pixel_noise")


def test_digits_with_affine_jitter_and_a_registered_image_generator(tmp_path, registered_image_generator):
    raw = yaml.safe_load((REPO / "recipes" / "digits.yaml").read_text())
    raw["data"]["train_rows"] = 150
    raw["train"].update(bootstrap=2, params={"epochs": 4}, arms=["real", "augmented", "synthetic"])
    raw["augment"]["methods"].append({"method": registered_image_generator, "params": {"noise": 0.05}})
    raw["generate"] = {"generator": registered_image_generator}
    raw["backend"] = "serial"
    recipe = recipe_from_dict(raw)
    assert check_recipe(recipe) == []
    outcome = run_recipe(recipe, tmp_path / "run")
    results = outcome.results
    assert list(results["arms"]) == ["real", "affine_jitter", registered_image_generator, "synthetic"]
    assert results["arms"]["affine_jitter"]["train_rows_mean"] == 300  # synthetic_fraction 0.5: as many again
    assert results["arms"]["synthetic"]["train_rows_mean"] == 150
    for arm in results["arms"].values():
        assert 0 < arm["accuracy"]["ci_low"] <= arm["accuracy"]["mean"] <= arm["accuracy"]["ci_high"] <= 1
    with np.load(tmp_path / "run" / "synthetic.npz") as archive:
        assert archive["images"].shape == (150, 8, 8) and sorted(set(archive["labels"])) == list(range(10))
    assert (tmp_path / "run" / "synthetic.png").stat().st_size > 0

    raw["augment"]["methods"][1]["params"] = {"noise": -1, "blur": 2}
    raw["augment"]["methods"].append({"method": "gaussian_copula"})
    errors = check_recipe(recipe_from_dict(raw))
    assert errors == [
        "augment.methods[1].params: test_pixel_noise: unknown parameter(s) blur (parameters: noise, random_state, verbose)",
        ("augment.methods[2].method: unknown image generator 'gaussian_copula' (gaussian_copula makes tabular data) "
        "(available: image_diffusion, image_gaussian, test_pixel_noise, affine_jitter)"),
    ]


# -------------------------------------------------------------------------------------------
# backends
# -------------------------------------------------------------------------------------------

def test_local_processes_and_a_dask_cluster_give_the_same_results(cluster, tmp_path, mammography_file):
    raw = tiny_mammography(mammography_file)
    raw["train"]["bootstrap"] = 3
    local = run_recipe(recipe_from_dict(raw | {"backend": {"name": "local", "workers": 2}}), tmp_path / "local")
    on_dask = run_recipe(recipe_from_dict(raw | {"backend": {"name": "dask", "address": cluster.address}}),
                         tmp_path / "dask")
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["steps"]["train"]["backend"].startswith(f"dask at {cluster.address}")
    assert numbers(on_dask.results) == numbers(local.results)
    # and a replicate does not depend on how many there are: the first two of three are a run of two
    two = run_recipe(recipe_from_dict(raw | {"train": raw["train"] | {"bootstrap": 2}}), tmp_path / "two")
    assert two.results["replicates"] == local.results["replicates"][:2]


@pytest.fixture(autouse=True)
def _datasets_env(monkeypatch, datasets_dir):
    # shipped recipes find the datasets through this variable when the repo is not beside them
    if not (REPO.parent / "shared" / "datasets").is_dir() and not os.environ.get("SYNTHKIT_DATASETS"):
        monkeypatch.setenv("SYNTHKIT_DATASETS", str(datasets_dir))
