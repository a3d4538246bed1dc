"""Image generators: class-conditional diffusion (diffusers) and a per-class Gaussian baseline.

Both learn from labelled images (:class:`~synthkit.data.images.ImageSet`, a folder/``.npz``
path, or arrays plus labels) and make images of asked-for classes:

* ``sample(n | per_class= | labels=, seed=)`` -> an :class:`ImageSet` (uint8, channels last);
* ``generate(labels, *, seed)`` -> ``(float32 (N, C, H, W) in [0, 1], labels)``, the protocol
  of :mod:`synthkit.augment.images` (``MixedImageDataset``, ``top_up_classes``) and recipes.

:class:`DiffusionImageGenerator` trains a ``UNet2DModel`` from scratch (nothing is
downloaded): class labels enter through ``num_class_embeds`` with one extra *null* class,
dropped to ``p_uncond`` of the time so sampling can use classifier-free guidance; DDPM
training with an EMA copy of the weights; DPM-Solver++ sampling in ~20 steps. Images are
padded to a multiple of what the UNet's depth needs (or resized to ``image_size``) and
cropped/resized back. Saved with diffusers' ``save_pretrained`` (safetensors) + synthkit.json.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from synthkit._runtime import child_seeds, progress, resolve_device
from synthkit.data.images import ImageSet, from_arrays, load_images
from synthkit.errors import ConfigError, DataError, GeneratorError, NotFittedError
from synthkit.generators.base import Parameters

FORMAT_VERSION = 1
MODEL_FILE = "synthkit.json"
SAMPLE_BATCH = 500
#: images with at most this many distinct pixel values keep them: generated pixels snap to the nearest
MAX_LEVELS = 64


def _largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    exact = total * weights / weights.sum()
    out = np.floor(exact).astype(np.int64)
    for i in np.argsort(-(exact - out), kind="stable")[: total - int(out.sum())]:
        out[i] += 1
    return out


def _positive_int(name: str, owner: str, value: Any, *, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{owner}: {name} must be an integer >= {minimum}, not {value!r}")


class ImageGeneratorBase(Parameters):
    """Shared machinery: parameters, input coercion, class bookkeeping, sampling by class, save/load."""

    name: ClassVar[str] = ""
    modality: ClassVar[str] = "image"
    trusted_only: ClassVar[bool] = False

    def _check_params(self) -> None:  # pragma: no cover - overridden
        pass

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        raise ConfigError(f"{cls.name}: has no search space, so synthkit tune cannot tune it")

    # -- contract ---------------------------------------------------------------------------
    def fit(self, images: Any, labels: Any = None, *, class_names: Sequence[Any] | None = None) -> ImageGeneratorBase:
        """Learn from labelled images: an :class:`ImageSet`, a folder/``.npz`` path, or arrays + labels.

        Arrays are ``(N, H, W)`` or ``(N, H, W, C)`` (channels last), uint8 or floats in [0, 1];
        labels are integers or strings (one per image).
        """
        self._check_params()
        if isinstance(images, (str, os.PathLike)):
            if labels is not None:
                raise ConfigError("fit: labels come from the folder/archive; do not pass labels with a path")
            data = load_images(images)
        elif isinstance(images, ImageSet):
            data = images
        else:
            data = from_arrays(images, labels, class_names=class_names, source="training images")
            raw = labels.detach().cpu().numpy() if hasattr(labels, "detach") else np.asarray(labels)
            # integer labels without names: generate() speaks in those values (as the caller's data does)
            if class_names is None and raw.dtype.kind in "iu":
                self.label_values_ = [int(v) for v in np.unique(raw)]
        if len(data) < 2:
            raise DataError("training images: need at least 2 images")
        if len(data.classes) < 1:
            raise DataError("training images: no classes")
        started = time.perf_counter()
        self.classes_ = list(data.classes)
        self.image_shape_ = (data.size[0], data.size[1], data.channels)
        self.class_counts_ = data.counts()
        self.n_training_images_ = len(data)
        self.fingerprint_ = data.fingerprint()
        if not hasattr(self, "label_values_"):
            self.label_values_ = None
        self.notes_: list[str] = []
        levels = np.unique(data.images)
        # few grey levels (e.g. the digits' 17): generated pixels snap to them, as the real ones are rounded
        self.levels_ = [int(v) for v in levels] if levels.size <= MAX_LEVELS else None
        self._fit(data)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise NotFittedError(f"{self.name} is not fitted yet: call fit(images, labels) before sample/save")

    def _class_index(self, wanted: Sequence[Any]) -> np.ndarray:
        """Class names (or indices) -> indices into ``classes_``."""
        index = {name: i for i, name in enumerate(self.classes_)}
        out = []
        for value in wanted:
            if isinstance(value, str):
                if value not in index:
                    raise ConfigError(f"unknown class {value!r} (classes: {', '.join(self.classes_)})")
                out.append(index[value])
            elif isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value < len(self.classes_):
                out.append(int(value))
            else:
                raise ConfigError(f"unknown class {value!r}: give a class name or an index below {len(self.classes_)}")
        return np.asarray(out, dtype=np.int64)

    def sample(self, n: int | None = None, *, per_class: int | dict[Any, int] | None = None,
               labels: Sequence[Any] | None = None, seed: int | None = None) -> ImageSet:
        """Generated images: ``n`` in the training class proportions, ``per_class`` of each class
        (an int, or ``{class: count}``), or one per entry of ``labels`` (class names or indices).
        The same seed gives the same images."""
        self._check_fitted()
        given = [x is not None for x in (n, per_class, labels)]
        if sum(given) != 1:
            raise ConfigError("sample: give exactly one of n, per_class or labels")
        if n is not None:
            _positive_int("n", "sample", n)
            counts = _largest_remainder(int(n), np.array([self.class_counts_[c] for c in self.classes_], float))
            wanted = np.repeat(np.arange(len(self.classes_)), counts)
        elif per_class is not None:
            if isinstance(per_class, dict):
                keys = self._class_index(list(per_class))
                for value in per_class.values():
                    _positive_int("per_class count", "sample", value, minimum=0)
                wanted = np.repeat(keys, [int(v) for v in per_class.values()])
            else:
                _positive_int("per_class", "sample", per_class)
                wanted = np.repeat(np.arange(len(self.classes_)), int(per_class))
            if wanted.size == 0:
                raise ConfigError("sample: per_class asks for no images")
        else:
            wanted = self._class_index(list(labels))
            if wanted.size == 0:
                raise ConfigError("sample: labels is empty")
        pixels = self._sample_uint8(wanted, seed)
        return ImageSet(pixels, wanted, list(self.classes_), f"{self.name} (seed {seed})")

    def _sample_uint8(self, wanted: np.ndarray, seed: int | None) -> np.ndarray:
        batches = range(0, wanted.size, SAMPLE_BATCH)
        seeds = child_seeds(seed, len(batches)) if seed is not None else [None] * len(batches)
        parts = []
        with progress(f"Sampling images ({self.name})", wanted.size,
                      enabled=getattr(self, "verbose", False) and wanted.size > SAMPLE_BATCH) as advance:
            for start, batch_seed in zip(batches, seeds):
                chunk = wanted[start:start + SAMPLE_BATCH]
                parts.append(self._snap(self._sample(chunk, batch_seed)))
                advance(chunk.size)
        return np.concatenate(parts)

    def _snap(self, pixels: np.ndarray) -> np.ndarray:
        if not self.levels_:
            return pixels
        levels = np.asarray(self.levels_, dtype=np.int16)
        mids = (levels[1:] + levels[:-1]) / 2
        return levels[np.searchsorted(mids, pixels, side="left")].astype(np.uint8)

    def generate(self, labels: Sequence[Any] | np.ndarray, *, seed: int | None = None):
        """``(images, labels)``: float32 ``(N, C, H, W)`` in [0, 1], one image per asked-for label.

        Labels are the values the generator was fitted with (integer labels), else class indices.
        """
        import torch

        self._check_fitted()
        asked = np.asarray(labels)
        if self.label_values_ is not None:
            lookup = {v: i for i, v in enumerate(self.label_values_)}
            missing = sorted({int(v) for v in asked.tolist()} - set(lookup))
            if missing:
                raise GeneratorError(f"{self.name}: no class with label(s) {missing} was seen in training")
            index = np.array([lookup[int(v)] for v in asked.tolist()], dtype=np.int64)
        else:
            index = self._class_index(asked.tolist())
        if index.size == 0:
            c, h, w = self.image_shape_[2], self.image_shape_[0], self.image_shape_[1]
            return torch.empty((0, c, h, w)), asked.astype(np.int64)
        pixels = self._sample_uint8(index, seed)
        return torch.from_numpy(np.moveaxis(pixels, -1, 1).astype(np.float32) / 255.0), asked.astype(np.int64)

    __call__ = generate

    # -- persistence --------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted generator to the folder ``path`` (replaced atomically)."""
        from synthkit.generators.base import _jsonable, write_model_folder

        self._check_fitted()
        return write_model_folder(self, path, {
            "classes": self.classes_,
            "label_values": self.label_values_,
            "levels": self.levels_,
            "image_shape": list(self.image_shape_),
            "class_counts": self.class_counts_,
            "training_data": {"images": self.n_training_images_, "sha256": self.fingerprint_},
            "training": _jsonable(self._training_state()),
            "notes": self.notes_,
        })

    @classmethod
    def _load_folder(cls, path: Path, meta: dict[str, Any]) -> ImageGeneratorBase:
        import inspect

        defaults = inspect.signature(cls.__init__).parameters
        params = {k: tuple(v) if isinstance(v, list) and k in defaults and isinstance(defaults[k].default, tuple) else v
                  for k, v in meta["params"].items() if k in defaults}
        generator = cls(**params)
        try:
            generator.classes_ = list(meta["classes"])
            generator.label_values_ = meta.get("label_values")
            generator.levels_ = meta.get("levels")
            generator.image_shape_ = tuple(meta["image_shape"])
            generator.class_counts_ = dict(meta["class_counts"])
            generator.n_training_images_ = meta["training_data"]["images"]
            generator.fingerprint_ = meta["training_data"]["sha256"]
        except (KeyError, TypeError) as error:
            raise GeneratorError(f"{path}: the model description lacks {error}") from None
        generator.fit_seconds_ = meta.get("fit_seconds", 0.0)
        generator.notes_ = list(meta.get("notes", []))
        generator._load_weights(Path(path), meta)
        return generator

    @classmethod
    def load(cls, path: str | os.PathLike, *, trust: bool = False) -> ImageGeneratorBase:
        from synthkit.generators import load

        generator = load(path, trust=trust)
        if not isinstance(generator, cls):
            raise GeneratorError(f"{path}: holds a {generator.name!r} model, not {cls.name!r}")
        return generator

    # -- hooks ----------------------------------------------------------------------------------
    def _fit(self, data: ImageSet) -> None:
        raise NotImplementedError

    def _sample(self, wanted: np.ndarray, seed: int | None) -> np.ndarray:
        """uint8 ``(N, H, W, C)`` for class indices ``wanted``."""
        raise NotImplementedError

    def _training_state(self) -> dict[str, Any]:
        return {}

    def _save_weights(self, folder: Path) -> list[str]:
        raise NotImplementedError

    def _load_weights(self, folder: Path, meta: dict[str, Any]) -> None:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# baseline: a Gaussian per class in pixel space
