"""SDV 2.x single-table synthesizers behind synthkit's generator contract.

SDV gets pandas here and nowhere deeper. Its models are saved with cloudpickle, so a saved
SDV generator is ``trusted_only``. GPU-trained models are moved to the CPU before saving,
so they load on machines without a GPU (SDV #333).
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from synthkit._runtime import resolve_device, seeded
from synthkit.errors import GeneratorError
from synthkit.generators.base import BaseGenerator

TABLE = "table"
WEIGHTS = "sdv_model.pkl"


def _metadata(kinds: dict[str, str]):
    from sdv.metadata import Metadata

    columns = {
        name: {"sdtype": "numerical"} if kind == "numeric" else {"sdtype": "categorical"}
        for name, kind in kinds.items()
    }
    return Metadata.load_from_dict({"tables": {TABLE: {"columns": columns}}})


@contextlib.contextmanager
def _quiet_sdv():
    """SDV logs every fit/sample and warns about things synthkit already handled."""
    loggers = [logging.getLogger(n) for n in ("sdv", "rdt", "copulas", "SingleTableSynthesizer")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


class _SDVGenerator(BaseGenerator):
    trusted_only: ClassVar[bool] = True
    _sdv_class: ClassVar[str]

    def _sdv_kwargs(self) -> dict[str, Any]:
        return {}

    def _fit(self, frame: pl.DataFrame, kinds: dict[str, str]) -> None:
        import sdv.single_table as st

        klass = getattr(st, self._sdv_class)
        with _quiet_sdv():
            synth = klass(_metadata(kinds), **self._sdv_kwargs())
            with seeded(self.random_state):
                try:
                    synth.fit({TABLE: frame.to_pandas()})
                except (ValueError, RuntimeError, MemoryError) as error:
                    raise GeneratorError(f"{self.name}: SDV could not fit this table: {error}") from None
        self.sdv_ = synth

    def _sample(self, n: int, *, seed: int | None, conditions: dict[str, Any] | None = None) -> pl.DataFrame:
        synth = self.sdv_
        with _quiet_sdv(), seeded(seed):
            synth.reset_sampling()
            if seed is not None:
                synth._set_random_state(seed)
            frame = None
            if self._native_conditions and conditions:
                frame = self._sample_native(n, conditions)
            if frame is None:
                frame = synth.sample(n)[TABLE]
        return pl.from_pandas(frame)

    def _sample_native(self, n: int, conditions: dict[str, Any]):
        """CTGAN's conditional vector on one categorical column: makes rare values reachable."""
        categorical = [(k, v) for k, v in conditions.items() if isinstance(v, str)]
        if len(categorical) != 1:
            return None
        column, value = categorical[0]
        try:
            raw = self.sdv_._model.sample(n, condition_column=column, condition_value=value)
            return self.sdv_._data_processor.reverse_transform(raw)
        except Exception:  # noqa: BLE001 - any failure falls back to plain reject sampling
            return None

    def _save_weights(self, folder: Path) -> list[str]:
        model = getattr(self.sdv_, "_model", None)
        if model is not None and hasattr(model, "set_device"):
            model.set_device("cpu")
        buffer = io.BytesIO()
        import cloudpickle

        cloudpickle.dump(self.sdv_, buffer)
        (folder / WEIGHTS).write_bytes(buffer.getvalue())
        return [WEIGHTS]

    def _load_weights(self, folder: Path, meta: dict[str, Any]) -> None:
        import pickle

        try:
            with _quiet_sdv(), open(folder / WEIGHTS, "rb") as handle:
                self.sdv_ = pickle.load(handle)
        except FileNotFoundError:
            raise GeneratorError(f"{folder}: {WEIGHTS} is missing") from None
        except Exception as error:  # noqa: BLE001 - a broken or foreign pickle
            raise GeneratorError(f"{folder / WEIGHTS}: cannot be loaded: {error}") from None
        model = getattr(self.sdv_, "_model", None)
        if model is not None and hasattr(model, "set_device"):
            model.set_device(resolve_device(getattr(self, "device", "cpu")))


