"""Every registered tabular generator honours the contract in DESIGN.md, on a small real table.

New generators join automatically through the registry; ``FAST`` keeps their budgets tiny.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from synthkit import generators
from synthkit.errors import ConditionError, ConfigError, NotFittedError, UntrustedModelError

# tiny budgets so the whole contract runs in seconds per generator
FAST: dict[str, dict] = {
    "ctgan": {"epochs": 2, "batch_size": 200, "device": "cpu"},
    "copulagan": {"epochs": 2, "batch_size": 200, "device": "cpu"},
    "tvae": {"epochs": 2, "batch_size": 200, "device": "cpu"},
    "masked_diffusion": {"epochs": 2, "batch_size": 128, "width": 32, "depth": 1, "sampling_steps": 5, "device": "cpu"},
}

# image generators: a few training steps of a tiny UNet
FAST_IMAGE: dict[str, dict] = {
    "image_diffusion": {"steps": 2, "batch_size": 8, "channels": (8, 16), "sampling_steps": 2, "device": "cpu"},
}

TABULAR = generators.names("tabular")
IMAGE = generators.names("image")


def make(name: str, **extra):
    klass = generators.get(name)
    params = {k: v for k, v in FAST.get(name, {}).items() if k in klass._param_names()}
    for key, value in (("random_state", 0), ("verbose", False)):
        if key in klass._param_names():
            params[key] = value
    return generators.create(name, **{**params, **extra})


@pytest.fixture(scope="module", params=TABULAR)
def fitted(request, adult_small):
    return request.param, make(request.param).fit(adult_small)


def test_registry_lists_every_generator():
    assert {"gaussian_copula", "ctgan", "tvae", "copulagan"} <= set(generators.names())
    for name, summary in generators.describe().items():
        assert summary and generators.get(name).name == name
    with pytest.raises(ConfigError, match="unknown generator 'nope'"):
        generators.get("nope")


@pytest.mark.parametrize("name", TABULAR)
def test_init_only_stores_and_sample_before_fit_raises(name):
    generator = make(name)
    assert not [k for k in vars(generator) if k.endswith("_")]
    with pytest.raises(NotFittedError):
        generator.sample(5)
    assert generator.get_params() == generators.get(name)(**generator.get_params()).get_params()


def test_fit_sample_save_load_sample(fitted, adult_small, tmp_path):
    name, generator = fitted
    first = generator.sample(300, seed=11)
    assert first.height == 300
    assert first.schema == adult_small.schema
    assert first.equals(generator.sample(300, seed=11)), "same seed, same rows"
    assert not first.equals(generator.sample(300, seed=12))
    path = generator.save(tmp_path / name)
    meta = json.loads((path / "synthkit.json").read_text())
    assert meta["generator"] == name
    assert meta["training_data"]["rows"] == adult_small.height
    assert len(meta["training_data"]["sha256"]) == 64
    assert "polars" in meta["versions"]
    loader_kwargs = {"trust": True} if meta["trusted_only"] else {}
    if meta["trusted_only"]:
        with pytest.raises(UntrustedModelError, match="trust"):
            generators.load(path)
    again = generators.load(path, **loader_kwargs)
    assert again.get_params() == generator.get_params()
    assert again.sample(300, seed=11).equals(first)


def test_conditions_hold_in_every_row(fitted):
    name, generator = fitted
    rows = generator.sample(50, conditions={"income": ">50K"}, seed=3)
    assert rows.height == 50
    assert rows.get_column("income").unique().to_list() == [">50K"]
    rows = generator.sample(20, conditions={"sex": "Female", "age": 40}, seed=4)
    assert set(rows.get_column("sex").to_list()) == {"Female"}
    assert set(rows.get_column("age").to_list()) == {40}


def test_bad_conditions_and_rows(fitted):
    _, generator = fitted
    with pytest.raises(ConditionError, match="unknown column 'salary'"):
        generator.sample(5, conditions={"salary": 1})
    with pytest.raises(ConditionError, match="never occurs"):
        generator.sample(5, conditions={"income": "lots"})
    with pytest.raises(ConditionError, match="outside the data's range"):
        generator.sample(5, conditions={"age": 500})
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ConfigError, match="positive integer"):
            generator.sample(bad)


def test_works_with_pandas_input(adult_small):
    generator = make("gaussian_copula").fit(adult_small.to_pandas())
    assert isinstance(generator.sample(10, seed=0), pl.DataFrame)


@pytest.mark.parametrize("name", ["ctgan", "tvae"])
def test_bad_hyperparameters_fail_at_fit(name, adult_small):
    generator = make(name, epochs=0)
    with pytest.raises(ConfigError, match="epochs must be a positive integer"):
        generator.fit(adult_small)


@pytest.mark.parametrize("name", IMAGE)
def test_image_generators_honour_the_contract(name, tmp_path):
    import numpy as np

    from synthkit.data.images import load_images

    digits = load_images()
    data = digits.take(np.concatenate([np.flatnonzero(digits.labels == c)[:8] for c in range(10)]))
    generator = generators.create(name, random_state=0, **FAST_IMAGE.get(name, {}))
    assert not [k for k in vars(generator) if k.endswith("_")]
    with pytest.raises(NotFittedError):
        generator.sample(per_class=1)
    assert generator.fit(data) is generator
    first = generator.sample(per_class=2, seed=11)
    assert first.images.shape == (20, 8, 8, 1) and first.classes == data.classes
    assert np.array_equal(first.images, generator.sample(per_class=2, seed=11).images), "same seed, same images"
    meta_path = generator.save(tmp_path / name) / "synthkit.json"
    meta = json.loads(meta_path.read_text())
    assert meta["generator"] == name and meta["modality"] == "image" and len(meta["training_data"]["sha256"]) == 64
    again = generators.load(tmp_path / name)
    assert again.get_params() == generator.get_params()
    assert np.array_equal(again.sample(per_class=2, seed=11).images, first.images)
