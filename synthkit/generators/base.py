"""The generator contract, shared by every tabular generator.

scikit-learn style: ``__init__`` stores keyword-only hyperparameters, ``fit`` validates and
learns (state ends in ``_``), ``sample`` returns a polars DataFrame and the same seed gives
the same rows. Subclasses only see the *model frame* (numeric + categorical, no missing
values, see :mod:`synthkit.data.prep`) and implement ``_fit``, ``_sample`` and the weights.

A saved model is a folder: ``synthkit.json`` (generator, parameters, schema, preprocessing
state, package versions, a fingerprint of the training data) plus weights. Formats that
pickle are marked ``trusted_only`` and load only when the caller passes ``trust=True``.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import json
import os
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl

from synthkit._runtime import child_seeds, package_versions, progress
from synthkit.data.io import atomic_path, frame_fingerprint
from synthkit.data.prep import TablePrep
from synthkit.data.schema import Schema
from synthkit.errors import (
    ConditionError,
    ConfigError,
    DataError,
    GeneratorError,
    NotFittedError,
    UntrustedModelError,
)

FORMAT_VERSION = 1
MODEL_FILE = "synthkit.json"
# Sampling runs in batches of this many rows: memory stays bounded and progress shows.
SAMPLE_BATCH = 100_000


def as_polars(data: Any, *, what: str = "data") -> pl.DataFrame:
    """Accept a polars or pandas DataFrame (or a path) and return polars."""
    if isinstance(data, pl.DataFrame):
        return data
    if isinstance(data, pl.LazyFrame):
        return data.collect()
    if isinstance(data, (str, os.PathLike)):
        from synthkit.data.io import read_table

        return read_table(data)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        return pl.from_pandas(data)
    raise DataError(f"{what}: expected a polars or pandas DataFrame, got {type(data).__name__}")


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def write_model_folder(generator: Any, path: str | os.PathLike, fields: dict[str, Any]) -> Path:
    """Write a fitted generator's weights and ``synthkit.json`` (the common fields plus
    ``fields``) to the folder ``path``, replaced atomically; any modality."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise GeneratorError(f"{path}: exists and is not a folder")
    with atomic_path(path, directory=True) as tmp:
        weights = generator._save_weights(tmp)
        meta = {
            "format": "synthkit-model",
            "format_version": FORMAT_VERSION,
            "generator": generator.name,
            "modality": generator.modality,
            "params": _jsonable(generator.get_params()),
            "trusted_only": generator.trusted_only,
            "weights": weights,
            **fields,
            "fit_seconds": round(generator.fit_seconds_, 3),
            "versions": package_versions(),
            "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        (tmp / MODEL_FILE).write_text(json.dumps(meta, indent=2))
    return path


class Parameters:
    """scikit-learn style parameters: the keyword arguments of ``__init__``, stored as attributes."""

    name: ClassVar[str] = ""

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [
            p.name
            for p in signature.parameters.values()
            if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any):
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ConfigError(f"{self.name}: unknown parameter {key!r} (parameters: {', '.join(valid)})")
            setattr(self, key, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


class BaseGenerator(Parameters):
    """Base class of every generator. Subclasses set ``name`` and implement the ``_`` hooks."""

    name: ClassVar[str] = ""
    modality: ClassVar[str] = "tabular"
    #: the weights format unpickles objects: loading runs code from the file
    trusted_only: ClassVar[bool] = False
    #: True when ``_sample`` honours ``conditions`` itself (a conditional model), so that one
    #: generator conditioned on the class serves every class; otherwise conditions are met by
    #: rejection sampling, and augmenters fit one generator per class instead
    _native_conditions: ClassVar[bool] = False

    def _check_params(self) -> None:
        """Validate hyperparameters (called by ``fit``); raise :class:`ConfigError`."""
        for key in ("epochs", "batch_size"):
            value = getattr(self, key, None)
            if value is not None and (not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0):
                raise ConfigError(f"{self.name}: {key} must be a positive integer, not {value!r}")

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        """Hyperparameters for ``synthkit tune``, drawn from an Optuna ``trial``.

        Training length (``epochs``) is not part of it: the tuner sets it per budget rung.
        """
        raise ConfigError(f"{cls.name}: has no search space, so synthkit tune cannot tune it")

    # -- contract -------------------------------------------------------------------
    def fit(self, data: Any, *, schema: Schema | dict | str | os.PathLike | None = None) -> BaseGenerator:
        """Learn from ``data`` (polars or pandas). ``schema`` overrides the inferred column kinds."""
        self._check_params()
        frame = as_polars(data)
        if frame.height == 0:
            raise DataError("data: the table has no rows")
        if frame.width == 0:
            raise DataError("data: the table has no columns")
        if isinstance(schema, (str, os.PathLike)):
            schema = Schema.from_yaml(schema)
        elif isinstance(schema, dict):
            schema = Schema.from_dict(schema)
        schema = schema if schema is not None else Schema.infer(frame)
        started = time.perf_counter()
        prep = TablePrep(schema).fit(frame, seed=getattr(self, "random_state", None))
        model_frame = prep.to_model(frame)
        kinds = prep.model_kinds()
        self.schema_ = schema
        self.prep_ = prep
        self.n_training_rows_ = frame.height
        self.fingerprint_ = frame_fingerprint(frame)
        self.model_kinds_ = kinds
        if model_frame.width:
            self._fit(model_frame, kinds)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def sample(
        self,
        n: int,
        *,
        conditions: dict[str, Any] | None = None,
        seed: int | None = None,
        id_offset: int = 0,
    ) -> pl.DataFrame:
        """``n`` synthetic rows. ``conditions`` (``{column: value}``) holds in every row.

        ``id_offset`` shifts regenerated ids, so separately sampled shards get distinct ids.
        """
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
            raise ConfigError(f"number of rows must be a positive integer, not {n!r}")
        model_conditions = self.prep_.model_conditions(conditions)
        model_seed, restore_seed = child_seeds(seed, 2) if seed is not None else (None, None)
        if self.model_kinds_:
            model = self._sample_conditioned(int(n), model_conditions, model_seed)
        else:
            model = pl.DataFrame()
        return self.prep_.from_model(model, int(n), seed=restore_seed, id_offset=id_offset)

    # -- sampling helpers -------------------------------------------------------------
    def _sample_batches(self, n: int, seed: int | None, conditions: dict[str, Any] | None = None) -> pl.DataFrame:
        batches = -(-n // SAMPLE_BATCH)
        seeds = child_seeds(seed, batches) if seed is not None else [None] * batches
        parts = []
        with progress("Sampling rows", n, enabled=getattr(self, "verbose", False) and n > SAMPLE_BATCH) as advance:
            for i, batch_seed in enumerate(seeds):
                size = min(SAMPLE_BATCH, n - i * SAMPLE_BATCH)
                parts.append(self._sample(size, seed=batch_seed, conditions=conditions))
                advance(size)
        return pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]

    def _sample_conditioned(self, n: int, conditions: dict[str, Any], seed: int | None) -> pl.DataFrame:
        if not conditions:
            return self._sample_batches(n, seed)
        # Reject sampling on top of whatever native conditioning the subclass has: rows that
        # miss the condition are dropped, and batches grow with the observed acceptance rate.
        kept: list[pl.DataFrame] = []
        got = tried = 0
        batch = max(n, 1000)
        max_draws = max(200 * n, 1_000_000)
        seeds = iter(child_seeds(seed, 10_000) if seed is not None else [None] * 10_000)
        while got < n and tried < max_draws:
            rows = self._sample_batches(batch, next(seeds), conditions)
            tried += rows.height
            mask = pl.Series([True] * rows.height)
            for column, value in conditions.items():
                col = rows.get_column(column)
                if isinstance(value, str):
                    mask &= col.cast(pl.String) == value
                else:
                    mask &= (col.cast(pl.Float64) - value).abs() <= self.prep_.condition_tolerance(column)
            hit = rows.filter(mask)
            kept.append(hit)
            got += hit.height
            rate = max(got, 1) / tried
            batch = int(min(max((n - got) / rate * 1.2, 1000), 1_000_000))
        if got < n:
            shown = ", ".join(f"{k}={v!r}" for k, v in conditions.items())
            raise ConditionError(
                f"could only generate {got} of {n} rows with {shown} after {tried} draws "
                f"(acceptance {got / max(tried, 1):.4%}); the model rarely produces this value — "
                "try a generator that conditions natively (ctgan, copulagan) or fewer rows"
            )
        out = pl.concat(kept, how="vertical_relaxed").head(n)
        fixed = [pl.lit(v, dtype=pl.Float64).alias(k) for k, v in conditions.items() if not isinstance(v, str)]
        return out.with_columns(fixed) if fixed else out

    def _check_fitted(self) -> None:
        if not hasattr(self, "prep_"):
            raise NotFittedError(f"{self.name or type(self).__name__} is not fitted yet: call fit(data) before sample/save")

    # -- persistence ----------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted generator to the folder ``path`` (replaced atomically)."""
        self._check_fitted()
        return write_model_folder(self, path, {
            "schema": self.schema_.model_dump(),
            "prep": self.prep_.state(),
            "model_kinds": self.model_kinds_,
            "training_data": {"rows": self.n_training_rows_, "sha256": self.fingerprint_},
        })

    @classmethod
    def load(cls, path: str | os.PathLike, *, trust: bool = False) -> BaseGenerator:
        """Load a folder written by :meth:`save`. Pickle-based formats need ``trust=True``."""
        meta = read_model_meta(path)
        from synthkit.generators import get

        klass = get(meta["generator"])
        if cls is not BaseGenerator and not issubclass(klass, cls):
            raise GeneratorError(f"{path}: holds a {meta['generator']!r} model, not {cls.name!r}")
        if meta.get("modality", "tabular") != klass.modality:
            raise GeneratorError(f"{path}: the model says modality {meta.get('modality')!r}, but "
                                 f"{meta['generator']!r} makes {klass.modality} data")
        if klass.modality != "tabular":
            return klass._load_folder(Path(path), meta)
        if meta.get("trusted_only") and not trust:
            raise UntrustedModelError(
                f"{path}: this {meta['generator']} model is stored with pickle, which can run arbitrary "
                "code when loaded; load it only if you trust its source: trust=True (CLI: --trust-model)"
            )
        defaults = inspect.signature(klass.__init__).parameters
        params = {
            key: tuple(value) if isinstance(value, list) and key in defaults and isinstance(defaults[key].default, tuple) else value
            for key, value in meta["params"].items()
        }
        generator = klass(**params)
        generator.schema_ = Schema.model_validate(meta["schema"])
        generator.prep_ = TablePrep.from_state(generator.schema_, meta["prep"])
        generator.model_kinds_ = meta["model_kinds"]
        generator.n_training_rows_ = meta["training_data"]["rows"]
        generator.fingerprint_ = meta["training_data"]["sha256"]
        generator.fit_seconds_ = meta.get("fit_seconds", 0.0)
        if generator.model_kinds_:
            generator._load_weights(Path(path), meta)
        return generator

    # -- subclass hooks ---------------------------------------------------------------
    def _fit(self, frame: pl.DataFrame, kinds: dict[str, str]) -> None:
        raise NotImplementedError

    def _sample(self, n: int, *, seed: int | None, conditions: dict[str, Any] | None = None) -> pl.DataFrame:
        """``n`` rows of the model frame. ``conditions`` is a hint for native conditioning."""
        raise NotImplementedError

    def _save_weights(self, folder: Path) -> list[str]:
        raise NotImplementedError

    def _load_weights(self, folder: Path, meta: dict[str, Any]) -> None:
        raise NotImplementedError


def read_model_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The parsed ``synthkit.json`` of a saved model folder, or a clear error."""
    path = Path(path)
    file = path / MODEL_FILE
    if not path.is_dir():
        raise GeneratorError(f"{path}: no such model folder")
    if not file.is_file():
        raise GeneratorError(f"{path}: not a synthkit model folder (no {MODEL_FILE})")
    try:
        meta = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise GeneratorError(f"{file}: not valid JSON ({error})") from None
    if meta.get("format") != "synthkit-model":
        raise GeneratorError(f"{file}: not a synthkit model description")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise GeneratorError(
            f"{file}: written by a newer synthkit (format {meta['format_version']}); upgrade synthkit to load it"
        )
    return meta
