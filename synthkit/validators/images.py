"""Image validation: fidelity, utility and memorisation of generated labelled images -> a Report.

No downloaded weights: the feature space is a small CNN trained here, on the real training
images, to tell their classes apart (the report names it and its holdout accuracy). In it:

* Fréchet distance (real training vs generated features), beside the same distance for the
  real holdout, on equal-size samples (the statistic is biased by sample size);
* precision / recall / density / coverage (Naeem et al. 2020, k nearest neighbours);
* a pixel-space detector (gradient boosting, real vs generated, cross-validated ROC-AUC) —
  pixel statistics a learned feature space can miss (blur, noise, grey levels);
* TSTR: the same CNN trained on generated images only, scored on the real holdout, vs the
  feature CNN (trained on the real images) on the same holdout;
* memorisation: each generated image's nearest training image vs nearest holdout image
  (pixel L2, on equal-size sets: 50% closer to train is ideal), near-duplicates of training
  images (closer than 99% of holdout images are to their nearest training image), exact copies;
* a grid of generated images per class (generated images only; no real image is stored).
"""

from __future__ import annotations

import base64
import io
import os
import time
from typing import Any

import numpy as np

from synthkit.data.images import ImageSet, load_images
from synthkit.errors import ConfigError, DataError
from synthkit.validators.policy import Policy
from synthkit.validators.report import Check, Plot, Report, Section

FEATURES = 128
NEIGHBOURS = 5
MAX_POINTS = 5000
DETECTOR_PIXELS = 1024
GRID_PER_CLASS = 8


def _as_set(value: Any, what: str) -> ImageSet:
    if isinstance(value, ImageSet):
        return value
    if isinstance(value, (str, os.PathLike)):
        return load_images(value)
    raise DataError(f"{what}: expected an ImageSet or a folder/.npz path, got {type(value).__name__}")


def _align(real: ImageSet, other: ImageSet, what: str) -> ImageSet:
    """``other`` relabelled to ``real``'s class order (classes match by name)."""
    if other.images.shape[1:] != real.images.shape[1:]:
        h, w, c = other.images.shape[1:]
        rh, rw, rc = real.images.shape[1:]
        raise DataError(f"{what}: images are {h}×{w}×{c}, the real ones {rh}×{rw}×{rc}; they must match")
    index = {name: i for i, name in enumerate(real.classes)}
    unknown = [c for c in other.classes if c not in index]
    if unknown:
        raise DataError(f"{what}: class(es) {', '.join(unknown)} do not occur in the real images "
                        f"(classes: {', '.join(real.classes)})")
    mapping = np.array([index[c] for c in other.classes], dtype=np.int64)
    return ImageSet(other.images, mapping[other.labels], list(real.classes), other.source)


# ---------------------------------------------------------------------------------------------
# the small CNN: feature extractor and TSTR classifier
# ---------------------------------------------------------------------------------------------

def _cnn(channels: int, classes: int):
    from torch import nn

    body = nn.Sequential(
        nn.Conv2d(channels, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4), nn.Flatten(),
        nn.Linear(64 * 16, FEATURES), nn.ReLU(),
    )
    return nn.Sequential(body, nn.Dropout(0.2), nn.Linear(FEATURES, classes))


def _tensor(images: ImageSet):
    import torch

    return torch.from_numpy(images.unit() - 0.5)


def train_classifier(images: ImageSet, *, seed: int, epochs: int = 20, max_steps: int = 1500, batch_size: int = 64):
    """The small CNN, trained to tell ``images``' classes apart (seeded)."""

    from synthkit._runtime import seeded

    with seeded(seed):  # initial weights and dropout draw from torch's global generator; restored after
        return _train(images, seed=seed, epochs=epochs, max_steps=max_steps, batch_size=batch_size)


