"""``synthkit augment``: over-sample a table's rare classes with a generator or an imbalanced-learn method."""

from __future__ import annotations

import time
from pathlib import Path

import click

from synthkit.cli._common import console, na_values_option, parse_assignments, quiet_option


@click.command("augment")
@click.option("--data", "data_path", required=True, type=click.Path(path_type=Path), help="Input table (CSV, .csv.gz, Parquet, JSON lines, Arrow).")
@click.option("--target", required=True, help="The class column to balance.")
@click.option("--method", "-m", required=True, metavar="NAME",
              help="A synthkit generator (gaussian_copula, tvae, …) or an imbalanced-learn over-sampler: "
                   "random, smote, smotenc, smoten, adasyn, borderline_smote, svm_smote, kmeans_smote.")
@click.option("--strategy", default="auto", show_default=True, metavar="auto|FLOAT",
              help="auto: every class up to the majority's count; a number (two classes only): the minority/majority "
                   "ratio after augmenting; also minority, not majority, all.")
@click.option("--seed", type=int, default=None, help="Seed: the same seed gives the same rows.")
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path, dir_okay=False), help="Output file; its extension picks the format.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter of the method, e.g. --param k_neighbors=3 or --param epochs=100 (repeatable).")
@na_values_option
@quiet_option
def augment_command(data_path: Path, target: str, method: str, strategy: str, seed: int | None, out: Path,
                    params: tuple[str, ...], na_values: tuple[str, ...], quiet: bool) -> None:
    """Add synthetic rows to a table's rare classes; every original row is kept, first.

    \b
    synthkit augment --data bank.csv --target y --method smote --out balanced.parquet
    synthkit augment --data bank.csv --target y --method tvae --strategy 0.25 --seed 1 --out more.csv
    """
    from synthkit.augment.table import augment_table, method_names, parse_strategy
    from synthkit.data import read_table, write_table
    from synthkit.data.io import table_format
    from synthkit.errors import ConfigError

    table_format(out)  # an unknown output extension fails before any work
    if method not in method_names():
        raise ConfigError(f"unknown method {method!r} (choose from: {', '.join(method_names())})")
    wanted = parse_strategy(strategy)
    hyper = parse_assignments(params, "--param", typed=True)
    frame = read_table(data_path, na_values=na_values)
    started = time.perf_counter()
    result = augment_table(frame, target, method=method, strategy=wanted, seed=seed, params=hyper, verbose=not quiet)
    seconds = time.perf_counter() - started
    write_table(result.table, out)
    if not quiet:
        show = console()
        for note in result.notes:
            show.print(f"note: {note}")
        counts = ", ".join(f"{k}: {result.before[k]:,} → {result.after[k]:,}" for k in result.after)
        show.print(f"{target} — {counts}")
        show.print(f"[bold]{result.added:,}[/] rows added by [bold]{result.method}[/] in {seconds:.1f} s; "
                   f"{result.table.height:,} rows (originals first) → [bold]{out}[/]")
