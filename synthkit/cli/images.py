"""The image paths of ``synthkit generate --modality image`` and ``synthkit validate --modality image``."""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from synthkit.cli._common import console

# options of the tabular path that mean nothing for images: (parameter, option, default)
TABULAR_ONLY_GENERATE = (
    ("conditions", "--condition", ()), ("schema_path", "--schema", None), ("backend", "--backend", None),
    ("address", "--address", None), ("workers", "--workers", None), ("shard_rows", "--shard-rows", None),
    ("segment_by", "--segment-by", None), ("segment_rows", "--segment-rows", ()), ("na_values", "--na-values", ()),
    ("epochs", "--epochs", None), ("report_target", "--target", None), ("trust_model", "--trust-model", False),
)
TABULAR_ONLY_VALIDATE = (
    ("target", "--target", None), ("schema_path", "--schema", None), ("data_docs", "--data-docs", None),
    ("na_values", "--na-values", ()),
)
IMAGE_ONLY_GENERATE = (("per_class", "--per-class", None),)


def refuse(options: tuple, values: dict[str, Any], modality: str) -> None:
    used = [option for key, option, default in options if values.get(key, default) not in (default, None, ())]
    if used:
        raise click.UsageError(f"{', '.join(used)}: not available with --modality {modality}")


def split_images(data, fraction: float, seed: int):
    """(training images, holdout images): a seeded split stratified by class; the holdout is never fitted on."""
    import numpy as np

    from synthkit.errors import DataError

    rng = np.random.default_rng(seed)
    hold = []
    for c in range(len(data.classes)):
        rows = rng.permutation(np.flatnonzero(data.labels == c))
        k = round(rows.size * fraction)
        hold.append(rows[:k])
    hold_index = np.sort(np.concatenate(hold))
    train_index = np.setdiff1d(np.arange(len(data)), hold_index)
    if hold_index.size < 10 or train_index.size < 10:
        raise DataError(f"{len(data)} images are too few to hold out {fraction:.0%} for the report (each side needs 10)")
    return data.take(train_index), data.take(hold_index)


def generate_images(*, data_path: Path | None, name: str | None, rows: int | None, per_class: int | None, out: Path | None,
                    seed: int, hyper: dict[str, Any], max_minutes: float | None, device: str | None,
                    save_model: Path | None, model_path: Path | None, quiet: bool, policy, report_html: Path | None,
                    report_json: Path | None, holdout_fraction: float) -> int:
    from synthkit import generators
    from synthkit.cli.generate import build_generator
    from synthkit.cli.validate import report_after_images
    from synthkit.data.images import load_images, write_image_folder
    from synthkit.errors import ConfigError

    out = out if out is not None else Path("synthetic_images")
    if out.exists() and not out.is_dir():
        raise click.BadParameter(f"{out} is a file; images are written into a folder (one subfolder per class)",
                                 param_hint="--out")
    if per_class is not None and per_class <= 0:
        raise click.BadParameter(f"must be a positive number of images, not {per_class}", param_hint="--per-class")
    if per_class is not None and rows is not None:
        raise click.UsageError("give --per-class or --rows, not both")
    if max_minutes is not None and max_minutes <= 0:
        raise click.BadParameter(f"must be a positive number of minutes, not {max_minutes}", param_hint="--max-minutes")
    holdout = None
    if model_path is not None:
        if data_path or name or hyper or max_minutes is not None:
            raise click.UsageError("--model samples a saved generator: drop --data, --generator, --param and --max-minutes")
        generator = generators.load(model_path)
        if generator.modality != "image":
            raise ConfigError(f"{model_path}: holds a {generator.modality} generator ({generator.name}); "
                              "drop --modality image")
        name, source, fit_s, n_train = generator.name, f"model {model_path}", 0.0, generator.n_training_images_
    else:
        name = name or generators.DEFAULT_IMAGE
        if generators.entry(name).modality != "image":
            raise ConfigError(f"generator {name!r} makes {generators.entry(name).modality} data; image generators: "
                              f"{', '.join(generators.names('image'))}")
        data = load_images(data_path)
        source = str(data_path) if data_path else data.source
        params = dict(hyper)
        if max_minutes is not None:
            if "max_minutes" not in generators.get(name)._param_names():
                raise ConfigError(f"--max-minutes: generator {name!r} has no training budget")
            params["max_minutes"] = max_minutes
        generator = build_generator(name, params, epochs=None, device=device, seed=seed, quiet=quiet)
        if policy is not None:
            data, holdout = split_images(data, holdout_fraction, seed)
        show = console(stderr=True)
        started = time.perf_counter()
        status = (show.status(f"fitting {name} on {len(data):,} images…", spinner="dots")
                  if not quiet and show.is_terminal and not getattr(generator, "verbose", False) else nullcontext())
        with status:
            generator.fit(data)
        fit_s = time.perf_counter() - started
        n_train = len(data)
    started = time.perf_counter()
    if per_class is not None:
        synthetic = generator.sample(per_class=per_class, seed=seed)
    else:
        synthetic = generator.sample(rows or n_train, seed=seed)
    sample_s = time.perf_counter() - started
    if save_model:
        generator.save(save_model)
    manifest = {
        "seed": seed,
        "generator": name,
        "parameters": {k: (v if isinstance(v, (int, float, str, bool, type(None))) else list(v) if isinstance(v, tuple) else str(v))
                       for k, v in generator.get_params().items()},
        "source": source,
        "training_images": n_train,
        "model": str(save_model or model_path) if (save_model or model_path) else None,
        "fit_seconds": round(fit_s, 2),
        "sample_seconds": round(sample_s, 2),
        "training": getattr(generator, "training_", None),
        "notes": list(getattr(generator, "notes_", [])),
    }
    if holdout is not None:
        manifest["holdout"] = f"{holdout_fraction:.0%} of each class ({len(holdout):,} images) held out for the report"
    write_image_folder(synthetic, out, manifest=manifest)
    if not quiet:
        counts = synthetic.counts()
        shown = ", ".join(f"{k}: {v}" for k, v in list(counts.items())[:12]) + (" …" if len(counts) > 12 else "")
        h, w = synthetic.size
        console().print(f"source: {source}, {n_train:,} training images ({h}×{w}×{synthetic.channels})")
        console().print(f"[bold]{len(synthetic):,}[/] images from [bold]{name}[/] (fit {fit_s:.1f} s, sample "
                        f"{sample_s:.1f} s, seed {seed}) → [bold]{out}[/] ({shown})"
                        + (f"; model saved to {save_model}" if save_model else ""))
        for note in manifest["notes"]:
            console().print(f"note: {note}", markup=False)
    if policy is not None:
        return report_after_images(train=data, holdout=holdout, synthetic=synthetic, policy=policy, seed=seed,
                                   fraction=holdout_fraction, generator=generator, source=source, out=out,
                                   report_html=report_html, report_json=report_json, quiet=quiet)
    return 0
