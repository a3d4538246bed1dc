"""Augmenters for training pipelines.

* :class:`SyntheticOverSampler` — an imbalanced-learn sampler whose new minority rows come
  from a synthkit generator (``generator="gaussian_copula"``, ``"tvae"``, …).
* :func:`augment_table` — one call behind ``synthkit augment``: a synthkit generator or an
  imbalanced-learn oversampler (SMOTE, SMOTENC, ADASYN, random, …) on a whole table.
* :class:`MixedImageDataset` and :func:`top_up_classes` — real and generated images for
  PyTorch training (``synthkit.augment.images``).

Names are resolved lazily so that importing one part does not pull in imbalanced-learn,
scikit-learn or torch for the others.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SyntheticOverSampler": "synthkit.augment.tabular",
    "augment_table": "synthkit.augment.table",
    "IMBLEARN_METHODS": "synthkit.augment.table",
    "MixedImageDataset": "synthkit.augment.images",
    "top_up_classes": "synthkit.augment.images",
    "ImageGenerator": "synthkit.augment.images",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'synthkit.augment' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = list(_EXPORTS)
