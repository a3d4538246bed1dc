"""Recipes: one YAML file describes a pass through the flow, and running it measures the effect.

* :func:`load_recipe` / :class:`Recipe` — the schema (pydantic; unknown keys refused, errors name
  the field path);
* :func:`check_recipe` — the dry run: files, columns, generator and method names, every error at once;
* :func:`run_recipe` — the run folder: manifest, synthetic data, validation report, bootstrap
  training runs, ``results.json`` and a forest plot.

Imports are lazy so that ``synthkit --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Recipe": "synthkit.recipes.schema",
    "RecipeError": "synthkit.recipes.schema",
    "load_recipe": "synthkit.recipes.schema",
    "recipe_from_dict": "synthkit.recipes.schema",
    "check_recipe": "synthkit.recipes.check",
    "run_recipe": "synthkit.recipes.runner",
    "RunOutcome": "synthkit.recipes.runner",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'synthkit.recipes' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


__all__ = list(_EXPORTS)
