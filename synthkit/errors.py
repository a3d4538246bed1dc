"""One exception hierarchy: every error a user can cause is a :class:`SynthkitError`.

The CLI prints ``Error: <message>`` for these and exits with status 2 (no traceback);
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class SynthkitError(Exception):
    """Base class of every user-facing synthkit error."""

    exit_code = 2


class DataError(SynthkitError):
    """A table could not be read or written, or its content is unusable."""


class SchemaError(SynthkitError):
    """A schema is invalid or does not match the data."""


class ConfigError(SynthkitError, ValueError):
    """A parameter, option, recipe or policy value is invalid."""


class GeneratorError(SynthkitError):
    """A generator could not be fitted, sampled, saved or loaded."""


class NotFittedError(GeneratorError):
    """``sample``/``save`` was called before ``fit``."""


class UntrustedModelError(GeneratorError):
    """A saved model uses a pickle-based format and the caller did not say it is trusted."""


class ConditionError(GeneratorError, ValueError):
    """A sampling condition names an unknown column, an impossible value, or cannot be met."""


class ParallelError(SynthkitError):
    """A pool or cluster could not be reached, or lost its workers more often than allowed."""
