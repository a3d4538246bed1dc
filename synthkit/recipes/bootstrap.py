"""Bootstrap training runs: does synthetic data help this model, by how much, with what uncertainty?

One replicate (:func:`run_replicate`), from its own seed:

1. resample the training split with replacement, within each class (the class counts stay
   those of the training split);
2. when ``holdout_bootstrap`` is on, draw bootstrap weights for the holdout's rows, again
   within each class — the holdout's rows are fixed, only how often each counts varies;
3. build each arm's training set from that resample only: ``real`` is the resample;
   an ``augmented`` arm adds the rows its method makes after being fitted on the resample
   (a generator is refitted in every replicate); ``synthetic`` is a generator fitted on the
   resample, sampled class by class in the resample's class counts;
4. train the model on each arm's set (same model seed in every arm) and score all of them
   on the same holdout rows and weights.

Everything in a replicate derives from its seed, and each arm's seed from the replicate seed
and the arm's name, so a replicate's scores do not depend on where it runs, on the worker
count, or on which other arms the recipe has. Replicates run in one thread each.

:func:`summarize` turns the replicates into the results: per arm, the mean score and a
percentile interval over the replicates; per non-real arm, the paired difference to ``real``
(replicate by replicate) with its percentile interval and the share of replicates it won.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from synthkit.errors import DataError


@dataclass(frozen=True)
class ArmSpec:
    """One training set a replicate builds."""

    name: str
    kind: str  # "real" | "augmented" | "synthetic"
    method: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    strategy: Any = None  # tables
    synthetic_fraction: float = 0.5  # images
    label_distribution: str = "real"  # images


@dataclass(frozen=True)
class BootstrapJob:
    """What every replicate needs; shipped once to each worker."""

    modality: str
    train: Any  # polars frame or Images: the training split
    holdout: Any
    target: str | None
    schema: Any
    classes: list[Any]
    positive: int | None
    model: str
    model_params: dict[str, Any]
    metrics: list[str]
    arms: list[ArmSpec]
    holdout_bootstrap: bool


# -------------------------------------------------------------------------------------------
# seeds and resampling
# -------------------------------------------------------------------------------------------

def arm_seed(replicate_seed: int, name: str) -> int:
    """A seed for one arm of one replicate: independent of the other arms in the recipe."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    return int(np.random.SeedSequence([replicate_seed, key]).generate_state(1)[0])


