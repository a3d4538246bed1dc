"""Labelled images in and out: a class-per-subfolder folder, an ``.npz`` archive, or scikit-learn's digits.

In memory an :class:`ImageSet` holds ``uint8`` images, channels last (``(N, H, W, C)``, C = 1
or 3), integer labels ``0 … K-1`` and the class names. On disk a generated set is one PNG
folder per class name plus ``manifest.json`` (class counts, seed, model), written atomically.

* folder: ``root/<class name>/*.png|*.jpg|*.jpeg``; grayscale when every image is, else RGB;
  every image must have the same size.
* ``.npz``: arrays ``images`` (``(N, H, W)`` or ``(N, H, W, C)``; ``uint8``, or floats in
  [0, 1]) and ``labels`` (integers, or strings), optionally ``class_names``.
* default: the 1,797 8×8 digits bundled with scikit-learn; their 17 grey levels (0–16) map
  to ``round(v * 255 / 16)``, so PNGs convert back exactly (:func:`digits_levels`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from synthkit.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
MANIFEST = "manifest.json"
DIGITS_SOURCE = "scikit-learn digits (1,797 8×8 images)"


@dataclass
class ImageSet:
    """``images``: uint8 ``(N, H, W, C)``; ``labels``: int64 indices into ``classes``."""

    images: np.ndarray
    labels: np.ndarray
    classes: list[str]
    source: str = ""
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.images.dtype != np.uint8 or self.images.ndim != 4 or self.images.shape[-1] not in (1, 3):
            raise DataError(f"{self.source or 'images'}: expected uint8 images shaped (N, H, W, 1|3), "
                            f"got {self.images.dtype} {self.images.shape}")
        if self.labels.shape != (self.images.shape[0],):
            raise DataError(f"{self.source or 'images'}: {self.images.shape[0]} images but labels shaped {self.labels.shape}")
        self.labels = self.labels.astype(np.int64)
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise DataError(f"{self.source or 'images'}: labels must index the {len(self.classes)} classes")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.images.shape[1]), int(self.images.shape[2])

    @property
    def channels(self) -> int:
        return int(self.images.shape[3])

    def take(self, index: np.ndarray) -> ImageSet:
        return ImageSet(self.images[index], self.labels[index], list(self.classes), self.source)

    def unit(self) -> np.ndarray:
        """float32 ``(N, C, H, W)`` in [0, 1]: PyTorch's layout."""
        return np.moveaxis(self.images, -1, 1).astype(np.float32) / 255.0

    def counts(self) -> dict[str, int]:
        n = np.bincount(self.labels, minlength=len(self.classes))
        return {name: int(c) for name, c in zip(self.classes, n)}

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        digest.update(repr((self.images.shape, self.classes)).encode())
        digest.update(self.images.tobytes())
        digest.update(self.labels.tobytes())
        return digest.hexdigest()


def as_uint8(images: Any, *, what: str = "images") -> np.ndarray:
    """``(N, H, W)`` / ``(N, H, W, C)`` uint8 or floats in [0, 1] (or integer 0–255) -> uint8 ``(N, H, W, C)``."""
    try:
        import torch

        if isinstance(images, torch.Tensor):
            images = images.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    array = np.asarray(images)
    if array.ndim == 4 and array.shape[1] in (1, 3) and array.shape[-1] not in (1, 3):
        array = np.moveaxis(array, 1, -1)  # PyTorch's (N, C, H, W): unambiguous here
    if array.ndim == 3:
        array = array[..., None]
    if array.ndim != 4 or array.shape[0] == 0 or array.shape[-1] not in (1, 3):
        raise DataError(f"{what}: expected images shaped (N, H, W) or (N, H, W, C) with C = 1 or 3 (channels last), "
                        f"got shape {array.shape}")
    if array.dtype == np.uint8:
        return np.ascontiguousarray(array)
    if array.dtype.kind not in "iuf":
        raise DataError(f"{what}: images of dtype {array.dtype} are not supported (use uint8 or floats in [0, 1])")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise DataError(f"{what}: the images hold NaN or infinite values")
    low, high = float(array.min()), float(array.max())
    if low < 0 or high > 255:
        raise DataError(f"{what}: pixel values must lie in [0, 1] (floats) or [0, 255], found [{low:g}, {high:g}]")
    if high > 1 or array.dtype.kind in "iu":
        return np.rint(array).astype(np.uint8)
    return np.rint(array * 255).astype(np.uint8)


def _class_names(labels: np.ndarray, names: Sequence[Any] | None, what: str) -> tuple[np.ndarray, list[str]]:
    """Labels as indices 0..K-1 and the class names (sorted label values unless ``names`` is given)."""
    if labels.ndim != 1:
        raise DataError(f"{what}: labels must be one dimension, got shape {labels.shape}")
    if labels.dtype.kind in "iu" and names is not None:
        names = [str(n) for n in names]
        if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
            raise DataError(f"{what}: labels must index the {len(names)} class names")
        return labels.astype(np.int64), names
    if labels.dtype.kind not in "iuUSO":
        raise DataError(f"{what}: labels must be integers or strings, got dtype {labels.dtype}")
    values, index = np.unique(labels, return_inverse=True)
    return index.astype(np.int64), [str(v) for v in values]