# ---------------------------------------------------------------------------------------------

class GaussianImageGenerator(ImageGeneratorBase):
    """Each class a Gaussian over its pixels (mean + its top principal directions).

    Seconds to fit. It keeps class means and pixel correlations, so a linear classifier trained
    on its images reads real ones well; the images themselves are blurry and noisy, which a
    real-vs-synthetic detector sees at once. A baseline, not a product.
    """

    name = "image_gaussian"

    def __init__(self, *, components: int = 64, random_state: int | None = None):
        self.components = components
        self.random_state = random_state

    def _check_params(self) -> None:
        _positive_int("components", self.name, self.components)

    def _fit(self, data: ImageSet) -> None:
        flat = data.images.reshape(len(data), -1).astype(np.float64)
        self.means_, self.bases_ = [], []
        for c in range(len(data.classes)):
            rows = flat[data.labels == c]
            mean = rows.mean(0)
            k = max(0, min(self.components, rows.shape[0] - 1, rows.shape[1]))
            if k:
                _, s, vt = np.linalg.svd(rows - mean, full_matrices=False)
                basis = (vt[:k] * (s[:k, None] / math.sqrt(rows.shape[0] - 1)))
            else:
                basis = np.zeros((0, flat.shape[1]))
            self.means_.append(mean.astype(np.float32))
            self.bases_.append(basis.astype(np.float32))

    def _sample(self, wanted: np.ndarray, seed: int | None) -> np.ndarray:
        rng = np.random.default_rng(seed)
        out = np.empty((wanted.size, self.means_[0].size), np.float32)
        for c in np.unique(wanted):
            rows = np.flatnonzero(wanted == c)
            z = rng.standard_normal((rows.size, self.bases_[c].shape[0])).astype(np.float32)
            out[rows] = self.means_[c] + z @ self.bases_[c]
        return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(wanted.size, *self.image_shape_)

    def _save_weights(self, folder: Path) -> list[str]:
        from safetensors.numpy import save_file

        tensors = {f"mean_{i}": m for i, m in enumerate(self.means_)}
        tensors.update({f"basis_{i}": b for i, b in enumerate(self.bases_)})
        save_file(tensors, str(folder / "gaussian.safetensors"))
        return ["gaussian.safetensors"]

    def _load_weights(self, folder: Path, meta: dict[str, Any]) -> None:
        from safetensors.numpy import load_file

        tensors = load_file(str(folder / "gaussian.safetensors"))
        self.means_ = [tensors[f"mean_{i}"] for i in range(len(self.classes_))]
        self.bases_ = [tensors[f"basis_{i}"] for i in range(len(self.classes_))]


