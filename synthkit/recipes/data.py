"""A recipe's real data: read, checked, split once into a training split and a fixed holdout.

Tables stay polars frames with their :class:`~synthkit.data.schema.Schema`; images are float32
arrays in ``[0, 1]``, channels last (``(N, H, W)`` or ``(N, H, W, C)``, the layout image
generators are fitted on) with integer labels.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from synthkit.errors import ConfigError, DataError
from synthkit.recipes.schema import DataSection

#: each class needs at least this many rows in the training split and in the holdout
MIN_PER_CLASS = 2


@dataclass
class Images:
    """Labelled images: ``images`` float32 in [0, 1], channels last; ``labels`` int64."""

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def take(self, index: np.ndarray) -> Images:
        return Images(self.images[index], self.labels[index])

    def nchw(self) -> np.ndarray:
        """``(N, C, H, W)``: PyTorch's layout."""
        return self.images[:, None] if self.images.ndim == 3 else np.moveaxis(self.images, -1, 1)


@dataclass
class Dataset:
    """The loaded data: what every step of a run starts from."""

    modality: str  # "table" | "images"
    source: str
    sha256: str
    target: str | None
    frame: pl.DataFrame | None = None  # tables: every row (after drop/sample), target included
    images: Images | None = None
    schema: Any = None  # tables: a Schema
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.frame.height if self.frame is not None else len(self.images)

    def labels(self) -> np.ndarray | None:
        if self.modality == "images":
            return self.images.labels
        return None if self.target is None else self.frame.get_column(self.target).to_numpy()

    def take(self, index: np.ndarray) -> pl.DataFrame | Images:
        return self.images.take(index) if self.modality == "images" else self.frame[index]


@dataclass
class Split:
    """The fixed split: row positions into the dataset, sorted."""

    train: np.ndarray
    holdout: np.ndarray
    classes: list[Any]  # every class, in sorted order (tables: as they are in the target column)
    positive: int | None  # index into classes of the positive class (binary targets)

    def describe(self, data: Dataset) -> dict[str, Any]:
        labels = data.labels()
        out: dict[str, Any] = {"train_rows": int(self.train.size), "holdout_rows": int(self.holdout.size)}
        if labels is not None:
            for part, index in (("train", self.train), ("holdout", self.holdout)):
                values, counts = np.unique(labels[index], return_counts=True)
                out[f"{part}_classes"] = {str(_plain(v)): int(n) for v, n in zip(values, counts)}
            if self.positive is not None:
                out["positive_class"] = _plain(self.classes[self.positive])
        return out


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


# -------------------------------------------------------------------------------------------
# reading
# -------------------------------------------------------------------------------------------

def load_data(section: DataSection) -> Dataset:
    """Read the data a recipe names and apply ``drop`` and the schema; see :func:`check_target`."""
    return _load_images(section) if section.modality == "images" else _load_table(section)


def _load_table(section: DataSection) -> Dataset:
    from synthkit.data import Schema, read_table
    from synthkit.data.io import file_sha256

    if section.demo is not None:
        from synthkit.data.demo import demo_path, load_demo

        frame, source, sha = load_demo(), "demo: UCI Adult sample (10,000 rows)", file_sha256(demo_path())
    else:
        path = Path(section.path)
        frame = read_table(path, na_values=section.na_values)
        source, sha = str(path), file_sha256(path)
    unknown = [c for c in section.drop if c not in frame.columns]
    if unknown:
        raise ConfigError(f"data.drop: column(s) {', '.join(unknown)} are not in the data (columns: {', '.join(frame.columns)})")
    frame = frame.drop(section.drop)
    if section.schema_file is None:
        schema = Schema.infer(frame)
    elif isinstance(section.schema_file, dict):
        schema = Schema.from_dict(section.schema_file, source="data.schema")
    else:
        schema = Schema.from_yaml(section.schema_file)
    if section.drop and isinstance(section.schema_file, (str, dict)):
        schema = Schema(columns={n: s for n, s in schema.columns.items() if n not in section.drop})
    frame = schema.conform(frame, source=source)
    return Dataset("table", source, sha, section.target, frame=frame, schema=schema)


def check_target(data: Dataset) -> None:
    """A table's target must be a class column with at least two classes and no missing values."""
    from synthkit.augment.table import _check_target

    if data.modality == "table" and data.target is not None:
        _check_target(data.frame, data.target)


