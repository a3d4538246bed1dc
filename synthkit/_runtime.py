"""Small runtime helpers shared across the package: seeds, devices, versions, progress."""

from __future__ import annotations

import contextlib
import importlib.metadata
import platform
import random
import sys
from collections.abc import Callable, Iterator

import numpy as np

from synthkit.errors import ConfigError

_VERSIONED = (
    "synthkit", "polars", "numpy", "pandas", "scikit-learn", "torch", "sdv", "sdmetrics",
    "diffusers", "imbalanced-learn", "great-expectations", "dask", "distributed", "optuna",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and the installed packages that shape results."""
    versions = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def resolve_device(device: str) -> str:
    """``"auto"`` -> ``"cuda"`` when a GPU is visible, else ``"cpu"``; checks explicit choices."""
    if device not in ("auto", "cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ConfigError(f"device must be auto, cpu or cuda, not {device!r}")
    if device == "cpu":
        return "cpu"
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available():
        raise ConfigError(f"device={device!r} was asked for, but PyTorch sees no CUDA GPU (use --device auto or cpu)")
    return device


def child_seeds(seed: int | None, count: int) -> list[int]:
    """``count`` independent 32-bit seeds derived from ``seed`` (fresh entropy when None)."""
    sequence = np.random.SeedSequence(seed)
    return [int(s.generate_state(1)[0]) for s in sequence.spawn(count)]


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed Python's, NumPy's and (if loaded) PyTorch's global generators; restore them after.

    Libraries such as SDV/CTGAN draw from the global generators, so this is how their
    training and sampling become reproducible without leaking state into the caller.
    """
    if seed is None:
        yield
        return
    torch = sys.modules.get("torch")
    py_state = random.getstate()
    np_state = np.random.get_state()
    torch_state = torch.random.get_rng_state() if torch is not None else None
    random.seed(seed)
    np.random.seed(seed % 2**32)
    if torch is not None:
        torch.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        if torch is not None and torch_state is not None:
            torch.random.set_rng_state(torch_state)


@contextlib.contextmanager
def progress(description: str, total: float | None, *, enabled: bool = True) -> Iterator[Callable[[float], None]]:
    """A rich progress bar on stderr; yields ``advance(amount)``. Silent when not enabled."""
    if not enabled:
        yield lambda amount=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total)
        yield lambda amount=1: bar.advance(task, amount)
