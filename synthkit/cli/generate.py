"""``synthkit generate`` and ``synthkit generators``."""

from __future__ import annotations

import secrets
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click

from synthkit.cli._common import console, na_values_option, parse_assignments, quiet_option, read_input
from synthkit.cli.validate import report_options


@click.command("generators")
def generators_command() -> None:
    """List the generators, one line each."""
    from rich.table import Table

    from synthkit import generators

    table = Table(show_header=True, header_style="bold")
    table.add_column("name")
    table.add_column("modality")
    table.add_column("what it is")
    for name, summary in generators.describe().items():
        marker = " (default)" if name in (generators.DEFAULT, generators.DEFAULT_IMAGE) else ""
        table.add_row(name + marker, generators.entry(name).modality, summary)
    console().print(table)


def build_generator(name: str, params: dict[str, Any], *, epochs: int | None, device: str | None,
                    seed: int | None, quiet: bool):
    """A generator from CLI options: only the options the generator takes are passed."""
    from synthkit import generators
    from synthkit.errors import ConfigError

    params = dict(params)
    if epochs is not None:
        if "epochs" not in generators.get(name)._param_names():
            raise ConfigError(f"--epochs: generator {name!r} does not train in epochs")
        params["epochs"] = epochs
    return generators.build(name, params, seed=seed, verbose=not quiet, device=device)


@click.command("generate")
@click.option("--modality", type=click.Choice(["tabular", "image"]), default="tabular", show_default=True,
              help="image: learn from labelled images (a folder with one subfolder per class, or an .npz; default: "
                   "scikit-learn's digits) and write PNGs, one folder per class, plus manifest.json.")
@click.option("--data", "data_path", type=click.Path(path_type=Path), help="Input table (CSV, .csv.gz, Parquet, JSON lines, Arrow). Default: the bundled demo.")
@click.option("--generator", "-g", "generator_name", default=None, help="Generator name (see `synthkit generators`).")
@click.option("--rows", "-n", type=int, default=None, help="Rows to generate. Default: as many as the input has.")
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Output file; its extension picks the format. With --backend: a folder of Parquet part files. "
                   "Default: synthetic.parquet (images: the folder synthetic_images).")
