"""``synthkit generate`` with ``--backend`` / ``--segment-by``: sharded sampling and per-segment generators.

Kept apart from ``generate.py`` so the plain path stays short; ``generate`` hands over here
when any scale-out option is given.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from synthkit.cli._common import console, read_input


def check_scale_options(*, backend: str | None, address: str | None, workers: int | None, shard_rows: int | None,
                        segment_by: str | None, segment_rows: dict[str, Any], model_path: Path | None,
                        save_model: Path | None, rows: int | None) -> str | None:
    """Usage errors before any work; returns the backend name (``--address`` implies dask)."""
    if address and backend not in (None, "dask"):
        raise click.UsageError("--address is the address of a Dask scheduler: use it with --backend dask")
    backend = "dask" if address and backend is None else backend
    if backend is None and (workers is not None or shard_rows is not None):
        option = "--workers" if workers is not None else "--shard-rows"
        raise click.UsageError(f"{option} needs --backend local or --backend dask")
    if workers is not None and workers <= 0:
        raise click.BadParameter(f"must be a positive number, not {workers}", param_hint="--workers")
    if workers is not None and address:
        raise click.UsageError("--workers sizes a local pool or LocalCluster; a cluster at --address has its own workers")
    if shard_rows is not None and shard_rows <= 0:
        raise click.BadParameter(f"must be a positive number of rows, not {shard_rows}", param_hint="--shard-rows")
    if segment_rows and not segment_by:
        raise click.UsageError("--segment-rows needs --segment-by COLUMN")
    if segment_by and model_path:
        raise click.UsageError("--segment-by fits one generator per segment from --data: drop --model")
    if segment_by and save_model:
        raise click.UsageError("--save-model saves one generator; it cannot be combined with --segment-by yet")
    if segment_rows and rows is not None and rows != sum(segment_rows.values()):
        raise click.UsageError(
            f"--rows {rows:,} differs from the sum of --segment-rows ({sum(segment_rows.values()):,}); drop --rows"
        )
    return backend


def generate_scaled(*, data_path: Path | None, name: str, rows: int | None, out: Path, seed: int, epochs: int | None,
                    wanted: dict[str, Any], hyper: dict[str, Any], save_model: Path | None, model_path: Path | None,
                    trust_model: bool, device: str | None, schema_path: Path | None, na_values: tuple[str, ...],
                    quiet: bool, backend: str | None, address: str | None, workers: int | None,
                    shard_rows: int | None, segment_by: str | None, segment_rows: dict[str, Any]) -> None:
    from synthkit import generators
    from synthkit._runtime import progress
    from synthkit.cli.generate import build_generator
    from synthkit.parallel import get_backend
    from synthkit.segments import (
        SegmentFit,
        allocate_rows,
        fit_segments,
        identity_state,
        parse_segment_rows,
        split_segments,
    )
    from synthkit.sharding import DEFAULT_SHARD_ROWS, check_dataset_target

    sharded = backend is not None
    if sharded:
        check_dataset_target(out)
    show = console(stderr=True)
    spinner = (lambda text: show.status(text, spinner="dots")) if not quiet and show.is_terminal else (lambda text: nullcontext())

    frame = schema = None
    if model_path is not None:
        if data_path or schema_path or epochs or hyper:
            raise click.UsageError("--model samples a saved generator: drop --data, --generator, --schema, --epochs and --param")
        loaded = generators.load(model_path, trust=trust_model)
        name, source, training_rows = loaded.name, f"model {model_path}", loaded.n_training_rows_
        width = len(loaded.schema_.columns)
    else:
        frame, schema, source = read_input(data_path, schema_path, na_values, wanted)
        training_rows, width = frame.height, frame.width

    with get_backend(backend or "serial", address=address, workers=workers) as pool:
        started = time.perf_counter()
        if segment_by:
            segments = split_segments(frame, segment_by, schema)
            if segment_rows:
                counts = parse_segment_rows(segment_rows, segments, segment_by)
            else:
                counts = allocate_rows({value: rows_.height for value, rows_ in segments.items()}, rows or frame.height)
            counts = {value: n for value, n in counts.items() if n > 0}
            template = build_generator(name, hyper, epochs=epochs, device=device, seed=seed, quiet=True)
            spec = SegmentFit(name, template.get_params(), schema, segment_by, identity_state(frame, schema))
            with spinner(f"fitting {len(counts)} {name} generators (one per {segment_by}) on {pool.describe()}…"):
                fitted = fit_segments({value: segments[value] for value in counts}, spec, backend=pool)
        elif model_path is not None:
            fitted, counts = {None: loaded}, {None: rows or training_rows}
        else:
            generator = build_generator(name, hyper, epochs=epochs, device=device, seed=seed, quiet=quiet)
            with spinner(f"fitting {name} on {frame.height:,} rows…"):
                generator.fit(frame, schema=schema)
            fitted, counts = {None: generator}, {None: rows or frame.height}
        fit_s = time.perf_counter() - started if model_path is None else 0.0
        if save_model:
            fitted[None].save(save_model)

        total = sum(counts.values())
        started = time.perf_counter()
        if sharded:
            from synthkit.sharding import sample_dataset

            with progress("Sampling rows", total, enabled=not quiet) as advance:
                summary = sample_dataset(
                    fitted, counts, out, backend=pool, seed=seed, shard_rows=shard_rows or DEFAULT_SHARD_ROWS,
                    conditions=wanted or None, on_rows=advance,
                    metadata={"generator": name, **({"segment_by": segment_by} if segment_by else {})},
                )
            written, where = summary["rows"], f"{summary['parts']} part files on {pool.describe()}"
        else:
            written, where = _sample_in_memory(fitted, counts, out, seed=seed, conditions=wanted or None), "one file"
        sample_s = time.perf_counter() - started

    if not quiet:
        what = f"{len(fitted)} {name} generators (one per {segment_by})" if segment_by else name
        console().print(f"source: {source}, {training_rows:,} training rows × {width} columns")
        summary_line = (
            f"[bold]{written:,}[/] rows × {width} columns from [bold]{what}[/] in {where} "
            f"(fit {fit_s:.1f} s, sample {sample_s:.1f} s, seed {seed}) → [bold]{out}[/]"
        )
        if save_model:
            summary_line += f"; model saved to {save_model}"
        console().print(summary_line)
        if segment_by:
            from synthkit.segments import segment_text

            console().print("rows per segment: " + ", ".join(f"{segment_text(v)}={n:,}" for v, n in counts.items()))


def _sample_in_memory(fitted: dict, counts: dict, out: Path, *, seed: int, conditions: dict | None) -> int:
    """Per-segment sampling without a backend: one shard per segment, one output file."""
    import polars as pl

    from synthkit.data import write_table
    from synthkit.sharding import plan_shards

    plan = plan_shards(counts, seed=seed, shard_rows=max(counts.values()))
    frames = [
        fitted[shard.segment].sample(shard.rows, conditions=conditions, seed=shard.seed, id_offset=shard.start)
        for shard in plan
    ]
    synthetic = pl.concat(frames, how="vertical_relaxed")
    write_table(synthetic, out)
    return synthetic.height
