"""``synthkit tune``: hyperparameter search under a budget, written as a recipe fragment."""

from __future__ import annotations

from pathlib import Path

import click

from synthkit.cli._common import console, na_values_option, parse_assignments, quiet_option


@click.command("tune")
@click.option("--data", "data_path", type=click.Path(path_type=Path), required=True, help="Input table (CSV, Parquet, …).")
@click.option("--generator", "-g", "generator_name", default=None, help="Generator to tune (see `synthkit generators`). Default: the default generator (masked_diffusion).")
@click.option("--trials", type=int, default=None, help="Number of trials (default 20 when --minutes is not given).")
@click.option("--minutes", type=float, default=None, help="Time budget: no trial or budget rung starts after it.")
@click.option("--epochs", type=int, default=None, help="Full-fidelity training epochs (generators that train in epochs; default 27). Rungs train 1/9 and 1/3 of it.")
@click.option("--validation", type=float, default=0.25, show_default=True, help="Share of rows held out to score trials on (at most 5,000 are scored).")
@click.option("--pruner", type=click.Choice(["halving", "hyperband"]), default="halving", show_default=True, help="Successive halving or Hyperband.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="A hyperparameter held fixed in every trial (repeatable).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the split, the sampler and every fit.")
@click.option("--backend", type=click.Choice(["local", "dask"]), default=None, help="Run trials in parallel: local processes or a Dask cluster.")
@click.option("--address", default=None, metavar="tcp://HOST:PORT", help="A running Dask scheduler (implies --backend dask).")
@click.option("--workers", type=int, default=None, help="Processes of the local pool or LocalCluster.")
@click.option("--schema", "schema_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Column kinds from a YAML file.")
@click.option("--out", "-o", type=click.Path(path_type=Path, dir_okay=False), default=Path("best.yaml"), show_default=True,
              help="Where the best parameters go, as a recipe fragment (YAML).")
@na_values_option
@quiet_option
def tune_command(data_path: Path, generator_name: str | None, trials: int | None, minutes: float | None, epochs: int | None,
                 validation: float, pruner: str, params: tuple[str, ...], seed: int, backend: str | None, address: str | None,
                 workers: int | None, schema_path: Path | None, out: Path, na_values: tuple[str, ...], quiet: bool) -> None:
    """Search a generator's hyperparameters within a budget; write the best as a recipe fragment.

    Trials are scored with SDMetrics' quality on a held-out validation split and pruned at
    budget rungs (epochs, or training rows for generators without epochs).
    """
    from synthkit import generators
    from synthkit.cli.scale import check_scale_options
    from synthkit.data import Schema, read_table
    from synthkit.parallel import get_backend
    from synthkit.tune import tune, write_fragment

    if trials is not None and trials <= 0:
        raise click.BadParameter(f"must be a positive number of trials, not {trials}", param_hint="--trials")
    if minutes is not None and minutes <= 0:
        raise click.BadParameter(f"must be a positive number of minutes, not {minutes}", param_hint="--minutes")
    if out.suffix.lower() not in (".yaml", ".yml"):
        raise click.BadParameter(f"{out}: the recipe fragment is YAML; name it NAME.yaml", param_hint="--out")
    backend = check_scale_options(backend=backend, address=address, workers=workers, shard_rows=None, segment_by=None,
                                  segment_rows={}, model_path=None, save_model=None, rows=None)
    name = generator_name or generators.DEFAULT
    generators.entry(name)
    fixed = parse_assignments(params, "--param", typed=True)
    frame = read_table(data_path, na_values=na_values)
    schema = Schema.from_yaml(schema_path) if schema_path else Schema.infer(frame)
    schema.check(frame, source=str(data_path))
    if trials is None and minutes is None:
        trials = 20
    budget = " and ".join(b for b in (f"{trials} trials" if trials else "", f"{minutes:g} minutes" if minutes else "") if b)
    with get_backend(backend or "serial", address=address, workers=workers) as pool:
        show = console(stderr=True)
        where = pool.describe() if backend else "this process"
        status = show.status(f"tuning {name} ({budget}) on {where}…", spinner="dots") if not quiet and show.is_terminal else None
        if status is not None:
            status.start()
        try:
            result = tune(frame, name, trials=trials, minutes=minutes, schema=schema, max_epochs=epochs,
                          validation=validation, pruner=pruner, seed=seed, backend=pool if backend else None, fixed=fixed)
        finally:
            if status is not None:
                status.stop()
    write_fragment(result, out, source=data_path.name)
    if not quiet:
        _print_trials(result)
        counts = ", ".join(f"{n} {state.lower()}" for state, n in sorted(result.counts.items()))
        console().print(
            f"{len(result.trials)} trials ({counts}) in {result.seconds:.0f} s; best quality "
            f"[bold]{result.best_value:.4f}[/] (trial {result.best_trial}) → [bold]{out}[/]"
        )


def _print_trials(result) -> None:
    from rich.table import Table

    table = Table(show_header=True, header_style="bold")
    for column in ("trial", "state", "rungs", "quality", "seconds", "parameters"):
        table.add_column(column, justify="right" if column in ("trial", "rungs", "quality", "seconds") else "left")
    for row in sorted(result.trials, key=lambda r: r["number"]):
        shown = ", ".join(f"{k}={v}" for k, v in row["parameters"].items())
        if row["note"]:
            shown += f"  ({row['note']})"
        table.add_row(
            str(row["number"]), row["state"].lower(), str(row["rungs"]),
            "–" if row["value"] is None else f"{row['value']:.4f}",
            "–" if row["seconds"] is None else f"{row['seconds']:.1f}", shown,
        )
    console().print(table)
