"""What every command shares: error handling, the console, option parsing helpers."""

from __future__ import annotations

import sys
from typing import Any

import click

from synthkit.errors import SynthkitError


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def fail(message: str, code: int = 2) -> None:
    """Print ``Error: message`` on stderr (one line) and exit with ``code``."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class SynthkitGroup(click.Group):
    """A click group whose errors are one line on stderr, never a traceback.

    Exit codes: 0 success, 1 a validation gate failed (set by the command), 2 bad usage or
    bad input (any :class:`SynthkitError` or click usage error), 130 interrupted.
    """

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx is not None else ""
            fail(f"{error.format_message()}{hint}")
        except click.ClickException as error:
            fail(error.format_message())
        except click.exceptions.Abort:
            fail("aborted", 130)
        except SynthkitError as error:
            fail(str(error), error.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", 130)
        sys.exit(result if isinstance(result, int) else 0)


def read_input(data_path, schema_path, na_values, conditions: dict[str, Any] | None = None):
    """``(frame, schema, source)`` of ``--data`` (default: the bundled demo) and ``--schema``,
    checked against each other; ``--condition`` values are checked before any long fit."""
    from synthkit.data import Schema, load_demo, read_table
    from synthkit.data.prep import TablePrep

    source = str(data_path) if data_path else "demo (UCI Adult sample)"
    frame = read_table(data_path, na_values=na_values) if data_path else load_demo()
    schema = Schema.from_yaml(schema_path) if schema_path else Schema.infer(frame)
    schema.check(frame, source=source)
    if conditions:
        TablePrep(schema).fit(frame).model_conditions(conditions)
    return frame, schema, source


def parse_assignments(values: tuple[str, ...], option: str, *, typed: bool) -> dict[str, Any]:
    """``("a=1", "b=x")`` -> ``{"a": 1, "b": "x"}``; values are YAML-parsed when ``typed``."""
    out: dict[str, Any] = {}
    for raw in values:
        key, sep, value = raw.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {raw!r}", param_hint=option)
        if typed:
            import yaml

            try:
                out[key.strip()] = yaml.safe_load(value)
            except yaml.YAMLError:
                out[key.strip()] = value
        else:
            out[key.strip()] = value
    return out


def na_values_option(func):
    return click.option(
        "--na-values",
        multiple=True,
        metavar="TEXT",
        help='String read as a missing value in CSV input, e.g. --na-values "?" (repeatable).',
    )(func)


def quiet_option(func):
    return click.option("--quiet", "-q", is_flag=True, help="No progress bars or summary, only errors.")(func)