def stratified_bootstrap(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Positions drawn with replacement within each class, as many as the class has (sorted)."""
    parts = [rng.choice(np.flatnonzero(labels == c), size=int((labels == c).sum()), replace=True)
             for c in np.unique(labels)]
    return np.sort(np.concatenate(parts))


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """BLAS/OpenMP and PyTorch in one thread: same numbers anywhere, no oversubscription."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(before)


# -------------------------------------------------------------------------------------------
# one replicate
# -------------------------------------------------------------------------------------------

def class_indices(job: BootstrapJob, part: Any) -> np.ndarray:
    """The target of a table (or the labels of images) as indices into ``job.classes``."""
    if job.modality == "images":
        values = part.labels
    else:
        values = part.get_column(job.target).to_numpy()
    lookup = {c: i for i, c in enumerate(job.classes)}
    try:
        return np.fromiter((lookup[v.item() if hasattr(v, "item") else v] for v in values), dtype=np.int64,
                           count=len(values))
    except KeyError as error:
        raise DataError(f"a training set holds class {error.args[0]!r}, which the real data does not have") from None


def run_replicate(job: BootstrapJob, task: tuple[int, int]) -> dict[str, Any]:
    """Scores of every arm in replicate ``index`` with seed ``seed``: see the module docstring."""
    from synthkit._runtime import child_seeds, seeded
    from synthkit.recipes.models import Featurizer, fit_predict, score

    index, seed = task
    started = time.perf_counter()
    resample_seed, holdout_seed, model_seed = child_seeds(seed, 3)
    y_train = class_indices(job, job.train)
    y_test = class_indices(job, job.holdout)
    rows = stratified_bootstrap(y_train, np.random.default_rng(resample_seed))
    weights = None
    if job.holdout_bootstrap:
        drawn = stratified_bootstrap(y_test, np.random.default_rng(holdout_seed))
        weights = np.bincount(drawn, minlength=y_test.size)
    resample = job.train[rows] if job.modality == "table" else job.train.take(rows)
    if job.modality == "table":
        featurizer = Featurizer.fit(job.train, job.schema, job.target)
        X_test, n_numeric, native = featurizer.transform(job.holdout), len(featurizer.numeric), featurizer.native_categorical
    else:
        featurizer, X_test, n_numeric, native = None, job.holdout.nchw(), 0, None

    scores: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    sizes: dict[str, int] = {}
    notes: list[str] = []
    with one_thread(), seeded(seed), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for arm in job.arms:
            clock = time.perf_counter()
            own_seed = arm_seed(seed, arm.name)
            part, note = build_training_set(job, arm, resample, own_seed)
            if note:
                notes.append(note if note.startswith(f"{arm.name}:") else f"{arm.name}: {note}")
            y = class_indices(job, part)
            X = featurizer.transform(part) if featurizer is not None else part.nchw()
            proba = fit_predict(job.model, job.model_params, model_seed, X, y, X_test, len(job.classes),
                                n_numeric=n_numeric, native=native)
            scores[arm.name] = {metric: score(metric, y_test, proba, weights, job.positive) for metric in job.metrics}
            seconds[arm.name] = time.perf_counter() - clock
            sizes[arm.name] = len(y)
    for warning in caught:
        text = f"{warning.category.__name__}: {str(warning.message).strip().splitlines()[0][:200]}"
        if text not in notes:
            notes.append(text)
    return {"index": index, "seed": seed, "scores": scores, "train_rows": sizes, "seconds": seconds,
            "total_seconds": time.perf_counter() - started, "notes": notes[:20]}


def build_training_set(job: BootstrapJob, arm: ArmSpec, resample: Any, seed: int) -> tuple[Any, str | None]:
    """The arm's training set from the replicate's resample only, and a note (or None)."""
    if arm.kind == "real":
        return resample, None
    if job.modality == "images":
        return _image_set(job, arm, resample, seed), None
    if arm.kind == "augmented":
        from synthkit.augment.table import augment_table

        result = augment_table(resample, job.target, method=arm.method, strategy=arm.strategy, seed=seed,
                               params=dict(arm.params))
        note = "; ".join(n for n in result.notes if not n.startswith(f"{arm.method}: one generator")) or None
        return result.table, note
    # synthetic only: a generator fitted on the resample, sampled in the resample's class counts
    generator = make_generator(arm.method, arm.params, seed).fit(resample, schema=job.schema)
    counts = resample.get_column(job.target).value_counts(sort=True)
    parts = []
    for value, n in counts.iter_rows():
        parts.append(generator.sample(int(n), conditions={job.target: value}, seed=arm_seed(seed, str(value))))
    return pl.concat(parts, how="vertical_relaxed"), None


def make_generator(name: str, params: dict[str, Any], seed: int):
    """A registered generator, seeded and quiet (only the options it takes are passed)."""
    from synthkit import generators

    return generators.build(name, params, seed=seed)


def image_generator(name: str, params: dict[str, Any], images: Any, seed: int):
    """An image generator (``generate(labels, *, seed)``) fitted on ``images`` only."""
    if name == "affine_jitter":
        from synthkit.augment.images import AffineJitter

        return AffineJitter(images.nchw(), images.labels, **params)
    return make_generator(name, params, seed).fit(images.images, images.labels)


def _image_set(job: BootstrapJob, arm: ArmSpec, resample: Any, seed: int) -> Any:
    from synthkit.augment.images import MixedImageDataset, generate_images
    from synthkit.recipes.data import Images

    generator = image_generator(arm.method, arm.params, resample, seed)
    if arm.kind == "synthetic":
        # as many images of each class as the resample has
        new = generate_images(generator, resample.labels, seed=seed, like=_as_tensor(resample.nchw())).numpy()
        return Images(_channels_last(new, resample.images.ndim), resample.labels.copy())
    mixed = MixedImageDataset(resample.nchw(), resample.labels, generator, synthetic_fraction=arm.synthetic_fraction,
                              label_distribution=arm.label_distribution, seed=seed)
    new = _channels_last(mixed.synthetic_images.numpy(), resample.images.ndim)
    return Images(np.concatenate([resample.images, new.astype(np.float32)]),
                  np.concatenate([resample.labels, mixed.synthetic_labels]))


def _as_tensor(array: np.ndarray):
    import torch

    return torch.from_numpy(np.ascontiguousarray(array))


def _channels_last(nchw: np.ndarray, ndim: int) -> np.ndarray:
    return nchw[:, 0] if ndim == 3 else np.moveaxis(nchw, 1, -1)


# -------------------------------------------------------------------------------------------
# summary
# -------------------------------------------------------------------------------------------

def interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """The percentile interval: the (1 - level)/2 and (1 + level)/2 quantiles of the replicates."""
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def summarize(replicates: list[dict[str, Any]], arms: list[ArmSpec], metrics: list[str], level: float) -> dict[str, Any]:
    """Per arm: mean, sd, percentile interval; per non-real arm: the paired difference to real."""
    replicates = sorted(replicates, key=lambda r: r["index"])
    out: dict[str, Any] = {}
    for arm in arms:
        entry: dict[str, Any] = {"kind": arm.kind, "method": arm.method}
        if arm.kind != "real":
            entry["parameters"] = dict(arm.params)
        entry["train_rows_mean"] = float(np.mean([r["train_rows"][arm.name] for r in replicates]))
        for metric in metrics:
            values = np.array([r["scores"][arm.name][metric] for r in replicates], dtype=np.float64)
            low, high = interval(values, level)
            entry[metric] = {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if values.size > 1 else 0.0,
                             "ci_low": low, "ci_high": high}
            if arm.kind != "real":
                real = np.array([r["scores"]["real"][metric] for r in replicates], dtype=np.float64)
                diff = values - real
                low, high = interval(diff, level)
                entry[metric]["vs_real"] = {
                    "mean": float(diff.mean()), "ci_low": low, "ci_high": high,
                    "won": float((diff > 0).mean()), "lost": float((diff < 0).mean()),
                }
        out[arm.name] = entry
    return out


__all__ = ["ArmSpec", "BootstrapJob", "arm_seed", "interval", "make_generator", "run_replicate", "stratified_bootstrap",
           "summarize"]
