"""Pictures in the run folder: the forest plot of the results, a grid of generated images.

matplotlib's object API with the Agg canvas: no pyplot, no global backend switched under
the caller's feet. Files are written atomically.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from synthkit.data.io import atomic_path


def _save(figure, path: str | os.PathLike) -> Path:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    path = Path(path)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=path.suffix.lstrip(".") or "png", dpi=120, bbox_inches="tight")
    return path


def forest_plot(results: dict[str, Any], path: str | os.PathLike) -> Path:
    """Left: each arm's mean headline metric with its interval; right: the paired difference to real."""
    from matplotlib.figure import Figure

    metric = results["headline_metric"]
    arms = results["arms"]
    names = list(arms)
    level = results["ci"]
    figure = Figure(figsize=(10, 1.4 + 0.45 * len(names)))
    left, right = figure.subplots(1, 2, sharey=True)
    ys = np.arange(len(names))[::-1]
    for y, name in zip(ys, names):
        entry = arms[name][metric]
        colour = "0.3" if arms[name]["kind"] == "real" else "tab:blue"
        left.errorbar(entry["mean"], y, xerr=[[entry["mean"] - entry["ci_low"]], [entry["ci_high"] - entry["mean"]]],
                      fmt="o", color=colour, capsize=3)
        if "vs_real" in entry:
            diff = entry["vs_real"]
            significant = diff["ci_low"] > 0 or diff["ci_high"] < 0
            right.errorbar(diff["mean"], y, xerr=[[diff["mean"] - diff["ci_low"]], [diff["ci_high"] - diff["mean"]]],
                           fmt="o", color="tab:green" if diff["ci_low"] > 0 else "tab:red" if diff["ci_high"] < 0 else "tab:blue",
                           capsize=3, markerfacecolor=None if significant else "white")
            right.annotate(f"won {diff['won']:.0%}", (diff["ci_high"], y), xytext=(6, -3), textcoords="offset points",
                           fontsize=8, color="0.3")
    real = arms["real"][metric]["mean"]
    left.axvline(real, color="0.7", lw=0.8, ls="--")
    right.axvline(0, color="0.5", lw=0.8)
    left.set_yticks(ys, names)
    left.set_xlabel(f"{metric} on the holdout (mean, {level:.0%} interval)")
    right.set_xlabel(f"{metric} minus real, paired by replicate")
    bootstrap = results["bootstrap"]
    figure.suptitle(f"{results['recipe']}: {results['model']}, {bootstrap} bootstrap replicate{'s' if bootstrap != 1 else ''}, "
                    f"percentile intervals", fontsize=10)
    for axis in (left, right):
        axis.grid(axis="x", color="0.9")
        axis.margins(x=0.25)
    return _save(figure, path)


def image_grid(images: np.ndarray, labels: np.ndarray, path: str | os.PathLike, *, per_class: int = 8) -> Path:
    """Up to ``per_class`` images of each class, one row per class (channels last, values in [0, 1])."""
    from matplotlib.figure import Figure

    classes = np.unique(labels)
    figure = Figure(figsize=(per_class * 0.8, len(classes) * 0.8 + 0.4))
    axes = np.atleast_2d(figure.subplots(len(classes), per_class, squeeze=False))
    for row, klass in zip(axes, classes):
        picks = np.flatnonzero(labels == klass)[:per_class]
        for column, axis in enumerate(row):
            axis.set_axis_off()
            if column < picks.size:
                image = np.clip(images[picks[column]], 0, 1)
                axis.imshow(image, cmap="gray" if image.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
        row[0].set_title(str(klass), fontsize=7, loc="left")
    figure.suptitle("generated images, one row per class", fontsize=9)
    return _save(figure, path)


__all__ = ["forest_plot", "image_grid"]
