"""``synthkit inspect``: show the inferred column kinds; write them as an editable YAML schema."""

from __future__ import annotations

from pathlib import Path

import click

from synthkit.cli._common import console, na_values_option


@click.command("inspect")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=True), required=False)
@na_values_option
@click.option("--schema-out", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Write the inferred schema as YAML here (edit it, then pass it to --schema).")
@click.option("--schema", "schema_in", type=click.Path(path_type=Path, dir_okay=False),
              help="Show this schema applied to the data instead of inferring one.")
def inspect_command(path: Path | None, na_values: tuple[str, ...], schema_out: Path | None, schema_in: Path | None) -> None:
    """Show each column's kind (numeric, categorical, boolean, datetime, id, pii).

    PATH is a CSV/Parquet/JSON-lines/Arrow file; without it, the bundled demo.
    """
    from rich.table import Table

    from synthkit.data import Schema, load_demo, read_table

    frame = read_table(path, na_values=na_values) if path else load_demo()
    schema = Schema.from_yaml(schema_in) if schema_in else Schema.infer(frame)
    if schema_in:
        frame = schema.conform(frame, source=str(path or "demo"))
    table = Table(title=f"{path or 'demo (UCI Adult sample)'}: {frame.height:,} rows × {frame.width} columns")
    for header in ("column", "kind", "dtype", "distinct", "missing"):
        table.add_column(header, justify="right" if header in ("distinct", "missing") else "left")
    for row in schema.kind_table(frame):
        table.add_row(str(row["column"]), str(row["kind"]), str(row["dtype"]),
                      f"{row['distinct']:,}", f"{row['missing']:.1%}")
    console().print(table)
    if schema_out:
        schema.write_yaml(schema_out)
        console().print(f"schema written to {schema_out}")
