"""masked_diffusion: mixed types, missing values, datetimes, wide categoricals, target guidance."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from synthkit import generators
from synthkit.errors import ConfigError, GeneratorError

TINY = {"epochs": 3, "batch_size": 64, "width": 32, "depth": 1, "sampling_steps": 4, "device": "cpu",
        "random_state": 0, "verbose": False}


def tiny(**extra):
    return generators.create("masked_diffusion", **{**TINY, **extra})


@pytest.fixture(scope="module")
def mixed() -> pl.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    group = rng.choice(["a", "b", "c"], size=n, p=[0.6, 0.3, 0.1])
    amount = np.where(group == "a", rng.normal(10, 2, n), rng.normal(50, 5, n)).round(2)
    amount[rng.random(n) < 0.15] = np.nan
    return pl.DataFrame({
        "group": group,
        "amount": pl.Series(amount).fill_nan(None),
        "count": rng.integers(0, 5, n),
        "rating": rng.integers(0, 12, n) * 0.5,
        "flag": rng.random(n) < 0.3,
        "day": [dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 365, n)],
        "city": [f"city{int(i)}" for i in rng.zipf(1.3, n) % 1500],  # wide and long-tailed
    })


def test_mixed_types_round_trip(mixed):
    generator = tiny(max_levels=20).fit(mixed)
    rows = generator.sample(500, seed=1)
    assert rows.schema == mixed.schema
    assert rows.height == 500
    assert 0 < rows.get_column("amount").null_count() < 500, "missing values are learned"
    day = rows.get_column("day")
    assert day.min() >= mixed.get_column("day").min() and day.max() <= mixed.get_column("day").max()
    assert set(rows.get_column("group").unique()) <= {"a", "b", "c"}
    # few distinct values: learned as a category, so only real values come back
    assert generator.columns_["rating"]["kind"] == "discrete" and generator.columns_["amount"]["kind"] == "numeric"
    assert set(rows.get_column("rating").unique()) <= set(mixed.get_column("rating").unique())
    assert set(generator.sample(30, conditions={"rating": 3.5}, seed=2).get_column("rating")) == {3.5}
    # wide column: the embedding table is capped; pooled rare levels come back as real levels
    city = generator.columns_["city"]
    assert len(city["levels"]) == 20 and city["levels"][-1] == "__rare__"
    assert max(emb.num_embeddings for emb in generator.model_.embeddings) <= 21
    assert set(rows.get_column("city").unique()) <= set(mixed.get_column("city").unique())
    assert "__rare__" not in rows.get_column("city").to_list()


def test_numeric_only_and_categorical_only_tables():
    frame = pl.DataFrame({"x": np.linspace(0, 1, 300), "y": np.linspace(0, 1, 300) ** 2})
    assert tiny().fit(frame).sample(50, seed=0).schema == frame.schema
    frame = pl.DataFrame({"a": ["u", "v"] * 150, "b": ["p", "q", "r"] * 100})
    assert tiny().fit(frame).sample(50, seed=0).schema == frame.schema


def test_learns_a_simple_joint_distribution():
    rng = np.random.default_rng(1)
    group = rng.choice(["lo", "hi"], size=2000)
    value = np.where(group == "lo", rng.normal(-3, 0.5, 2000), rng.normal(3, 0.5, 2000))
    frame = pl.DataFrame({"group": group, "value": value})
    rows = tiny(epochs=30, width=64, depth=2, batch_size=256, sampling_steps=20, patience=30).fit(frame).sample(1000, seed=0)
    means = rows.group_by("group").agg(pl.col("value").mean()).sort("group")
    hi, lo = means.get_column("value").to_list()
    assert hi > 1.5 and lo < -1.5, means


def test_time_budget_and_early_stopping(mixed):
    generator = tiny(epochs=500, max_minutes=1e-6).fit(mixed)
    assert generator.stop_reason_ == "max_minutes" and generator.epochs_run_ == 1
    generator = tiny(epochs=500, patience=1, learning_rate=0.05).fit(mixed)
    assert generator.stop_reason_ == "early stop" and generator.epochs_run_ < 500
    assert all("val_loss" in record for record in generator.history_)


def test_target_conditioning_with_guidance(adult_small, tmp_path):
    generator = tiny(target="income", epochs=5).fit(adult_small)
    assert generator.n_classes_ == 2 and "income" not in generator.cat_cols_
    rows = generator.sample(200, conditions={"income": ">50K"}, seed=2)
    assert rows.get_column("income").unique().to_list() == [">50K"]
    # unconditioned rows draw the target from its training frequencies
    share = (generator.sample(2000, seed=3).get_column("income") == ">50K").mean()
    assert 0.1 < share < 0.4
    unguided = generator.set_params(guidance_scale=0.0).sample(200, conditions={"income": ">50K"}, seed=2)
    assert not unguided.equals(rows), "guidance changes the rows"
    path = generator.save(tmp_path / "model")
    meta = json.loads((path / "synthkit.json").read_text())
    assert meta["weights"] == ["diffusion.safetensors", "diffusion.json"] and not meta["trusted_only"]
    again = generators.load(path)
    assert again.sample(100, conditions={"income": ">50K"}, seed=5).equals(
        generator.sample(100, conditions={"income": ">50K"}, seed=5))


def test_other_conditions_are_painted_in(adult_small):
    generator = tiny(epochs=5).fit(adult_small)
    rows = generator.sample(100, conditions={"workclass": "Private", "hours-per-week": 40}, seed=0)
    assert set(rows.get_column("workclass")) == {"Private"}
    assert set(rows.get_column("hours-per-week")) == {40}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"target": "age"}, "must be categorical"),
        ({"target": "nope"}, "not a learned column"),
        ({"precision": "half"}, "precision must be"),
        ({"max_minutes": 0}, "max_minutes must be"),
        ({"width": 0}, "width must be a positive integer"),
        ({"dropout": 1.5}, r"dropout must be a number in \[0, 1\)"),
        ({"device": "tpu"}, "device must be"),
        ({"num_threads": 0}, "num_threads must be"),
    ],
)
def test_bad_parameters_fail_at_fit(adult_small, params, message):
    generator = tiny(**params)
    with pytest.raises(ConfigError, match=message):
        generator.fit(adult_small)


def test_device_auto_is_cpu_without_a_gpu(adult_small):
    import torch

    generator = tiny(device="auto", epochs=1).fit(adult_small.head(100))
    assert generator.device_ == ("cuda" if torch.cuda.is_available() else "cpu")


def test_thread_count_is_restored(adult_small):
    import torch

    torch.set_num_threads(2)
    try:
        tiny(epochs=1, num_threads=1).fit(adult_small.head(100)).sample(10, seed=0)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


def test_broken_model_folder_is_a_clear_error(adult_small, tmp_path):
    path = tiny(epochs=1).fit(adult_small).save(tmp_path / "m")
    (path / "diffusion.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(GeneratorError, match="cannot be read"):
        generators.load(path)
    (path / "diffusion.safetensors").unlink()
    with pytest.raises(GeneratorError, match="diffusion.safetensors is missing"):
        generators.load(path)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # tiny models: a second OpenMP thread only adds contention on a shared 2-core machine
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_augmenter_conditions_on_the_class_with_guidance(adult_small):
    from synthkit.augment import SyntheticOverSampler

    X, y = adult_small.drop("income"), adult_small.get_column("income")
    params = {k: v for k, v in TINY.items() if k not in ("random_state", "verbose")}
    sampler = SyntheticOverSampler(generator="masked_diffusion", generator_params=params, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert sampler.conditioning_ == "conditional"
    generator = sampler.generators_[None]
    assert generator.target is not None and generator.n_classes_ == 2
    counts = y.value_counts().sort("count")
    assert (y_res == counts.item(0, "income")).sum() == counts.item(1, "count")
    assert X_res.schema == X.schema
