"""``synthkit recipe validate`` and ``synthkit recipe run``: recipes from the command line."""

from __future__ import annotations

from pathlib import Path

import click

from synthkit.cli._common import console, quiet_option

set_option = click.option(
    "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
    help="Override a recipe value, read as YAML and validated like the file: --set train.bootstrap=2 "
         "--set data.path=bank.csv (repeatable; list items by index: augment.methods.0.strategy=0.2).")


@click.group("recipe")
def recipe_group() -> None:
    """Recipes: one YAML file from data to synthetic data, validation and measured effect on a model."""


@recipe_group.command("validate")
@click.argument("recipe_file", type=click.Path(path_type=Path, dir_okay=False))
@set_option
@quiet_option
def validate_recipe(recipe_file: Path, overrides: tuple[str, ...], quiet: bool) -> int:
    """Dry run: check the recipe, its data, names and parameters; every error at once.

    Exit status: 0 valid, 2 errors (each as field.path: message).
    """
    from synthkit.recipes.check import inspect_recipe
    from synthkit.recipes.schema import RecipeError, load_recipe

    recipe = load_recipe(recipe_file, overrides)
    errors, data, split = inspect_recipe(recipe)
    if errors:
        raise RecipeError(str(recipe_file), errors)
    if not quiet:
        show = console()
        show.print(f"[bold green]{recipe_file}: valid[/]")
        for line in _plan(recipe, data, split):
            show.print(f"  {line}", markup=False)
    return 0


def _plan(recipe, data, split) -> list[str]:
    """What a run would do, in a few lines."""
    lines = [f"data: {data.source}, {data.rows:,} rows ({data.modality})"]
    if split is not None:
        lines[0] += f"; training split {split.train.size:,}, holdout {split.holdout.size:,}"
    if recipe.generate is not None:
        lines.append(f"generate: {recipe.generate.generator} {recipe.generate.parameters or ''}".rstrip())
    if recipe.validate_section is not None:
        policy = recipe.validate_section.policy
        lines.append(f"validate: {'policy ' + policy if isinstance(policy, str) else 'inline policy' if policy else 'default policy'}"
                     f", on_fail: {recipe.validate_section.on_fail}")
    if recipe.train is not None:
        from synthkit.recipes.runner import arm_specs

        train = recipe.train
        arms = ", ".join(a.name for a in arm_specs(recipe))
        lines.append(f"train: {train.model}, {'/'.join(train.metric)}, {train.bootstrap} bootstrap replicates, "
                     f"arms {arms}; backend {recipe.backend.name}")
    return lines


@recipe_group.command("run")
@click.argument("recipe_file", type=click.Path(path_type=Path, dir_okay=False))
@set_option
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="The run folder. Default: runs/<recipe file name>.")
@click.option("--resume", is_flag=True, help="Continue a run in --out: skip the steps (and replicates) that finished. "
                                              "A changed recipe or input is refused.")
@quiet_option
def run_recipe_command(recipe_file: Path, overrides: tuple[str, ...], out: Path | None, resume: bool, quiet: bool) -> int:
    """Run a recipe into a run folder: manifest, synthetic data, report, results.json and a plot.

    \b
    synthkit recipe run recipes/mammography.yaml
    synthkit recipe run recipes/mammography.yaml --set data.path=bank.csv --set data.target=y --out runs/bank
    synthkit recipe run recipes/mammography.yaml --resume

    Exit status: 0 done, 1 a validation gate failed (training still runs unless validate.on_fail
    is stop), 2 a bad recipe or input.
    """
    from synthkit.recipes.runner import run_recipe
    from synthkit.recipes.schema import load_recipe

    recipe = load_recipe(recipe_file, overrides)
    folder = out or Path("runs") / recipe_file.stem
    show = console(stderr=True)
    echo = None if quiet else (lambda text: show.print(text, markup=False, highlight=False))
    outcome = run_recipe(recipe, folder, resume=resume, recipe_file=str(recipe_file), echo=echo, show_progress=not quiet)
    if not quiet:
        if outcome.results is not None:
            _print_results(outcome.results)
        console().print(f"run folder: [bold]{folder}[/] (results.json, uplift.png, manifest.json)")
    if outcome.exit_code == 1:
        click.echo("A validation gate failed (see report.html in the run folder).", err=True)
    return outcome.exit_code


def _print_results(results: dict) -> None:
    from rich.table import Table

    metric = results["headline_metric"]
    level = f"{results['ci']:.0%}"
    table = Table(show_header=True, header_style="bold",
                  title=f"{metric} on the holdout: mean [{level} percentile interval] over {results['bootstrap']} "
                        "bootstrap replicates")
    for column in ("arm", "rows", metric, "minus real (paired)", "won"):
        table.add_column(column, justify="left" if column == "arm" else "right", no_wrap=True)
    for name, arm in results["arms"].items():
        entry = arm[metric]
        row = [name, f"{arm['train_rows_mean']:,.0f}", f"{entry['mean']:.4f} [{entry['ci_low']:.4f}, {entry['ci_high']:.4f}]"]
        if "vs_real" in entry:
            diff = entry["vs_real"]
            row += [f"{diff['mean']:+.4f} [{diff['ci_low']:+.4f}, {diff['ci_high']:+.4f}]", f"{diff['won']:.0%}"]
        else:
            row += ["", ""]
        table.add_row(*row)
    show = console()
    if not show.is_terminal:  # piped or logged: do not squeeze the intervals into 80 columns
        show.width = max(show.width, 120)
    show.print(table)