def from_arrays(images: Any, labels: Any, *, class_names: Sequence[Any] | None = None, source: str = "arrays") -> ImageSet:
    """An :class:`ImageSet` from arrays (see :func:`as_uint8`); labels are integers or strings."""
    if isinstance(images, ImageSet):
        return images
    pixels = as_uint8(images, what=source)
    try:
        import torch

        if isinstance(labels, torch.Tensor):
            labels = labels.detach().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    if labels is None:
        raise DataError(f"{source}: labels are needed (one class per image)")
    labels = np.asarray(labels)
    if labels.shape != (pixels.shape[0],):
        raise DataError(f"{source}: {pixels.shape[0]} images but labels shaped {labels.shape}")
    index, names = _class_names(labels, class_names, source)
    return ImageSet(pixels, index, names, source)


def load_digits_images() -> ImageSet:
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.rint(digits.images * 255.0 / 16.0).astype(np.uint8)[..., None]
    return ImageSet(pixels, digits.target.astype(np.int64), [str(i) for i in range(10)], DIGITS_SOURCE)


def digits_levels(images: np.ndarray) -> np.ndarray:
    """8-bit images back on the digits' 0–16 scale (integers)."""
    return np.rint(np.asarray(images, dtype=np.float64) * 16.0 / 255.0).astype(np.int64)


def load_images(path: str | os.PathLike | None = None) -> ImageSet:
    """Labelled images from ``path`` (a class-per-subfolder folder or an ``.npz``); default: digits."""
    if path is None:
        return load_digits_images()
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or folder")
    if path.suffix.lower() == ".npz":
        return _read_npz(path)
    raise DataError(f"{path}: give a folder with one subfolder per class (PNG/JPEG) or an .npz of images and labels")


def _read_npz(path: Path) -> ImageSet:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "images" not in archive or "labels" not in archive:
                raise DataError(f"{path}: an image archive needs arrays named images and labels "
                                f"(it has {', '.join(archive.files) or 'none'})")
            images, labels = archive["images"], archive["labels"]
            names = archive["class_names"].tolist() if "class_names" in archive else None
    except (OSError, ValueError) as error:
        raise DataError(f"{path}: cannot be read as a NumPy .npz archive: {error}") from None
    return from_arrays(images, labels, class_names=names, source=str(path))


def _read_folder(root: Path) -> ImageSet:
    from PIL import Image, UnidentifiedImageError

    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DataError(f"{root}: expected one subfolder of images per class, found no subfolders")
    files: list[tuple[Path, int]] = []
    for index, folder in enumerate(folders):
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not found:
            raise DataError(f"{folder}: no PNG or JPEG images in this class folder")
        files += [(p, index) for p in found]
    pictures = []
    for file, _ in files:
        try:
            with Image.open(file) as image:
                image.load()
                pictures.append(image.copy())
        except (UnidentifiedImageError, OSError) as error:
            raise DataError(f"{file}: not a readable image ({error})") from None
    sizes = {p.size for p in pictures}
    if len(sizes) > 1:
        first = pictures[0].size
        odd_file, odd = next((f, p) for (f, _), p in zip(files, pictures) if p.size != first)
        raise DataError(f"{root}: images differ in size ({files[0][0]} is {first[0]}×{first[1]}, {odd_file} is "
                        f"{odd.size[0]}×{odd.size[1]}); resize them to one size first")
    gray = all(p.mode in ("1", "L", "LA", "I", "I;16", "F") for p in pictures)
    mode = "L" if gray else "RGB"
    pixels = np.stack([np.asarray(p.convert(mode), dtype=np.uint8) for p in pictures])
    if gray:
        pixels = pixels[..., None]
    labels = np.array([i for _, i in files], dtype=np.int64)
    names = [f.name for f in folders]
    manifest = root / MANIFEST
    notes = [f"{root}: read {len(files):,} images in {len(names)} classes"]
    if manifest.is_file():
        notes.append(f"{root}: has a {MANIFEST} (a synthkit output folder?)")
    return ImageSet(pixels, labels, names, str(root), notes)


def _safe_folder_name(name: str) -> str:
    bad = set('/\\:*?"<>|\0')
    cleaned = "".join("_" if c in bad or ord(c) < 32 else c for c in name).strip()
    return cleaned if cleaned not in ("", ".", "..") else f"class_{abs(hash(name)) % 10**6}"


def write_image_folder(images: ImageSet, out: str | os.PathLike, *, manifest: dict[str, Any] | None = None) -> Path:
    """Write one PNG folder per class plus ``manifest.json``; the folder is replaced atomically."""
    from PIL import Image

    from synthkit.data.io import atomic_path

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    folders = {}
    for name in images.classes:
        folder = _safe_folder_name(name)
        if folder in folders.values():
            raise DataError(f"classes {name!r} and another map to the same folder name {folder!r}")
        folders[name] = folder
    counts = images.counts()
    width = len(str(max(counts.values(), default=1)))
    with atomic_path(out, directory=True) as tmp:
        seen = dict.fromkeys(images.classes, 0)
        for name in images.classes:
            (tmp / folders[name]).mkdir()
        for pixels, label in zip(images.images, images.labels):
            name = images.classes[int(label)]
            array = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
            Image.fromarray(array, mode="L" if array.ndim == 2 else "RGB").save(
                tmp / folders[name] / f"{seen[name]:0{width}d}.png")
            seen[name] += 1
        meta = {
            "format": "synthkit-images",
            "images": len(images),
            "size": {"height": images.size[0], "width": images.size[1], "channels": images.channels},
            "classes": {name: {"folder": folders[name], "count": counts[name]} for name in images.classes},
            **(manifest or {}),
        }
        (tmp / MANIFEST).write_text(json.dumps(meta, indent=2, default=str))
    return out


__all__ = ["ImageSet", "as_uint8", "digits_levels", "from_arrays", "load_digits_images", "load_images",
           "write_image_folder"]
