"""The generator registry: names -> classes. The CLI, recipes and augmenters use names only.

Classes are imported on first use, so listing generators does not import torch or SDV.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from synthkit.errors import ConfigError

if TYPE_CHECKING:
    from synthkit.generators.base import BaseGenerator


@dataclass(frozen=True)
class Entry:
    target: str  # "module:Class"
    summary: str
    modality: str = "tabular"


_REGISTRY: dict[str, Entry] = {
    "gaussian_copula": Entry(
        "synthkit.generators.sdv:GaussianCopulaGenerator",
        "SDV Gaussian copula: seconds to fit, weakest on multi-modal columns and interactions",
    ),
    "ctgan": Entry(
        "synthkit.generators.sdv:CTGANGenerator",
        "SDV CTGAN (conditional GAN): slow on a CPU, conditions natively on categories",
    ),
    "tvae": Entry(
        "synthkit.generators.sdv:TVAEGenerator",
        "SDV TVAE (variational autoencoder): faster than CTGAN, often as good",
    ),
    "copulagan": Entry(
        "synthkit.generators.sdv:CopulaGANGenerator",
        "SDV CopulaGAN: CTGAN on copula-transformed numerics",
    ),
    "masked_diffusion": Entry(
        "synthkit.generators.diffusion:TabularDiffusionGenerator",
        "Tabular diffusion (Gaussian numbers + masked categories, PyTorch): highest fidelity, minutes on a CPU",
    ),
    "image_diffusion": Entry(
        "synthkit.generators.image:DiffusionImageGenerator",
        "class-conditional diffusion (diffusers UNet, DPM-Solver++ sampling): minutes on a CPU for small images",
        "image",
    ),
    "image_gaussian": Entry(
        "synthkit.generators.image:GaussianImageGenerator",
        "a Gaussian per class in pixel space: seconds, blurry; a baseline for image generators",
        "image",
    ),
}

#: the generator ``synthkit generate`` uses when none is named
DEFAULT = "masked_diffusion"
#: the generator ``synthkit generate --modality image`` uses when none is named
DEFAULT_IMAGE = "image_diffusion"


def register(name: str, target: str, summary: str, *, modality: str = "tabular") -> None:
    """Add a generator under ``name``; ``target`` is ``"module:Class"``."""
    _REGISTRY[name] = Entry(target, summary, modality)


def names(modality: str | None = None) -> list[str]:
    """Registered generator names (of one modality when given)."""
    return [n for n, e in _REGISTRY.items() if modality is None or e.modality == modality]


def describe(modality: str | None = None) -> dict[str, str]:
    """Name -> one-line summary."""
    return {n: _REGISTRY[n].summary for n in names(modality)}


def entry(name: str) -> Entry:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown generator {name!r} (available: {', '.join(_REGISTRY)})") from None


def get(name: str) -> type[BaseGenerator]:
    """The generator class registered under ``name``."""
    module, _, attr = entry(name).target.partition(":")
    return getattr(importlib.import_module(module), attr)


def create(name: str, **params: object) -> BaseGenerator:
    """An unfitted generator ``name`` with ``params``; unknown parameters are a clear error."""
    klass = get(name)
    valid = klass._param_names()
    unknown = [k for k in params if k not in valid]
    if unknown:
        raise ConfigError(f"{name}: unknown parameter(s) {', '.join(unknown)} (parameters: {', '.join(valid)})")
    return klass(**params)


def build(name: str, params: dict | None = None, *, seed: int | None = None, verbose: bool = False,
          device: str | None = None) -> BaseGenerator:
    """An unfitted generator with the common settings it takes (``random_state``, ``verbose``,
    ``device``); settings a generator does not take are skipped, and ``params`` win over them."""
    valid = get(name)._param_names()
    settings: dict[str, object] = {
        k: v for k, v in (("random_state", seed), ("verbose", verbose), ("device", device))
        if k in valid and v is not None
    }
    settings.update(params or {})
    return create(name, **settings)


def load(path: str | os.PathLike, *, trust: bool = False) -> BaseGenerator:
    """Load any saved generator folder (pickle-based formats need ``trust=True``)."""
    from synthkit.generators.base import BaseGenerator

    return BaseGenerator.load(path, trust=trust)


__all__ = ["DEFAULT", "DEFAULT_IMAGE", "build", "create", "describe", "entry", "get", "load", "names", "register"]
