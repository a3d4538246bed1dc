"""``synthkit validate``, and the report that ``synthkit generate --report`` writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from synthkit.cli._common import console, na_values_option, quiet_option

EXIT_GATE_FAILED = 1


@click.command("validate")
@click.option("--modality", type=click.Choice(["tabular", "image"]), default="tabular", show_default=True,
              help="image: --real/--synthetic/--holdout are image folders (one subfolder per class) or .npz files.")
@click.option("--real", "real_path", required=True, type=click.Path(path_type=Path),
              help="The real rows the generator learned from (CSV, Parquet, …).")
@click.option("--synthetic", "synthetic_path", required=True, type=click.Path(path_type=Path), help="The synthetic rows.")
@click.option("--holdout", "holdout_path", type=click.Path(path_type=Path), default=None,
              help="Real rows from the same source that the generator did not see: the baseline of every privacy measure.")
@click.option("--target", default=None, metavar="COLUMN", help="Measure utility: a model predicting COLUMN, trained on synthetic vs real rows.")
@click.option("--policy", "policy_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Gate thresholds (YAML); defaults apply to anything it leaves out.")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write the HTML report here.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Write the JSON report here.")
@click.option("--schema", "schema_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Column kinds from YAML (mark columns `sensitive: true` for attribute-inference checks).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the samples and models inside the checks.")
@click.option("--data-docs", "data_docs", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Also write Great Expectations Data Docs into this folder.")
@click.option("--sample-rows", type=click.IntRange(min=100), default=None, metavar="N",
              help="Check at most N synthetic rows in memory (a seeded sample); beyond, column shapes and pair "
                   "trends are also measured on every row with streaming scans. Default: 200,000.")
@na_values_option
@quiet_option
def validate_command(modality: str, real_path: Path, synthetic_path: Path, holdout_path: Path | None, target: str | None,
                     policy_path: Path | None, html_path: Path | None, json_path: Path | None, schema_path: Path | None,
                     seed: int, data_docs: Path | None, sample_rows: int | None, na_values: tuple[str, ...], quiet: bool) -> int:
    """Check synthetic data against the real data: expectations, fidelity, utility, privacy.

    Exit status: 0 when every gate passes, 1 when a gate fails, 2 for bad usage or input.
    With --modality image: fidelity in a learned feature space, TSTR, memorisation, a sample grid.
    """
    if modality == "image":
        from synthkit.cli import images as image_cli

        image_cli.refuse(image_cli.TABULAR_ONLY_VALIDATE, locals(), "image")
        return validate_images_command(real_path, synthetic_path, holdout_path, policy_path, html_path, json_path,
                                       seed, quiet)
    from synthkit.data import Schema, read_table
    from synthkit.data.io import file_sha256
    from synthkit.errors import DataError
    from synthkit.validators.policy import Policy
    from synthkit.validators.tabular import DEFAULT_SAMPLE_ROWS, validate_source

    _check_outputs(("--html", html_path), ("--json", json_path))
    policy = Policy.from_yaml(policy_path) if policy_path else Policy()
    schema = Schema.from_yaml(schema_path) if schema_path else None
    real = read_table(real_path, na_values=na_values)
    holdout = read_table(holdout_path, na_values=na_values) if holdout_path else None
    if not synthetic_path.exists():
        raise DataError(f"{synthetic_path}: no such file")
    files = {"real": real_path, "synthetic": synthetic_path, "holdout": holdout_path, "policy": policy_path,
             "schema": schema_path}
    provenance = {"files": {k: {"path": str(v), "sha256": file_sha256(v)} for k, v in files.items() if v}}
    report = validate_source(real, synthetic_path, sample_rows=sample_rows or DEFAULT_SAMPLE_ROWS, na_values=na_values,
                             holdout=holdout, schema=schema, policy=policy, target=target, seed=seed,
                             provenance=provenance, data_docs_dir=data_docs)
    write_report(report, html_path, json_path)
    if not quiet:
        show_report(report, html_path, json_path)
    return 0 if report.passed else EXIT_GATE_FAILED


def _check_outputs(*outputs: tuple[str, Path | None]) -> None:
    """Refuse report paths in missing folders before minutes of work."""
    from synthkit.errors import ConfigError

    for option, path in outputs:
        if path is not None and not (path.parent if str(path.parent) else Path(".")).is_dir():
            raise ConfigError(f"{option} {path}: the folder {path.parent} does not exist")


def write_report(report, html_path: Path | None, json_path: Path | None) -> None:
    if html_path is not None:
        report.to_html(html_path)
    if json_path is not None:
        report.to_json(json_path)


def show_report(report, html_path: Path | None, json_path: Path | None) -> None:
    out = console()
    lines = report.summary()
    out.print(("[bold green]" if report.passed else "[bold red]") + lines[0] + "[/]", markup=True)
    for line in lines[1:]:
        out.print(line, markup=False)
    for note in report.notes:
        out.print(f"note: {note}", markup=False)
    written = [str(p) for p in (html_path, json_path) if p is not None]
    if written:
        out.print("report: " + ", ".join(written), markup=False)


# -------------------------------------------------------------------------------------------
# generate --report: hold out part of the data, fit on the rest, validate in the same run
# -------------------------------------------------------------------------------------------

def report_options(func):
    """The options ``synthkit generate`` takes to validate what it generated."""
    options = [
        click.option("--report", "report_html", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Hold out part of the data, fit on the rest, validate the synthetic rows and write the HTML report here."),
        click.option("--report-json", "report_json", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Also (or only) write the JSON report here."),
        click.option("--holdout-fraction", type=float, default=0.2, show_default=True,
                     help="Share of the rows held out from fitting, as the report's privacy baseline."),
        click.option("--target", "report_target", default=None, metavar="COLUMN",
                     help="With --report: measure utility predicting COLUMN."),
        click.option("--policy", "report_policy", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="With --report: gate thresholds (YAML)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def wants_report(report_html: Path | None, report_json: Path | None) -> bool:
    return report_html is not None or report_json is not None


def check_report_options(report_html, report_json, holdout_fraction: float, model_path, report_target,
                         report_policy) -> Any:
    """Validate the report options before any fitting; returns the policy (or None)."""
    from synthkit.validators.policy import Policy

    if not wants_report(report_html, report_json):
        if report_target or report_policy:
            raise click.UsageError("--target and --policy only apply with --report or --report-json")
        return None
    if model_path is not None:
        raise click.UsageError("--report validates a fresh fit against held-out rows: it cannot be used with --model")
    if not 0 < holdout_fraction < 1:
        raise click.BadParameter(f"must be between 0 and 1, not {holdout_fraction}", param_hint="--holdout-fraction")
    _check_outputs(("--report", report_html), ("--report-json", report_json))
    return Policy.from_yaml(report_policy) if report_policy else Policy()


def split_holdout(frame, fraction: float, seed: int):
    """(training rows, holdout rows): a seeded random split; the holdout is never fitted on."""
    import numpy as np

    from synthkit.errors import DataError

    n_hold = round(frame.height * fraction)
    if n_hold < 10 or frame.height - n_hold < 10:
        raise DataError(f"{frame.height} rows are too few to hold out {fraction:.0%} for the report (each side needs 10)")
    order = np.random.default_rng(seed).permutation(frame.height)
    return frame[np.sort(order[n_hold:])], frame[np.sort(order[:n_hold])]


def report_after_generate(*, train, holdout, synthetic, schema, policy, target, seed: int, fraction: float,
                          generator, source: str, out: Path, report_html, report_json, quiet: bool) -> int:
    """Validate freshly generated rows; the synthetic data is already written whatever the verdict."""
    from synthkit.validators.tabular import validate

    provenance = {
        "generator": generator.name,
        "parameters": {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
                       for k, v in generator.get_params().items()},
        "source": source,
        "holdout": f"{fraction:.0%} of the input rows ({holdout.height:,}) were held out from fitting "
                   f"(seeded split, seed {seed}); the generator was fitted on the other {train.height:,}",
        "synthetic_output": str(out),
    }
    report = validate(train, synthetic, holdout=holdout, schema=schema, policy=policy, target=target, seed=seed,
                      provenance=provenance)
    write_report(report, report_html, report_json)
    if not quiet:
        show_report(report, report_html, report_json)
    if not report.passed:
        click.echo(f"A validation gate failed; the synthetic data was still written to {out}.", err=True)
        return EXIT_GATE_FAILED
    return 0


# -------------------------------------------------------------------------------------------
# images
# -------------------------------------------------------------------------------------------

def validate_images_command(real_path: Path, synthetic_path: Path, holdout_path: Path | None, policy_path: Path | None,
                            html_path: Path | None, json_path: Path | None, seed: int, quiet: bool) -> int:
    from synthkit.data.images import load_images
    from synthkit.data.io import file_sha256
    from synthkit.validators.images import validate_images
    from synthkit.validators.policy import Policy

    _check_outputs(("--html", html_path), ("--json", json_path))
    policy = Policy.from_yaml(policy_path) if policy_path else Policy()
    real, synthetic = load_images(real_path), load_images(synthetic_path)
    holdout = load_images(holdout_path) if holdout_path else None
    files = {"real": real_path, "synthetic": synthetic_path, "holdout": holdout_path, "policy": policy_path}
    provenance = {"files": {k: {"path": str(v), "sha256": file_sha256(v)} for k, v in files.items() if v}}
    report = validate_images(real, synthetic, holdout=holdout, policy=policy, seed=seed, provenance=provenance)
    write_report(report, html_path, json_path)
    if not quiet:
        show_report(report, html_path, json_path)
    return 0 if report.passed else EXIT_GATE_FAILED


def report_after_images(*, train, holdout, synthetic, policy, seed: int, fraction: float, generator, source: str,
                        out: Path, report_html, report_json, quiet: bool) -> int:
    """Validate freshly generated images; they are already written whatever the verdict."""
    from synthkit.validators.images import validate_images

    provenance = {
        "generator": generator.name,
        "parameters": {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
                       for k, v in generator.get_params().items()},
        "source": source,
        "holdout": f"{fraction:.0%} of each class ({len(holdout):,} images) were held out from fitting "
                   f"(seeded split, seed {seed}); the generator was fitted on the other {len(train):,}",
        "synthetic_output": str(out),
    }
    report = validate_images(train, synthetic, holdout=holdout, policy=policy, seed=seed, provenance=provenance)
    write_report(report, report_html, report_json)
    if not quiet:
        show_report(report, report_html, report_json)
    if not report.passed:
        click.echo(f"A validation gate failed; the images were still written to {out}.", err=True)
        return EXIT_GATE_FAILED
    return 0