def _load_images(section: DataSection) -> Dataset:
    if section.demo == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        images = (digits.images / 16.0).astype(np.float32)
        labels = digits.target.astype(np.int64)
        source = "demo: scikit-learn digits (1,797 8×8 images)"
        sha = hashlib.sha256(images.tobytes() + labels.tobytes()).hexdigest()
    else:
        from synthkit.data.images import load_images
        from synthkit.data.io import file_sha256

        path = Path(section.path)
        loaded = load_images(path)  # an .npz of images and labels (or a folder of class subfolders)
        images = (loaded.images / 255.0).astype(np.float32)
        images = images[..., 0] if images.shape[-1] == 1 else images
        labels = loaded.labels
        source, sha = str(path), file_sha256(path)
    if section.drop:
        raise ConfigError("data.drop: images have no columns to drop")
    if section.schema_file is not None or section.na_values:
        raise ConfigError("data.schema / data.na_values: apply to tables, not images")
    data = Dataset("images", source, sha, section.target or "label", images=Images(images, labels))
    if np.unique(labels).size < 2:
        raise DataError(f"{source}: the images have a single class; there is nothing to classify")
    return data


# -------------------------------------------------------------------------------------------
# seeds and splitting
# -------------------------------------------------------------------------------------------

def run_seeds(seed: int) -> dict[str, int]:
    """The seeds of a run's steps, all derived from the recipe's seed."""
    from synthkit._runtime import child_seeds

    return dict(zip(("split", "generate", "validate", "bootstrap"), child_seeds(seed, 4)))


def stratified_subset(labels: np.ndarray | None, size: int, seed: int, n: int) -> np.ndarray:
    """``size`` positions out of ``n``, stratified on ``labels`` when there are any (sorted)."""
    from sklearn.model_selection import train_test_split

    if size >= n:
        return np.arange(n)
    index = np.arange(n)
    try:
        keep, _ = train_test_split(index, train_size=size, random_state=seed, stratify=labels)
    except ValueError:  # a class too rare to stratify at this size: fall back to a plain draw
        keep, _ = train_test_split(index, train_size=size, random_state=seed)
    return np.sort(keep)


def split_data(data: Dataset, section: DataSection, seed: int) -> tuple[Dataset, Split]:
    """Apply ``sample``, split off the holdout, cap the training split; all stratified and seeded."""
    from sklearn.model_selection import train_test_split

    from synthkit._runtime import child_seeds

    sample_seed, split_seed, cap_seed = child_seeds(seed, 3)
    labels = data.labels()
    if section.sample is not None and section.sample < data.rows:
        keep = stratified_subset(labels, section.sample, sample_seed, data.rows)
        data = Dataset(data.modality, data.source, data.sha256, data.target,
                       frame=data.frame[keep] if data.frame is not None else None,
                       images=data.images.take(keep) if data.images is not None else None,
                       schema=data.schema, notes=data.notes + [f"data.sample: {section.sample:,} of the rows drawn"])
        labels = data.labels()
    index = np.arange(data.rows)
    try:
        train, holdout = train_test_split(index, test_size=section.holdout, random_state=split_seed, stratify=labels)
    except ValueError as error:
        raise DataError(f"data.holdout: cannot hold out {section.holdout:g} of {data.rows:,} rows stratified on "
                        f"{data.target!r}: {error}") from None
    train, holdout = np.sort(train), np.sort(holdout)
    if section.train_rows is not None and section.train_rows < train.size:
        sub = stratified_subset(labels[train] if labels is not None else None, section.train_rows, cap_seed, train.size)
        train = train[sub]
    classes: list[Any] = []
    positive = None
    if labels is not None:
        classes = [_plain(c) for c in np.unique(labels)]
        for part, where in (("training split", train), ("holdout", holdout)):
            values, counts = np.unique(labels[where], return_counts=True)
            short = {str(_plain(v)): int(c) for v, c in zip(values, counts) if c < MIN_PER_CLASS}
            missing = [str(c) for c in classes if c not in {_plain(v) for v in values}]
            if short or missing:
                raise DataError(
                    f"the {part} has too few rows of class(es) {', '.join(missing + list(short))} "
                    f"(each class needs {MIN_PER_CLASS}); use a larger data.sample/train_rows or holdout"
                )
        if len(classes) == 2:
            positive = _positive_index(classes, labels[train], section.positive)
        elif section.positive is not None:
            raise ConfigError(f"data.positive: the target has {len(classes)} classes; a positive class is for two")
    return data, Split(train, holdout, classes, positive)


def _positive_index(classes: list[Any], train_labels: np.ndarray, wanted: Any) -> int:
    if wanted is None:
        counts = [int((train_labels == c).sum()) for c in classes]
        return int(np.argmin(counts))
    for i, c in enumerate(classes):
        if c == wanted and type(c) is not bool or str(c) == str(wanted):
            return i
    if isinstance(wanted, bool):  # YAML reads yes/no/true/on as booleans
        words = {True: ("yes", "true", "on", "y", "1"), False: ("no", "false", "off", "n", "0")}[wanted]
        for i, c in enumerate(classes):
            if str(c).strip().lower() in words:
                return i
    raise ConfigError(f"data.positive: {wanted!r} is not a class of the target (classes: {', '.join(map(str, classes))})")


__all__ = ["Dataset", "Images", "Split", "check_target", "load_data", "run_seeds", "split_data", "stratified_subset"]