# ---------------------------------------------------------------------------------------------
# class-conditional diffusion
# ---------------------------------------------------------------------------------------------

class DiffusionImageGenerator(ImageGeneratorBase):
    """Class-conditional DDPM (diffusers ``UNet2DModel``) with EMA weights and DPM-Solver++ sampling.

    Training length is ``steps`` optimiser steps of ``batch_size`` images, cut short by
    ``max_minutes`` (default 12; ``None`` for no limit; the model keeps what it learned and a note
    says so). The defaults fit scikit-learn's 8×8 digits in under 2 minutes on 2 idle CPU cores;
    the budget keeps a run on a busy machine under 15 minutes.
    """

    name = "image_diffusion"

    def __init__(self, *, steps: int = 600, batch_size: int = 128, lr: float = 2e-3,
                 channels: tuple[int, ...] = (32, 64, 64), layers_per_block: int = 1, image_size: int | None = None,
                 timesteps: int = 1000, sampling_steps: int = 20, guidance_scale: float = 1.5, p_uncond: float = 0.1,
                 ema_decay: float = 0.999, max_minutes: float | None = 12.0, device: str = "auto",
                 random_state: int | None = None, verbose: bool = False):
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.channels = channels
        self.layers_per_block = layers_per_block
        self.image_size = image_size
        self.timesteps = timesteps
        self.sampling_steps = sampling_steps
        self.guidance_scale = guidance_scale
        self.p_uncond = p_uncond
        self.ema_decay = ema_decay
        self.max_minutes = max_minutes
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        return {
            "lr": trial.suggest_float("lr", 3e-4, 3e-3, log=True),
            "guidance_scale": trial.suggest_float("guidance_scale", 1.0, 3.0),
            "channels": (32, 64, 64) if trial.suggest_categorical("width", ["small", "wide"]) == "small" else (64, 128, 128),
        }

    def _check_params(self) -> None:
        owner = self.name
        for key in ("steps", "batch_size", "layers_per_block", "timesteps", "sampling_steps"):
            _positive_int(key, owner, getattr(self, key))
        if self.sampling_steps > self.timesteps:
            raise ConfigError(f"{owner}: sampling_steps ({self.sampling_steps}) cannot exceed timesteps ({self.timesteps})")
        channels = self.channels
        if (not isinstance(channels, (tuple, list)) or not channels
                or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and c > 0 and c % 8 == 0
                           for c in channels)):
            raise ConfigError(f"{owner}: channels must be a non-empty list of positive multiples of 8 (one per UNet "
                              f"level), not {channels!r}")
        if self.image_size is not None:
            _positive_int("image_size", owner, self.image_size, minimum=4)
            if self.image_size % self._multiple():
                raise ConfigError(f"{owner}: image_size {self.image_size} must be a multiple of {self._multiple()} "
                                  f"for a UNet with {len(channels)} levels")
        for key, low, high in (("lr", 0, 1), ("p_uncond", 0, 1), ("ema_decay", 0, 1)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value < high or (key == "lr" and value == 0):
                raise ConfigError(f"{owner}: {key} must be in [{low}, {high}){' and positive' if key == 'lr' else ''}, not {value!r}")
        if isinstance(self.guidance_scale, bool) or not isinstance(self.guidance_scale, (int, float)) or self.guidance_scale < 0:
            raise ConfigError(f"{owner}: guidance_scale must be a number >= 0, not {self.guidance_scale!r}")
        if self.guidance_scale != 1 and self.p_uncond == 0:
            raise ConfigError(f"{owner}: guidance_scale {self.guidance_scale} needs p_uncond > 0 (the model must learn "
                              "the unconditional case); set guidance_scale=1 to sample without guidance")
        if self.max_minutes is not None and (isinstance(self.max_minutes, bool) or not isinstance(self.max_minutes, (int, float))
                                             or self.max_minutes <= 0):
            raise ConfigError(f"{owner}: max_minutes must be a positive number of minutes, not {self.max_minutes!r}")
        resolve_device(self.device)

    def _multiple(self) -> int:
        return 2 ** (len(self.channels) - 1)

    # -- geometry: pad (or resize) to what the UNet needs, and back ------------------------------
    def _train_size(self, height: int, width: int) -> tuple[int, int]:
        if self.image_size is not None:
            return self.image_size, self.image_size
        m = self._multiple()
        return -(-height // m) * m, -(-width // m) * m

    def _to_model(self, pixels: np.ndarray):
        """uint8 NHWC -> float NCHW in [-1, 1] at the training size."""
        import torch
        import torch.nn.functional as F

        x = torch.from_numpy(np.moveaxis(pixels, -1, 1).astype(np.float32) / 127.5 - 1.0)
        h, w = self.image_shape_[:2]
        th, tw = self.train_size_
        if self.image_size is not None and (th, tw) != (h, w):
            return F.interpolate(x, size=(th, tw), mode="bilinear", antialias=True, align_corners=False).clamp(-1, 1)
        if (th, tw) != (h, w):
            top, left = (th - h) // 2, (tw - w) // 2
            x = F.pad(x, (left, tw - w - left, top, th - h - top), mode="replicate")
        return x

    def _from_model(self, x) -> np.ndarray:
        import torch.nn.functional as F

        h, w = self.image_shape_[:2]
        th, tw = self.train_size_
        if self.image_size is not None and (th, tw) != (h, w):
            x = F.interpolate(x, size=(h, w), mode="bilinear", antialias=True, align_corners=False)
        elif (th, tw) != (h, w):
            top, left = (th - h) // 2, (tw - w) // 2
            x = x[:, :, top:top + h, left:left + w]
        x = ((x.clamp(-1, 1) + 1) * 127.5).round().to("cpu").numpy().astype(np.uint8)
        return np.ascontiguousarray(np.moveaxis(x, 1, -1))

    def _build(self, channels_in: int):
        from diffusers import DDPMScheduler, UNet2DModel

        levels = len(self.channels)
        groups = 8
        unet = UNet2DModel(
            sample_size=self.train_size_[0], in_channels=channels_in, out_channels=channels_in,
            layers_per_block=self.layers_per_block, block_out_channels=tuple(int(c) for c in self.channels),
            down_block_types=("DownBlock2D",) * (levels - 1) + ("AttnDownBlock2D",),
            up_block_types=("AttnUpBlock2D",) + ("UpBlock2D",) * (levels - 1),
            norm_num_groups=groups, attention_head_dim=8, num_class_embeds=len(self.classes_) + 1,
        )
        scheduler = DDPMScheduler(num_train_timesteps=self.timesteps, beta_schedule="squaredcos_cap_v2",
                                  prediction_type="v_prediction", clip_sample=False)
        return unet, scheduler

    def _fit(self, data: ImageSet) -> None:
        import torch
        from diffusers.training_utils import EMAModel

        from synthkit._runtime import seeded

        device = resolve_device(self.device)
        self.train_size_ = self._train_size(*data.size)
        seed = self.random_state if self.random_state is not None else int(np.random.SeedSequence().generate_state(1)[0])
        init_seed, loop_seed = child_seeds(seed, 2)
        with seeded(init_seed):
            unet, scheduler = self._build(data.channels)
        unet.to(device).train()
        x_all = self._to_model(data.images).to(device)
        y_all = torch.from_numpy(data.labels).to(device)
        null = len(self.classes_)
        ema = EMAModel(unet.parameters(), decay=self.ema_decay, use_ema_warmup=True, power=3 / 4)
        optimiser = torch.optim.AdamW(unet.parameters(), lr=self.lr, weight_decay=1e-4)
        warmup = min(200, max(1, self.steps // 20))
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, self.steps) / self.steps))))
        gen = torch.Generator(device="cpu").manual_seed(loop_seed)
        alphas = scheduler.alphas_cumprod.to(device)
        budget = None if self.max_minutes is None else self.max_minutes * 60.0
        started = time.perf_counter()
        losses: list[float] = []
        done = 0
        with progress(f"Training {self.name}", self.steps, enabled=self.verbose) as advance:
            for step in range(self.steps):
                index = torch.randint(0, x_all.shape[0], (self.batch_size,), generator=gen).to(device)
                x0, labels = x_all[index], y_all[index].clone()
                drop = (torch.rand(self.batch_size, generator=gen) < self.p_uncond).to(device)
                labels[drop] = null
                noise = torch.randn(x0.shape, generator=gen).to(device)
                t = torch.randint(0, self.timesteps, (self.batch_size,), generator=gen).to(device)
                a = alphas[t].sqrt().view(-1, 1, 1, 1)
                s = (1 - alphas[t]).sqrt().view(-1, 1, 1, 1)
                noisy = a * x0 + s * noise
                target = a * noise - s * x0  # v-prediction: well-scaled at every noise level
                predicted = unet(noisy, t, class_labels=labels).sample
                loss = torch.nn.functional.mse_loss(predicted, target)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
                optimiser.step()
                schedule.step()
                ema.step(unet.parameters())
                losses.append(float(loss.detach()))
                done = step + 1
                advance(1)
                if budget is not None and time.perf_counter() - started > budget:
                    break
        seconds = time.perf_counter() - started
        if done < self.steps:
            self.notes_.append(f"{self.name}: stopped after {done:,} of {self.steps:,} training steps "
                               f"(max_minutes={self.max_minutes:g}); samples may be rougher than a full run's")
        ema.copy_to(unet.parameters())
        unet.eval()
        self.unet_, self.scheduler_, self.device_ = unet, scheduler, device
        tail = losses[-max(1, len(losses) // 10):]
        self.training_ = {"steps_done": done, "steps_asked": self.steps, "seconds": round(seconds, 2),
                          "images_per_second": round(done * self.batch_size / max(seconds, 1e-9), 1),
                          "final_loss": round(float(np.mean(tail)), 5), "device": device,
                          "train_size": list(self.train_size_),
                          "parameters": int(sum(p.numel() for p in unet.parameters()))}

    def _training_state(self) -> dict[str, Any]:
        return {**self.training_, "train_size": list(self.train_size_)}

    def _sample(self, wanted: np.ndarray, seed: int | None) -> np.ndarray:
        import torch
        from diffusers import DPMSolverMultistepScheduler

        device = self.device_
        config = self.scheduler_.config
        # built from the training schedule's essentials, not from_config: that copies a saved scheduler's
        # defaults (timestep spacing) differently from a fresh one, so a loaded model would sample differently
        solver = DPMSolverMultistepScheduler(
            num_train_timesteps=config.num_train_timesteps, beta_schedule=config.beta_schedule,
            prediction_type=config.prediction_type, algorithm_type="dpmsolver++", solver_order=2,
            timestep_spacing="linspace")
        solver.set_timesteps(self.sampling_steps)
        gen = torch.Generator(device="cpu")
        gen.manual_seed(seed if seed is not None else int(np.random.SeedSequence().generate_state(1)[0]))
        c = self.image_shape_[2]
        x = torch.randn((wanted.size, c, *self.train_size_), generator=gen).to(device) * solver.init_noise_sigma
        labels = torch.from_numpy(wanted).to(device)
        guided = self.guidance_scale != 1
        if guided:
            labels = torch.cat([labels, torch.full_like(labels, len(self.classes_))])
        with torch.inference_mode():
            for t in solver.timesteps:
                batch = torch.cat([x, x]) if guided else x
                out = self.unet_(batch, t.to(device), class_labels=labels).sample
                if guided:
                    cond, uncond = out.chunk(2)
                    out = uncond + self.guidance_scale * (cond - uncond)
                x = solver.step(out, t, x).prev_sample
        return self._from_model(x)

    def _save_weights(self, folder: Path) -> list[str]:
        self.unet_.save_pretrained(folder / "unet", safe_serialization=True)
        self.scheduler_.save_pretrained(folder / "scheduler")
        return ["unet", "scheduler"]

    def _load_weights(self, folder: Path, meta: dict[str, Any]) -> None:
        from diffusers import DDPMScheduler, UNet2DModel

        device = resolve_device(self.device)
        try:
            self.unet_ = UNet2DModel.from_pretrained(folder / "unet").to(device).eval()
            self.scheduler_ = DDPMScheduler.from_pretrained(folder / "scheduler")
        except (OSError, ValueError) as error:
            raise GeneratorError(f"{folder}: cannot load the diffusion weights ({error})") from None
        self.device_ = device
        self.training_ = dict(meta.get("training") or {})
        self.train_size_ = tuple(self.training_.get("train_size") or self._train_size(*self.image_shape_[:2]))


__all__ = ["DiffusionImageGenerator", "GaussianImageGenerator", "ImageGeneratorBase"]