class GaussianCopulaGenerator(_SDVGenerator):
    """SDV's GaussianCopulaSynthesizer: marginals + a Gaussian copula; fits in seconds."""

    name = "gaussian_copula"
    _sdv_class = "GaussianCopulaSynthesizer"

    def __init__(self, *, default_distribution: str = "beta", random_state: int | None = None, verbose: bool = True):
        self.default_distribution = default_distribution
        self.random_state = random_state
        self.verbose = verbose

    def _sdv_kwargs(self) -> dict[str, Any]:
        return {"default_distribution": self.default_distribution}

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        # gaussian_kde is left out: its sampling cost grows with the training rows
        choices = ["norm", "beta", "truncnorm", "uniform", "gamma"]
        return {"default_distribution": trial.suggest_categorical("default_distribution", choices)}

    def _check_params(self) -> None:
        allowed = ("norm", "beta", "truncnorm", "uniform", "gamma", "gaussian_kde")
        if self.default_distribution not in allowed:
            from synthkit.errors import ConfigError

            raise ConfigError(f"gaussian_copula: default_distribution must be one of {', '.join(allowed)}")


class _NeuralSDV(_SDVGenerator):
    def _sdv_kwargs(self) -> dict[str, Any]:
        kwargs = {k: getattr(self, k) for k in self._model_params}
        kwargs.update(epochs=self.epochs, batch_size=self.batch_size, verbose=self.verbose)
        kwargs["enable_gpu"] = resolve_device(self.device) != "cpu"
        return kwargs

    _model_params: ClassVar[tuple[str, ...]] = ()

    def _check_params(self) -> None:
        super()._check_params()
        resolve_device(self.device)
        pac = getattr(self, "pac", 1)
        if self.batch_size % 2 or self.batch_size % pac:
            from synthkit.errors import ConfigError

            raise ConfigError(f"{self.name}: batch_size must be even and a multiple of pac={pac}, not {self.batch_size}")


class CTGANGenerator(_NeuralSDV):
    """SDV's CTGANSynthesizer: mode-specific normalisation + a conditional GAN."""

    name = "ctgan"
    _sdv_class = "CTGANSynthesizer"
    _native_conditions = True
    _model_params = ("embedding_dim", "generator_dim", "discriminator_dim", "generator_lr", "discriminator_lr", "pac")

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        embedding_dim: int = 128,
        generator_dim: tuple[int, ...] = (256, 256),
        discriminator_dim: tuple[int, ...] = (256, 256),
        generator_lr: float = 2e-4,
        discriminator_lr: float = 2e-4,
        pac: int = 10,
        device: str = "auto",
        random_state: int | None = None,
        verbose: bool = True,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.generator_dim = generator_dim
        self.discriminator_dim = discriminator_dim
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.pac = pac
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        width = trial.suggest_categorical("width", [128, 256, 512])
        depth = trial.suggest_int("depth", 1, 3)
        return {
            "embedding_dim": trial.suggest_categorical("embedding_dim", [64, 128, 256]),
            "generator_dim": (width,) * depth,
            "discriminator_dim": (width,) * depth,
            "generator_lr": trial.suggest_float("generator_lr", 5e-5, 1e-3, log=True),
            "discriminator_lr": trial.suggest_float("discriminator_lr", 5e-5, 1e-3, log=True),
            "batch_size": trial.suggest_categorical("batch_size", [200, 500, 1000]),  # multiples of pac=10
        }


class CopulaGANGenerator(CTGANGenerator):
    """SDV's CopulaGANSynthesizer: CTGAN on Gaussian-copula-transformed numerics."""

    name = "copulagan"
    _sdv_class = "CopulaGANSynthesizer"
    _native_conditions = False  # its processed frame differs from CTGAN's


class TVAEGenerator(_NeuralSDV):
    """SDV's TVAESynthesizer: a variational autoencoder over CTGAN's encoding."""

    name = "tvae"
    _sdv_class = "TVAESynthesizer"
    _model_params = ("embedding_dim", "compress_dims", "decompress_dims", "loss_factor")

    def __init__(
        self,
        *,
        epochs: int = 300,
        batch_size: int = 500,
        embedding_dim: int = 128,
        compress_dims: tuple[int, ...] = (128, 128),
        decompress_dims: tuple[int, ...] = (128, 128),
        loss_factor: float = 2.0,
        device: str = "auto",
        random_state: int | None = None,
        verbose: bool = True,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.compress_dims = compress_dims
        self.decompress_dims = decompress_dims
        self.loss_factor = loss_factor
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @classmethod
    def search_space(cls, trial: Any) -> dict[str, Any]:
        width = trial.suggest_categorical("width", [64, 128, 256])
        depth = trial.suggest_int("depth", 1, 3)
        return {
            "embedding_dim": trial.suggest_categorical("embedding_dim", [32, 64, 128]),
            "compress_dims": (width,) * depth,
            "decompress_dims": (width,) * depth,
            "loss_factor": trial.suggest_float("loss_factor", 1.0, 4.0),
            "batch_size": trial.suggest_categorical("batch_size", [200, 500, 1000]),
        }
