"""Real and generated images for PyTorch training.

An *image generator* is anything that, given the labels it is asked for, returns that many
images and their labels: a callable ``generate(labels, *, seed) -> (images, labels)``, or an
object with such a ``generate`` method. synthkit's diffusion image generator follows it, and
so does :class:`AffineJitter`, which makes new images from real ones with small random affine
transformations (the classic augmentation, usable as a baseline or a stand-in).

* :class:`MixedImageDataset` — a ``torch.utils.data.Dataset`` of the real images plus generated
  ones, the generated ones making up ``synthetic_fraction`` of it.
* :func:`top_up_classes` — adds generated images to rare classes until each reaches a count.

Images may be numpy arrays or torch tensors, shaped ``(N, H, W)`` or ``(N, C, H, W)``;
``uint8`` images are scaled to ``[0, 1]``. Items come back as float32 tensors ``(C, H, W)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from synthkit._runtime import child_seeds
from synthkit.errors import ConfigError, DataError, GeneratorError

GENERATION_BATCH = 256


@runtime_checkable
class ImageGenerator(Protocol):
    """``generate(labels, *, seed)`` returns ``(images, labels)``: one image per requested label."""

    def generate(self, labels: np.ndarray, *, seed: int | None = None) -> tuple[Any, Any]: ...


def _as_images(images: Any, *, what: str) -> torch.Tensor:
    """``(N, C, H, W)`` float32; uint8 scaled to [0, 1]."""
    if isinstance(images, np.ndarray):
        tensor = torch.from_numpy(np.ascontiguousarray(images))
    elif isinstance(images, torch.Tensor):
        tensor = images.detach().cpu()
    else:
        raise DataError(f"{what}: expected a numpy array or a torch tensor of images, got {type(images).__name__}")
    if tensor.ndim == 3:
        tensor = tensor.unsqueeze(1)
    if tensor.ndim != 4:
        raise DataError(f"{what}: expected images shaped (N, H, W) or (N, C, H, W), got shape {tuple(tensor.shape)}")
    if tensor.dtype == torch.uint8:
        return tensor.float() / 255.0
    if not (tensor.dtype.is_floating_point or tensor.dtype in (torch.int16, torch.int32, torch.int64)):
        raise DataError(f"{what}: images of dtype {tensor.dtype} are not supported (use uint8 or floats)")
    return tensor.float()


def _as_labels(labels: Any, n: int, *, what: str) -> np.ndarray:
    array = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.ndim != 1 or array.shape[0] != n:
        raise DataError(f"{what}: expected {n} labels in one dimension, got shape {array.shape}")
    if array.dtype.kind not in "iu":
        raise DataError(f"{what}: labels must be integers (class indices), got dtype {array.dtype}")
    return array.astype(np.int64)


def _generate_fn(generator: Any) -> Callable[..., tuple[Any, Any]]:
    if isinstance(generator, ImageGenerator):
        return generator.generate
    if callable(generator):
        return generator
    raise ConfigError(
        f"generator: expected a callable generate(labels, *, seed) -> (images, labels) or an object with such a "
        f"generate method, got {type(generator).__name__}"
    )


def generate_images(generator: Any, labels: np.ndarray, *, seed: int | None, like: torch.Tensor | None = None,
                    batch_size: int = GENERATION_BATCH) -> torch.Tensor:
    """Images for ``labels`` from ``generator``, in batches, checked against what was asked."""
    fn = _generate_fn(generator)
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 0:
        return torch.empty((0, *like.shape[1:])) if like is not None else torch.empty((0, 1, 1, 1))
    batches = range(0, labels.size, batch_size)
    seeds = child_seeds(seed, len(batches)) if seed is not None else [None] * len(batches)
    parts = []
    for start, batch_seed in zip(batches, seeds):
        wanted = labels[start:start + batch_size]
        result = fn(wanted, seed=batch_seed)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise GeneratorError("the image generator must return a pair (images, labels)")
        images = _as_images(result[0], what="generated images")
        got = _as_labels(result[1], images.shape[0], what="generated labels")
        if got.shape[0] != wanted.shape[0] or not np.array_equal(got, wanted):
            raise GeneratorError(
                f"the image generator returned {got.shape[0]} images whose labels differ from the {wanted.shape[0]} requested"
            )
        if like is not None and images.shape[1:] != like.shape[1:]:
            raise GeneratorError(
                f"generated images are shaped {tuple(images.shape[1:])}, the real ones {tuple(like.shape[1:])}"
            )
        parts.append(images)
    return torch.cat(parts)


def _counts_for(distribution: str | Mapping[int, float], real: np.ndarray, total: int) -> dict[int, int]:
    """How many generated images each class gets: ``total`` split by largest remainders."""
    classes, counts = np.unique(real, return_counts=True)
    if isinstance(distribution, Mapping):
        unknown = [c for c in distribution if c not in set(classes.tolist())]
        if unknown:
            raise ConfigError(f"label_distribution: class(es) {unknown} do not occur in the real labels")
        weights = {int(c): float(w) for c, w in distribution.items()}
        if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ConfigError("label_distribution: weights must be non-negative and not all zero")
    elif distribution == "real":
        weights = {int(c): float(n) for c, n in zip(classes, counts)}
    elif distribution == "uniform":
        weights = {int(c): 1.0 for c in classes}
    elif distribution == "inverse":
        weights = {int(c): 1.0 / n for c, n in zip(classes, counts)}
    else:
        raise ConfigError(f"label_distribution: use 'real', 'uniform', 'inverse' or a {{class: weight}} dict, not {distribution!r}")
    norm = sum(weights.values())
    exact = {c: total * w / norm for c, w in weights.items()}
    out = {c: int(np.floor(v)) for c, v in exact.items()}
    for c in sorted(exact, key=lambda c: exact[c] - out[c], reverse=True)[: total - sum(out.values())]:
        out[c] += 1
    return out


class MixedImageDataset(torch.utils.data.Dataset):
    """Real images plus generated ones; generated images are ``synthetic_fraction`` of the items.

    ``label_distribution`` decides which classes the generated images have: ``"real"`` (the real
    class proportions), ``"uniform"``, ``"inverse"`` (rarer classes get more), or a
    ``{class: weight}`` dict. The generated pool is drawn once (seeded); call
    :meth:`refresh` (e.g. every epoch) for a new one. Items are ``(image, label)``; index
    ``i`` is real when ``i < n_real``; :attr:`is_synthetic` marks every item.
    """

    def __init__(self, images: Any, labels: Any, generator: Any, *, synthetic_fraction: float = 0.5,
                 label_distribution: str | Mapping[int, float] = "real", seed: int | None = None,
                 transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                 batch_size: int = GENERATION_BATCH):
        if not isinstance(synthetic_fraction, (int, float)) or not 0 <= synthetic_fraction < 1:
            raise ConfigError(f"synthetic_fraction must be in [0, 1), not {synthetic_fraction!r}")
        self.real_images = _as_images(images, what="images")
        self.real_labels = _as_labels(labels, self.real_images.shape[0], what="labels")
        if self.real_images.shape[0] == 0:
            raise DataError("images: there are no real images")
        _generate_fn(generator)
        self.generator = generator
        self.synthetic_fraction = float(synthetic_fraction)
        self.label_distribution = label_distribution
        self.transform = transform
        self.batch_size = batch_size
        self.n_real = self.real_images.shape[0]
        self.n_synthetic = int(round(self.n_real * self.synthetic_fraction / (1 - self.synthetic_fraction)))
        self._counts = _counts_for(label_distribution, self.real_labels, self.n_synthetic)
        self.refresh(seed)

    def refresh(self, seed: int | None = None) -> MixedImageDataset:
        """Draw a new pool of generated images (same size and class counts)."""
        rng = np.random.default_rng(seed)
        wanted = np.concatenate([np.full(n, c, dtype=np.int64) for c, n in self._counts.items()] or [np.empty(0, np.int64)])
        wanted = rng.permutation(wanted)
        gen_seed = int(rng.integers(2**31)) if seed is not None else None
        self.synthetic_images = generate_images(self.generator, wanted, seed=gen_seed, like=self.real_images,
                                                batch_size=self.batch_size)
        self.synthetic_labels = wanted
        return self

    @property
    def is_synthetic(self) -> torch.Tensor:
        return torch.cat([torch.zeros(self.n_real, dtype=torch.bool), torch.ones(self.n_synthetic, dtype=torch.bool)])

    @property
    def labels(self) -> np.ndarray:
        return np.concatenate([self.real_labels, self.synthetic_labels])

    def __len__(self) -> int:
        return self.n_real + self.n_synthetic

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} is out of range for {len(self)} images")
        if index < self.n_real:
            image, label = self.real_images[index], self.real_labels[index]
        else:
            image, label = self.synthetic_images[index - self.n_real], self.synthetic_labels[index - self.n_real]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(label)


def top_up_classes(images: Any, labels: Any, generator: Any, *, target: str | int | Mapping[int, int] = "auto",
                   seed: int | None = None, batch_size: int = GENERATION_BATCH):
    """Add generated images to rare classes: ``(images, labels, is_synthetic)``, originals first.

    ``target``: ``"auto"`` raises every class to the largest class's count; an int raises
    every class to at least that many; a ``{class: count}`` dict sets chosen classes' counts.
    Numpy input gives numpy output (float32 when generated images were mixed in), torch gives torch.
    """
    real = _as_images(images, what="images")
    y = _as_labels(labels, real.shape[0], what="labels")
    classes, counts = np.unique(y, return_counts=True)
    have = dict(zip(classes.tolist(), counts.tolist()))
    if isinstance(target, str):
        if target != "auto":
            raise ConfigError(f"target: use 'auto', a count or a {{class: count}} dict, not {target!r}")
        goal = {c: max(have.values()) for c in have}
    elif isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        goal = {c: max(int(target), n) for c, n in have.items()}
    elif isinstance(target, Mapping):
        unknown = [c for c in target if c not in have]
        if unknown:
            raise ConfigError(f"target: class(es) {unknown} do not occur in the labels")
        short = {c: n for c, n in target.items() if n < have[c]}
        if short:
            raise ConfigError(f"target: top-up only adds images; class(es) already above the asked count: {short}")
        goal = {**have, **{int(c): int(n) for c, n in target.items()}}
    else:
        raise ConfigError(f"target: use 'auto', a count or a {{class: count}} dict, not {target!r}")
    wanted = np.concatenate([np.full(goal[c] - have[c], c, dtype=np.int64) for c in sorted(goal)] or [np.empty(0, np.int64)])
    new = generate_images(generator, wanted, seed=seed, like=real, batch_size=batch_size)
    out_images = torch.cat([real, new])
    out_labels = np.concatenate([y, wanted])
    flags = np.r_[np.zeros(y.size, bool), np.ones(wanted.size, bool)]
    if isinstance(images, np.ndarray):
        if wanted.size == 0:
            return images, np.asarray(labels), flags
        squeeze = images.ndim == 3
        array = out_images.numpy()
        return (array[:, 0] if squeeze else array), out_labels, flags
    return (out_images if images.ndim == 4 else out_images[:, 0]), torch.from_numpy(out_labels), torch.from_numpy(flags)


class AffineJitter:
    """A generator that makes new images from real ones of the requested class.

    Each image is a random real image of that class, rotated, shifted and scaled a little
    (bilinear resampling), with optional pixel noise: classic augmentation, usable as a
    baseline for learned generators or as a stand-in until one is trained.
    """

    def __init__(self, images: Any, labels: Any, *, max_rotation: float = 12.0, max_shift: float = 0.1,
                 max_scale: float = 0.1, noise: float = 0.0):
        self.images = _as_images(images, what="images")
        self.labels = _as_labels(labels, self.images.shape[0], what="labels")
        self.max_rotation = max_rotation
        self.max_shift = max_shift
        self.max_scale = max_scale
        self.noise = noise
        self._by_class = {int(c): np.flatnonzero(self.labels == c) for c in np.unique(self.labels)}
        self._low, self._high = float(self.images.min()), float(self.images.max())

    def generate(self, labels: Sequence[int] | np.ndarray, *, seed: int | None = None) -> tuple[torch.Tensor, np.ndarray]:
        labels = np.asarray(labels, dtype=np.int64)
        unknown = sorted(set(labels.tolist()) - set(self._by_class))
        if unknown:
            raise GeneratorError(f"AffineJitter: no real images of class(es) {unknown} to start from")
        rng = np.random.default_rng(seed)
        picks = np.array([rng.choice(self._by_class[int(c)]) for c in labels], dtype=np.int64)
        source = self.images[torch.from_numpy(picks)]
        n = labels.size
        angle = np.deg2rad(rng.uniform(-self.max_rotation, self.max_rotation, n))
        scale = 1.0 + rng.uniform(-self.max_scale, self.max_scale, n)
        shift = rng.uniform(-self.max_shift, self.max_shift, (n, 2)) * 2  # grid coordinates span [-1, 1]
        theta = np.zeros((n, 2, 3))
        theta[:, 0, 0] = np.cos(angle) / scale
        theta[:, 0, 1] = -np.sin(angle) / scale
        theta[:, 1, 0] = np.sin(angle) / scale
        theta[:, 1, 1] = np.cos(angle) / scale
        theta[:, :, 2] = shift
        grid = torch.nn.functional.affine_grid(torch.from_numpy(theta).float(), list(source.shape), align_corners=False)
        background = self._low
        out = torch.nn.functional.grid_sample(source - background, grid, mode="bilinear", padding_mode="zeros",
                                              align_corners=False) + background
        if self.noise:
            generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
            out = out + self.noise * (self._high - self._low) * torch.randn(out.shape, generator=generator)
        return out.clamp(self._low, self._high), labels

    __call__ = generate
