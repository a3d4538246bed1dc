"""Images: loading and writing labelled images, the image generators (tiny budgets), the image
report, and the CLI's --modality image. Real data: scikit-learn's handwritten digits."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from synthkit import generators
from synthkit.cli import main
from synthkit.data.images import ImageSet, digits_levels, from_arrays, load_images, write_image_folder
from synthkit.errors import ConfigError, DataError, GeneratorError, NotFittedError

TINY = {"steps": 3, "batch_size": 16, "channels": (8, 16), "sampling_steps": 2, "device": "cpu", "random_state": 0}


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def digits() -> ImageSet:
    return load_images()


@pytest.fixture(scope="module")
def small(digits) -> ImageSet:
    """20 digits of each class."""
    rows = np.concatenate([np.flatnonzero(digits.labels == c)[:20] for c in range(10)])
    return digits.take(rows)


@pytest.fixture(scope="module")
def tiny_diffusion(small):
    return generators.create("image_diffusion", **TINY).fit(small)


# -- data -----------------------------------------------------------------------------------------

def test_default_is_the_digits_and_levels_convert_back(digits):
    from sklearn.datasets import load_digits

    assert len(digits) == 1797 and digits.images.shape == (1797, 8, 8, 1) and digits.classes == [str(i) for i in range(10)]
    assert np.array_equal(digits_levels(digits.images[..., 0]), load_digits().images.astype(int))


def test_folder_round_trip_and_npz(small, tmp_path):
    out = write_image_folder(small, tmp_path / "out", manifest={"seed": 3})
    assert sorted(os.listdir(out)) == sorted([*small.classes, "manifest.json"])
    assert len(os.listdir(out / "7")) == 20
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["classes"]["7"]["count"] == 20
    again = load_images(out)
    order = np.lexsort((np.arange(len(small)), small.labels))
    assert np.array_equal(again.images, small.images[order]) and np.array_equal(again.labels, small.labels[order])

    rgb = np.random.default_rng(0).random((12, 6, 5, 3)).astype(np.float32)
    np.savez(tmp_path / "rgb.npz", images=rgb, labels=np.array(["cat", "dog"] * 6))
    loaded = load_images(tmp_path / "rgb.npz")
    assert loaded.images.shape == (12, 6, 5, 3) and loaded.classes == ["cat", "dog"] and loaded.labels[:2].tolist() == [0, 1]


def test_bad_image_inputs_are_clear_errors(tmp_path):
    from PIL import Image

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a" / "x.png")
    Image.fromarray(np.zeros((9, 8), np.uint8)).save(tmp_path / "b" / "y.png")
    with pytest.raises(DataError, match="differ in size"):
        load_images(tmp_path)
    (tmp_path / "b" / "y.png").unlink()
    with pytest.raises(DataError, match="no PNG or JPEG"):
        load_images(tmp_path)
    (tmp_path / "b" / "y.png").write_text("not an image")
    with pytest.raises(DataError, match="not a readable image"):
        load_images(tmp_path)
    np.savez(tmp_path / "bad.npz", pictures=np.zeros((3, 4, 4)))
    with pytest.raises(DataError, match="images and labels"):
        load_images(tmp_path / "bad.npz")
    with pytest.raises(DataError, match=r"\[0, 1\]"):
        from_arrays(np.full((3, 4, 4), -1.0), [0, 1, 0])
    with pytest.raises(DataError, match="labels"):
        from_arrays(np.zeros((3, 4, 4)), [0, 1])


# -- generators -------------------------------------------------------------------------------------

def test_diffusion_samples_by_class_reproducibly_and_saves(tiny_diffusion, tmp_path):
    generator = tiny_diffusion
    images = generator.sample(per_class=3, seed=5)
    assert images.images.shape == (30, 8, 8, 1) and images.images.dtype == np.uint8
    assert images.counts() == {str(c): 3 for c in range(10)}
    assert set(np.unique(images.images)) <= set(generator.levels_), "pixels keep the digits' 17 grey levels"
    assert np.array_equal(generator.sample(per_class=3, seed=5).images, images.images), "same seed, same images"
    assert not np.array_equal(generator.sample(per_class=3, seed=6).images, images.images)
    assert generator.sample(7, seed=1).labels.size == 7
    assert generator.sample(labels=["3", 4], seed=1).labels.tolist() == [3, 4]
    assert generator.sample(per_class={"2": 2}, seed=1).counts()["2"] == 2

    path = generator.save(tmp_path / "model")
    meta = json.loads((path / "synthkit.json").read_text())
    assert meta["generator"] == "image_diffusion" and meta["modality"] == "image"
    assert meta["training"]["steps_done"] == 3 and (path / "unet" / "diffusion_pytorch_model.safetensors").is_file()
    loaded = generators.load(path)
    assert np.array_equal(loaded.sample(per_class=3, seed=5).images, images.images)
    with pytest.raises(ConfigError, match="unknown class"):
        generator.sample(labels=["ten"])
    with pytest.raises(ConfigError, match="exactly one"):
        generator.sample(5, per_class=2)


def test_generators_feed_the_augmenters(tiny_diffusion, small):
    from synthkit.augment.images import MixedImageDataset, top_up_classes

    unit = small.images[..., 0] / 255.0
    fitted = generators.create("image_gaussian", random_state=0).fit(unit, small.labels)
    for generator in (fitted, tiny_diffusion):
        images, labels = generator.generate(np.array([3, 3, 9]), seed=0)
        assert isinstance(images, torch.Tensor) and images.shape == (3, 1, 8, 8) and labels.tolist() == [3, 3, 9]
        dataset = MixedImageDataset(unit, small.labels, generator, synthetic_fraction=0.2, seed=0)
        assert dataset.n_synthetic == 50 and dataset[len(dataset) - 1][0].shape == (1, 8, 8)
    rare = np.r_[np.flatnonzero(small.labels != 3), np.flatnonzero(small.labels == 3)[:5]]
    _, out_labels, flags = top_up_classes(unit[rare], small.labels[rare], fitted, seed=0)
    assert np.bincount(out_labels)[3] == 20 and flags.sum() == 15
    odd = generators.create("image_gaussian").fit(unit[small.labels < 5], small.labels[small.labels < 5] + 10)
    assert odd.generate([12], seed=0)[1].tolist() == [12], "integer labels come back as given"
    with pytest.raises(GeneratorError, match="no class with label"):
        odd.generate([3])


def test_rgb_odd_sizes_pad_or_resize_and_budget_stops_training():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (24, 6, 10, 3), dtype=np.uint8)
    labels = np.repeat(["a", "b", "c"], 8)
    padded = generators.create("image_diffusion", **{**TINY, "channels": (8, 16, 16)}).fit(images, labels)
    assert padded.train_size_ == (8, 12) and padded.sample(per_class=1, seed=0).images.shape == (3, 6, 10, 3)
    resized = generators.create("image_diffusion", **{**TINY, "image_size": 8}).fit(images, labels)
    assert resized.train_size_ == (8, 8) and resized.sample(labels=["c"], seed=0).images.shape == (1, 6, 10, 3)
    budget = generators.create("image_diffusion", **{**TINY, "steps": 10**6, "max_minutes": 0.002}).fit(images, labels)
    assert budget.training_["steps_done"] < 10**6 and "stopped after" in budget.notes_[0]


@pytest.mark.parametrize("params, message", [
    ({"steps": 0}, "steps"), ({"channels": (8, 12)}, "multiples of 8"), ({"image_size": 10, "channels": (8, 16, 16)}, "multiple of 4"),
    ({"lr": 0}, "lr"), ({"p_uncond": 0.0, "guidance_scale": 2.0}, "p_uncond"), ({"max_minutes": -1}, "max_minutes"),
    ({"sampling_steps": 2000}, "sampling_steps"), ({"device": "tpu"}, "device"),
])
def test_bad_diffusion_parameters_fail_at_fit(small, params, message):
    generator = generators.create("image_diffusion", **{**TINY, **params})
    with pytest.raises(ConfigError, match=message):
        generator.fit(small)


def test_sample_before_fit_and_unknown_parameters():
    with pytest.raises(NotFittedError):
        generators.create("image_gaussian").sample(3)
    with pytest.raises(ConfigError, match="unknown parameter"):
        generators.create("image_diffusion", epochs=3)
    assert set(generators.names("image")) == {"image_diffusion", "image_gaussian"}


# -- validation -------------------------------------------------------------------------------------

def test_image_report_measures_and_renders(digits, tmp_path):
    from synthkit.validators.images import validate_images
    from synthkit.validators.report import Report

    rng = np.random.default_rng(0)
    order = rng.permutation(len(digits))
    train, holdout = digits.take(order[:600]), digits.take(order[600:900])
    synthetic = generators.create("image_gaussian", random_state=0).fit(train).sample(per_class=30, seed=0)
    report = validate_images(train, synthetic, holdout=holdout, seed=0, classifier_epochs=3)
    ids = {c.id for s in report.sections for c in s.checks}
    assert {"images.frechet_distance", "images.precision", "images.coverage", "images.detection_auc",
            "images.tstr_ratio", "images.closer_to_train_share", "images.near_duplicate_share"} <= ids
    assert report.modality == "image"
    assert report.check("images.frechet_distance").value > report.check("images.frechet_distance").baseline
    assert 0.4 < report.check("images.detection_auc").baseline < 0.65, "real vs real is hard to tell apart"
    assert "small CNN" in report.check("images.frechet_distance").details["features"]
    copies = validate_images(train, train.take(np.arange(300)), holdout=holdout, seed=0, classifier_epochs=3)
    assert copies.check("images.near_duplicate_share").value == 1.0 and not copies.passed
    assert copies.check("images.closer_to_train_share").value > 0.7, "copies sit on the training half compared"
    page = report.to_html(tmp_path / "r.html")
    assert page.count("data:image/png;base64,") == 80 and 'data-kind="image_grid"' in page
    assert Report.from_json(report.to_json()).check("images.tstr_ratio").value == report.check("images.tstr_ratio").value
    alone = validate_images(train, synthetic, seed=0, classifier_epochs=3)
    assert not alone.passed and alone.notes and "no holdout" in alone.notes[0]


# -- CLI --------------------------------------------------------------------------------------------

def test_cli_generates_pngs_per_class_and_validates(tmp_path):
    out, model = tmp_path / "gen", tmp_path / "model"
    params = [p for k, v in TINY.items() if k not in ("device", "random_state") for p in ("--param", f"{k}={list(v) if isinstance(v, tuple) else v}")]
    result = run("generate", "--modality", "image", "--per-class", "3", "--seed", "2", "--out", str(out),
                 "--save-model", str(model), "--device", "cpu", "-q", *params)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted([str(c) for c in range(10)] + ["manifest.json"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 2 and manifest["generator"] == "image_diffusion" and manifest["images"] == 30
    assert manifest["classes"]["4"]["count"] == 3 and manifest["model"] == str(model)
    again = tmp_path / "again"
    assert run("generate", "--modality", "image", "--model", str(model), "--per-class", "3", "--seed", "2",
               "--out", str(again), "-q").exit_code == 0
    assert np.array_equal(load_images(again).images, load_images(out).images), "a saved model samples the same images"

    real = write_image_folder(load_images().take(np.arange(0, 1797, 6)), tmp_path / "real")
    holdout = write_image_folder(load_images().take(np.arange(1, 1797, 12)), tmp_path / "holdout")
    result = run("validate", "--modality", "image", "--real", str(real), "--synthetic", str(out), "--holdout", str(holdout),
                 "--html", str(tmp_path / "r.html"), "--json", str(tmp_path / "r.json"))
    assert result.exit_code in (0, 1) and "TSTR" in result.output, result.output
    assert json.loads((tmp_path / "r.json").read_text())["modality"] == "image"


def test_cli_image_errors_are_one_line(tmp_path):
    for args, needle in [
        (("--modality", "image", "--condition", "a=1"), "--condition: not available with --modality image"),
        (("--per-class", "3"), "--per-class: not available with --modality tabular"),
        (("--modality", "image", "-g", "ctgan"), "makes tabular data"),
        (("--modality", "image", "--data", str(tmp_path / "none")), "no such file or folder"),
        (("--modality", "image", "--per-class", "0"), "--per-class"),
        (("--modality", "image", "-g", "image_gaussian", "--max-minutes", "3"), "no training budget"),
    ]:
        result = run("generate", *args, "--out", str(tmp_path / "out"))
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("Error: ") and needle in lines[0], lines
        assert not (tmp_path / "out").exists()


# -- acceptance (minutes) ---------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_done_when_digits_per_class_100(tmp_path):
    """The issue's bar: `generate --modality image --per-class 100` on the digits in under 15 minutes (2 cores),
    a classifier trained on its images reaches >= 80% of real-trained accuracy, and gradient boosting on the
    8×8 pixels (0–16) tells them from real digits with ROC-AUC <= 0.90."""
    import time

    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
    from threadpoolctl import threadpool_limits

    out = tmp_path / "digits"
    started = time.perf_counter()
    result = run("generate", "--modality", "image", "--per-class", "100", "--seed", "0", "--out", str(out), "-q")
    seconds = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert seconds < 15 * 60
    real, synthetic = load_images(), load_images(out)
    assert synthetic.counts() == {str(c): 100 for c in range(10)}
    x_real = digits_levels(real.images).reshape(len(real), -1)
    x_syn = digits_levels(synthetic.images).reshape(len(synthetic), -1)
    model = LogisticRegression(max_iter=5000)
    real_accuracy = cross_val_score(model, x_real, real.labels, cv=StratifiedKFold(5, shuffle=True, random_state=0)).mean()
    synthetic_accuracy = (model.fit(x_syn, synthetic.labels).predict(x_real) == real.labels).mean()
    assert synthetic_accuracy >= 0.8 * real_accuracy
    rows = np.random.default_rng(0).choice(len(real), len(synthetic), replace=False)
    x = np.vstack([x_real[rows], x_syn])
    y = np.r_[np.zeros(len(rows)), np.ones(len(x_syn))]
    with threadpool_limits(1):  # gradient boosting's threads spin-wait on a busy machine
        p = cross_val_predict(HistGradientBoostingClassifier(random_state=0), x, y,
                              cv=StratifiedKFold(5, shuffle=True, random_state=0), method="predict_proba")[:, 1]
    assert roc_auc_score(y, p) <= 0.90