@click.option("--per-class", type=int, default=None, help="Images: how many to generate of each class. Default: as many as the input has, in its class proportions (or --rows in total).")
@click.option("--seed", type=int, default=None, help="Seed for fitting and sampling: the same seed gives the same rows. Default: a random one, printed.")
@click.option("--epochs", type=int, default=None, help="Training epochs (generators that train in epochs).")
@click.option("--max-minutes", type=float, default=None, help="Stop training after this many minutes, keeping what was learned (masked_diffusion, image_diffusion).")
@click.option("--condition", "conditions", multiple=True, metavar="COL=VALUE", help="Every generated row has COL equal to VALUE (repeatable).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A generator hyperparameter, e.g. --param batch_size=1000 (repeatable).")
@click.option("--save-model", type=click.Path(path_type=Path, file_okay=False), default=None, help="Save the fitted generator to this folder.")
@click.option("--model", "model_path", type=click.Path(path_type=Path, file_okay=False), default=None, help="Sample from a saved model folder instead of fitting one.")
@click.option("--trust-model", is_flag=True, help="Allow loading a model stored with pickle (SDV models): only for models from a source you trust.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default=None, help="Where neural generators train. Default: auto (CUDA when present).")
@click.option("--schema", "schema_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Column kinds from a YAML file (see `synthkit inspect -o`).")
@click.option("--backend", type=click.Choice(["local", "dask"]), default=None,
              help="Sample in parallel shards into a Parquet folder: local processes, or a Dask cluster (--address).")
@click.option("--address", default=None, metavar="tcp://HOST:PORT", help="A running Dask scheduler (implies --backend dask). Without it, dask starts a LocalCluster.")
@click.option("--workers", type=int, default=None, help="Processes of the local pool or LocalCluster. Default: one per CPU core.")
@click.option("--shard-rows", type=int, default=None, help="Rows per shard (bounds each worker's memory). Default: 250,000.")
@click.option("--segment-by", default=None, metavar="COLUMN", help="Fit one generator per value of COLUMN; each samples only its own segment.")
@click.option("--segment-rows", "segment_rows", multiple=True, metavar="VALUE=ROWS", help="Rows for one segment (repeatable); default: in proportion to the data.")
@na_values_option
@quiet_option
@report_options
def generate(modality: str, data_path: Path | None, generator_name: str | None, rows: int | None, out: Path | None,
             per_class: int | None, max_minutes: float | None, seed: int | None,
             epochs: int | None, conditions: tuple[str, ...], params: tuple[str, ...], save_model: Path | None,
             model_path: Path | None, trust_model: bool, device: str | None, schema_path: Path | None, na_values: tuple[str, ...], quiet: bool,
             report_html: Path | None = None, report_json: Path | None = None, holdout_fraction: float = 0.2,
             report_target: str | None = None, report_policy: Path | None = None,
             backend: str | None = None, address: str | None = None, workers: int | None = None, shard_rows: int | None = None,
             segment_by: str | None = None, segment_rows: tuple[str, ...] = ()) -> int:
    """Learn a generator from a table and write synthetic rows.

    With no --data it runs on the bundled demo (10,000 rows of UCI Adult). With --report it
    holds out part of the rows, fits on the rest and validates the synthetic rows (exit 1 if a
    gate fails; the synthetic data is written either way). With --backend the rows are
    sampled in parallel shards into a Parquet folder (see README "Scale-out").

    With --modality image it learns from labelled images (default: scikit-learn's 8×8 digits)
    and writes one PNG folder per class plus manifest.json (see README "Images").
    """
    from synthkit import generators
    from synthkit.cli import validate as report_cli
    from synthkit.data import write_table
    from synthkit.data.io import table_format

    if rows is not None and rows <= 0:
        raise click.BadParameter(f"must be a positive number of rows, not {rows}", param_hint="--rows")
    if modality == "image":
        from synthkit.cli import images as image_cli

        image_cli.refuse(image_cli.TABULAR_ONLY_GENERATE, locals(), "image")
        seed = seed if seed is not None else secrets.randbelow(2**31)
        policy = report_cli.check_report_options(report_html, report_json, holdout_fraction, model_path, None, report_policy)
        return image_cli.generate_images(
            data_path=data_path, name=generator_name, rows=rows, per_class=per_class, out=out, seed=seed,
            hyper=parse_assignments(params, "--param", typed=True), max_minutes=max_minutes, device=device,
            save_model=save_model, model_path=model_path, quiet=quiet, policy=policy, report_html=report_html,
            report_json=report_json, holdout_fraction=holdout_fraction)
    from synthkit.cli import images as image_cli

    image_cli.refuse(image_cli.IMAGE_ONLY_GENERATE, locals(), "tabular")
    out = out if out is not None else Path("synthetic.parquet")
    if epochs is not None and epochs <= 0:
        raise click.BadParameter(f"must be a positive number of epochs, not {epochs}", param_hint="--epochs")
    if max_minutes is not None and not max_minutes > 0:
        raise click.BadParameter(f"must be a positive number of minutes, not {max_minutes}", param_hint="--max-minutes")
    if not (backend or address):
        table_format(out)  # an unknown output extension fails before any work
    name = generator_name or generators.DEFAULT
    generators.entry(name)
    wanted = parse_assignments(conditions, "--condition", typed=False)
    hyper = parse_assignments(params, "--param", typed=True)
    if max_minutes is not None:
        from synthkit.errors import ConfigError

        if model_path is not None:
            raise click.UsageError("--model samples a saved generator: drop --max-minutes")
        if "max_minutes" not in generators.get(name)._param_names():
            raise ConfigError(f"--max-minutes: generator {name!r} has no training time budget")
        hyper["max_minutes"] = max_minutes
    seed = seed if seed is not None else secrets.randbelow(2**31)
    policy = report_cli.check_report_options(report_html, report_json, holdout_fraction, model_path, report_target, report_policy)

    if out.is_dir() and not (backend or address):
        raise click.BadParameter(f"{out} is a folder; give a file name (a folder is written only with --backend)", param_hint="--out")
    if backend or address or workers is not None or shard_rows is not None or segment_by or segment_rows:
        from synthkit.cli.scale import check_scale_options, generate_scaled

        if policy is not None:
            raise click.UsageError("--report is not available with --backend/--segment-by yet: validate the output with `synthkit validate`")
        per_segment = parse_assignments(segment_rows, "--segment-rows", typed=True)
        backend = check_scale_options(backend=backend, address=address, workers=workers, shard_rows=shard_rows,
                                      segment_by=segment_by, segment_rows=per_segment, model_path=model_path,
                                      save_model=save_model, rows=rows)
        generate_scaled(
            data_path=data_path, name=name, rows=rows, out=out, seed=seed, epochs=epochs, wanted=wanted, hyper=hyper,
            save_model=save_model, model_path=model_path, trust_model=trust_model, device=device,
            schema_path=schema_path, na_values=na_values, quiet=quiet, backend=backend, address=address,
            workers=workers, shard_rows=shard_rows, segment_by=segment_by, segment_rows=per_segment,
        )
        return 0

    if model_path is not None:
        if data_path or generator_name or schema_path or epochs or params:
            raise click.UsageError("--model samples a saved generator: drop --data, --generator, --schema, --epochs and --param")
        generator = generators.load(model_path, trust=trust_model)
        name, source, fit_s = generator.name, f"model {model_path}", 0.0
        n, width = rows or generator.n_training_rows_, len(generator.schema_.columns)
    else:
        frame, schema, source = read_input(data_path, schema_path, na_values, wanted)
        if policy is not None:
            from synthkit.validators._columns import check_target

            check_target(schema, report_target, [])
            frame, holdout = report_cli.split_holdout(frame, holdout_fraction, seed)
        generator = build_generator(name, hyper, epochs=epochs, device=device, seed=seed, quiet=quiet)
        n, width = rows or frame.height, frame.width

        show = console(stderr=True)
        started = time.perf_counter()
        with show.status(f"fitting {name} on {frame.height:,} rows…", spinner="dots") if not quiet and show.is_terminal else nullcontext():
            generator.fit(frame, schema=schema)
        fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = generator.sample(n, conditions=wanted or None, seed=seed)
    sample_s = time.perf_counter() - started
    if save_model:
        generator.save(save_model)
    write_table(synthetic, out)
    if not quiet:
        summary = (
            f"[bold]{synthetic.height:,}[/] rows × {synthetic.width} columns from [bold]{name}[/] "
            f"(fit {fit_s:.1f} s, sample {sample_s:.1f} s, seed {seed}) → [bold]{out}[/]"
        )
        if save_model:
            summary += f"; model saved to {save_model}"
        console().print(f"source: {source}, {generator.n_training_rows_:,} training rows × {width} columns")
        console().print(summary)
    if policy is not None:
        return report_cli.report_after_generate(
            train=frame, holdout=holdout, synthetic=synthetic, schema=schema, policy=policy, target=report_target,
            seed=seed, fraction=holdout_fraction, generator=generator, source=source, out=out,
            report_html=report_html, report_json=report_json, quiet=quiet)
    return 0