def _train(images: ImageSet, *, seed: int, epochs: int, max_steps: int, batch_size: int):
    import torch

    model = _cnn(images.channels, len(images.classes))
    x, y = _tensor(images), torch.from_numpy(images.labels)
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    steps = max(1, min(max_steps, epochs * -(-len(images) // batch_size)))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=2e-3, total_steps=steps)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        index = torch.randint(0, len(images), (min(batch_size, len(images)),), generator=gen)
        loss = torch.nn.functional.cross_entropy(model(x[index]), y[index])
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
    return model.eval()


def _run(model, images: ImageSet, *, features: bool):
    import torch

    part = model[0] if features else model
    outs = []
    with torch.inference_mode():
        x = _tensor(images)
        for start in range(0, len(images), 1000):
            outs.append(part(x[start:start + 1000]))
    out = torch.cat(outs).numpy().astype(np.float64)
    return out if features else out.argmax(1)


def accuracy(model, images: ImageSet) -> float:
    return float((_run(model, images, features=False) == images.labels).mean())


# ---------------------------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------------------------

def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets."""
    from scipy import linalg

    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    import warnings

    eye = np.eye(cov_a.shape[0]) * 1e-6  # dead ReLU units make the covariances singular
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root = linalg.sqrtm((cov_a + eye) @ (cov_b + eye))
    root = np.real(root)
    return float(max(0.0, ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(root)))


def _distances(a: np.ndarray, b: np.ndarray):
    import torch

    return torch.cdist(torch.from_numpy(a), torch.from_numpy(b))


def nearest(a: np.ndarray, b: np.ndarray, k: int = 1) -> np.ndarray:
    """Distance from each row of ``a`` to its k-th nearest row of ``b`` (blocked)."""
    import torch

    out = []
    tb = torch.from_numpy(b)
    for start in range(0, a.shape[0], 1024):
        d = torch.cdist(torch.from_numpy(a[start:start + 1024]), tb)
        out.append(d.kthvalue(k, dim=1).values)
    return torch.cat(out).numpy()


def prdc(real: np.ndarray, fake: np.ndarray, k: int = NEIGHBOURS) -> dict[str, float]:
    """Precision, recall, density and coverage (Naeem et al. 2020)."""
    real_radius = nearest(real, real, k + 1)  # +1: the point itself is its own nearest neighbour
    fake_radius = nearest(fake, fake, k + 1)
    d = _distances(real, fake).numpy()  # real × fake
    inside = d < real_radius[:, None]
    precision = float(inside.any(0).mean())
    recall = float((d < fake_radius[None, :]).any(1).mean())
    density = float(inside.sum() / (k * fake.shape[0]))
    coverage = float((d.min(1) < real_radius).mean())
    return {"precision": precision, "recall": recall, "density": density, "coverage": coverage}


def _pixels(images: ImageSet) -> np.ndarray:
    """Flattened pixel values, area-averaged down to at most DETECTOR_PIXELS features."""
    x = images.images.astype(np.float32)
    h, w, c = x.shape[1:]
    factor = 1
    while (h // factor) * (w // factor) * c > DETECTOR_PIXELS and min(h, w) // (factor * 2) >= 4:
        factor *= 2
    if factor > 1:
        hh, ww = h // factor, w // factor
        x = x[:, : hh * factor, : ww * factor].reshape(len(x), hh, factor, ww, factor, c).mean((2, 4))
    return x.reshape(len(x), -1)


def detection_auc(a: ImageSet, b: ImageSet, *, seed: int) -> float:
    """Cross-validated ROC-AUC of gradient boosting telling ``a`` from ``b`` by pixels (equal-size samples)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    n = min(len(a), len(b), MAX_POINTS // 2)
    xa = _pixels(a)[rng.choice(len(a), n, replace=False)]
    xb = _pixels(b)[rng.choice(len(b), n, replace=False)]
    x = np.vstack([xa, xb])
    y = np.r_[np.zeros(n), np.ones(n)]
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    # one OpenMP thread: on a busy machine gradient boosting's threads spin-wait and run ~100× slower
    with threadpool_limits(1):
        p = cross_val_predict(HistGradientBoostingClassifier(random_state=seed), x, y, cv=folds,
                              method="predict_proba")[:, 1]
    return float(roc_auc_score(y, p))


def _unit_flat(images: ImageSet) -> np.ndarray:
    return (images.images.reshape(len(images), -1) / 255.0).astype(np.float32)


def _png(pixels: np.ndarray) -> str:
    from PIL import Image

    array = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    buffer = io.BytesIO()
    Image.fromarray(array, mode="L" if array.ndim == 2 else "RGB").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def sample_grid(images: ImageSet, *, per_class: int = GRID_PER_CLASS, seed: int = 0) -> Plot:
    """Up to ``per_class`` generated images of each class, one row per class."""
    rng = np.random.default_rng(seed)
    cells, labels = [], []
    for c, name in enumerate(images.classes):
        rows = np.flatnonzero(images.labels == c)
        picks = rng.choice(rows, min(per_class, rows.size), replace=False) if rows.size else []
        for i in range(per_class):
            if i < len(picks):
                cells.append(_png(images.images[picks[i]]))
                labels.append(name)
            else:  # keep the grid's rows aligned
                cells.append(_png(np.zeros(images.images.shape[1:], np.uint8)))
                labels.append("")
    h = images.images.shape[1]
    return Plot(kind="image_grid", title="Generated images, one row per class",
                data={"images": cells, "labels": labels, "columns": per_class, "size": int(max(40, min(96, 4 * h)))},
                caption="a random sample of the generated images (no real image is stored in this report)")


# ---------------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------------

def validate_images(real: Any, synthetic: Any, *, holdout: Any = None, policy: Policy | dict | str | os.PathLike | None = None,
                    seed: int = 0, provenance: dict[str, Any] | None = None, classifier_epochs: int = 20) -> Report:
    """Validate generated labelled images against the real training images (and a real holdout).

    ``real``/``synthetic``/``holdout``: :class:`ImageSet` or folder/``.npz`` paths. Classes
    match by name. Without a holdout, TSTR, the holdout baselines and memorisation cannot be
    measured; by default that fails the privacy gates (``privacy.require_holdout``).
    """
    started = time.perf_counter()
    policy = Policy.coerce(policy)
    rules = policy.images
    real = _as_set(real, "real")
    synthetic = _align(real, _as_set(synthetic, "synthetic"), "synthetic")
    holdout = _align(real, _as_set(holdout, "holdout"), "holdout") if holdout is not None else None
    for what, data in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
        if data is not None and len(data) < 10:
            raise DataError(f"{what}: {len(data)} images are too few to validate (need at least 10)")
    if len(np.unique(real.labels)) < 2:
        raise DataError("real: the images have a single class; the feature classifier needs two or more")
    if not isinstance(classifier_epochs, int) or classifier_epochs <= 0:
        raise ConfigError(f"classifier_epochs must be a positive integer, not {classifier_epochs!r}")

    rng = np.random.default_rng(seed)
    notes: list[str] = []
    model = train_classifier(real, seed=seed, epochs=classifier_epochs)
    feature_note = (f"features: the {FEATURES}-unit penultimate layer of a small CNN (3 conv layers) trained here for "
                    f"{classifier_epochs} epochs on the {len(real):,} real training images to tell their "
                    f"{len(real.classes)} classes apart; no pretrained (Inception) weights are used, so values are "
                    "comparable only between reports with the same real data")
    f_real = _run(model, real, features=True)
    f_syn = _run(model, synthetic, features=True)
    f_hold = _run(model, holdout, features=True) if holdout is not None else None

    # -- fidelity ------------------------------------------------------------------------
    m = min(len(synthetic), len(real), MAX_POINTS, *( [len(holdout)] if holdout is not None else []))
    pick = lambda n: rng.choice(n, m, replace=False)
    real_m, syn_m = f_real[pick(len(real))], f_syn[pick(len(synthetic))]
    hold_m = f_hold[pick(len(holdout))] if holdout is not None else None
    fd = frechet_distance(real_m, syn_m)
    fd_base = frechet_distance(real_m, hold_m) if hold_m is not None else None
    scores = prdc(real_m, syn_m)
    base_scores = prdc(real_m, hold_m) if hold_m is not None else {}
    det = detection_auc(real, synthetic, seed=seed)
    det_base = detection_auc(real, holdout, seed=seed) if holdout is not None else None
    checks = [
        Check.measure("images.frechet_distance", "Fréchet distance (learned features)", fd,
                      "Distance between the real and generated images' feature distributions (mean and covariance); "
                      "0 is identical, the baseline is a real holdout's distance.",
                      threshold=rules.frechet_ratio_max * fd_base if rules.frechet_ratio_max is not None and fd_base else None,
                      comparison="<=" if rules.frechet_ratio_max is not None and fd_base else None,
                      gate=rules.frechet_ratio_max is not None and fd_base is not None, baseline=fd_base,
                      details={"features": feature_note, "images_per_side": m}),
    ]
    meaning = {
        "precision": "Share of generated images that lie on the real images' manifold (realism).",
        "recall": "Share of real images that lie on the generated images' manifold (variety).",
        "density": "How densely generated images sit among real neighbourhoods (1 is like real data).",
        "coverage": "Share of real images with a generated image in their neighbourhood (mode coverage).",
    }
    for key in ("precision", "recall", "density", "coverage"):
        threshold = getattr(rules, f"{key}_min", None)
        checks.append(Check.measure(f"images.{key}", f"{key.capitalize()} (k={NEIGHBOURS}, learned features)",
                                    scores[key], meaning[key], threshold=threshold,
                                    comparison=">=" if threshold is not None else None, gate=threshold is not None,
                                    baseline=base_scores.get(key)))
    checks.append(Check.measure(
        "images.detection_auc", "Detection ROC-AUC (gradient boosting on pixels)", det,
        "A classifier telling real from generated images by their pixels: 0.5 is indistinguishable, 1 is always told "
        "apart; the baseline tells real holdout from real training images.",
        threshold=rules.detection_auc_max, comparison="<=" if rules.detection_auc_max is not None else None,
        gate=rules.detection_auc_max is not None, baseline=det_base,
        details={"pixels": int(_pixels(real.take(np.arange(1))).shape[1]), "cv_folds": 5}))
    fidelity = Section(name="fidelity", title="Fidelity", checks=checks,
                       summary=feature_note + ".")

    # -- utility (TSTR) --------------------------------------------------------------------
    sections = [fidelity]
    if holdout is not None:
        real_acc = accuracy(model, holdout)
        syn_model = train_classifier(synthetic, seed=seed, epochs=classifier_epochs)
        syn_acc = accuracy(syn_model, holdout)
        ratio = syn_acc / real_acc if real_acc > 0 else float("nan")
        per_class = {}
        predicted = _run(syn_model, holdout, features=False)
        for c, name in enumerate(real.classes):
            rows = holdout.labels == c
            if rows.any():
                per_class[name] = round(float((predicted[rows] == c).mean()), 4)
        utility = Section(name="utility", title="Utility (train on synthetic, test on real)", checks=[
            Check.measure("images.tstr_ratio", "TSTR accuracy / real accuracy", ratio,
                          "A classifier trained only on generated images, scored on real holdout images, as a share "
                          "of the same classifier trained on the real images.",
                          threshold=rules.tstr_ratio_min, comparison=">=" if rules.tstr_ratio_min is not None else None,
                          gate=rules.tstr_ratio_min is not None, baseline=1.0,
                          details={"per_class_accuracy": per_class}),
            Check.measure("images.tstr_accuracy", "Holdout accuracy, trained on generated images", syn_acc,
                          "The small CNN trained on the generated images only.", baseline=real_acc),
            Check.measure("images.trtr_accuracy", "Holdout accuracy, trained on real images", real_acc,
                          "The same CNN trained on the real training images (the feature network)."),
        ])
        sections.append(utility)
    else:
        notes.append("no holdout: TSTR, the holdout baselines and memorisation were not measured")

    # -- memorisation ------------------------------------------------------------------------
    privacy_checks = []
    plots = []
    if holdout is not None:
        p_syn, p_real, p_hold = _unit_flat(synthetic), _unit_flat(real), _unit_flat(holdout)
        n = min(len(real), len(holdout))
        train_part = p_real[rng.choice(len(real), n, replace=False)]
        hold_part = p_hold[rng.choice(len(holdout), n, replace=False)]
        d_train = nearest(p_syn, train_part)
        d_hold = nearest(p_syn, hold_part)
        share = float((d_train < d_hold).mean() + 0.5 * (d_train == d_hold).mean())
        d_syn_full = nearest(p_syn, p_real)
        d_hold_full = nearest(p_hold, p_real)
        cut = float(np.quantile(d_hold_full, 0.01))
        near = float((d_syn_full < cut).mean()) if cut > 0 else float((d_syn_full <= 0).mean())
        exact = int((d_syn_full <= 1e-9).sum())
        privacy_checks += [
            Check.measure("images.closer_to_train_share", "Share closer to a training image than to a holdout image",
                          share, "Each generated image's nearest training image vs nearest holdout image (pixel L2, "
                          "equal-size sets): about 50% when the model has not memorised its training images.",
                          threshold=rules.closer_to_train_share_max,
                          comparison="<=" if rules.closer_to_train_share_max is not None else None,
                          gate=rules.closer_to_train_share_max is not None, baseline=0.5,
                          details={"images_per_reference_set": n}),
            Check.measure("images.near_duplicate_share", "Near-duplicates of training images", near,
                          "Share of generated images closer to a training image than 99% of real holdout images are "
                          "to theirs (1% is the real baseline).",
                          threshold=rules.near_duplicate_share_max,
                          comparison="<=" if rules.near_duplicate_share_max is not None else None,
                          gate=rules.near_duplicate_share_max is not None, baseline=0.01,
                          details={"near_duplicates": round(near * len(synthetic)), "exact_copies": exact}),
        ]
        top = float(np.quantile(np.r_[d_syn_full, d_hold_full], 0.99)) or 1.0
        edges = np.linspace(0, top, 31)
        series = {}
        for name, values in (("generated → training", d_syn_full), ("real holdout → training", d_hold_full)):
            counts = np.histogram(np.clip(values, 0, top), edges)[0]
            series[name] = [round(float(v), 5) for v in counts / max(len(values), 1)]
        plots.append(Plot(kind="histogram", title="Distance to the nearest training image (pixel L2)",
                          data={"edges": [round(float(e), 5) for e in edges], "series": series, "x": "number"},
                          caption="share of images per distance bin; generated images piling up near 0 would be copies"))
    elif policy.privacy.require_holdout:
        for key, title in (("closer_to_train_share", "Share closer to a training image than to a holdout image"),
                           ("near_duplicate_share", "Near-duplicates of training images")):
            if getattr(rules, f"{key}_max") is not None:
                privacy_checks.append(Check(id=f"images.{key}", title=title, gate=True, passed=False,
                                            meaning="Needs a real holdout (images the generator did not see); none "
                                                    "was given, so this gate fails (privacy.require_holdout)."))
    if privacy_checks:
        sections.append(Section(name="privacy", title="Memorisation", checks=privacy_checks, plots=plots))
    sections.append(Section(name="images", title="Generated images", plots=[sample_grid(synthetic, seed=seed)],
                            summary=f"{len(synthetic):,} generated images in {len(synthetic.classes)} classes: "
                                    + ", ".join(f"{k} {v:,}" for k, v in synthetic.counts().items())))
    prov = {
        "inputs": {name: {"rows": len(d), "columns": int(np.prod(d.images.shape[1:])), "sha256": d.fingerprint()}
                   for name, d in (("real", real), ("synthetic", synthetic), ("holdout", holdout)) if d is not None},
        "image_size": "×".join(str(v) for v in real.images.shape[1:]),
        "classes": ", ".join(real.classes),
        "seed": seed,
        "feature_network": feature_note,
        "validate_seconds": round(time.perf_counter() - started, 1),
        "policy": policy.model_dump(),
        **(provenance or {}),
    }
    from synthkit._runtime import package_versions

    prov["packages"] = package_versions()
    return Report(modality="image", sections=sections, provenance=prov, notes=notes)


__all__ = ["detection_auc", "frechet_distance", "nearest", "prdc", "sample_grid", "train_classifier", "validate_images"]
