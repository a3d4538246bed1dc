"""The ``synthkit`` command line: thin commands that parse, call the library, print, exit."""

from __future__ import annotations

import click

from synthkit import __version__
from synthkit.cli._common import SynthkitGroup
from synthkit.cli.augment import augment_command
from synthkit.cli.generate import generate, generators_command
from synthkit.cli.inspect import inspect_command
from synthkit.cli.recipe import recipe_group
from synthkit.cli.tune import tune_command
from synthkit.cli.validate import validate_command


@click.group(cls=SynthkitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="synthkit")
def main() -> None:
    """synthkit: synthetic data you can measure.

    Learn a generator from a table, sample synthetic rows, validate them for fidelity and
    privacy, and augment training data. Run `synthkit generate` with no options to try it
    on the bundled demo (a sample of UCI Adult).
    """


main.add_command(generate)
main.add_command(generators_command)
main.add_command(inspect_command)
main.add_command(tune_command)
main.add_command(validate_command)
main.add_command(augment_command)
main.add_command(recipe_group)
