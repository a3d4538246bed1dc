"""The dry run: everything about a recipe that can be checked before any fitting, every error at once.

Beyond the structure (:mod:`synthkit.recipes.schema`): the data file exists and reads, the
target column exists and holds classes, the split leaves every class on both sides,
generator, method and model names are known and their parameters exist, strategies fit the
target, the policy and schema are valid.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import numpy as np

from synthkit.errors import ConfigError, SchemaError, SynthkitError
from synthkit.recipes.data import Dataset, Split, check_target, load_data, run_seeds, split_data
from synthkit.recipes.schema import IMAGE_BUILTINS, Recipe, format_errors


def check_recipe(recipe: Recipe) -> list[str]:
    """Every error the recipe would meet before fitting anything (an empty list: it is ready to run)."""
    return inspect_recipe(recipe)[0]


def inspect_recipe(recipe: Recipe) -> tuple[list[str], Dataset | None, Split | None]:
    """The errors, and the loaded data and split when they could be made (the runner reuses them)."""
    errors: list[str] = []
    modality = recipe.data.modality
    data, split = _check_data(recipe, errors)
    if recipe.generate is not None:
        errors += check_generator(recipe.generate.generator, recipe.generate.parameters, modality, "generate")
    if recipe.validate_section is not None:
        errors += _check_validate(recipe, modality)
    if recipe.augment is not None:
        errors += _check_augment(recipe, modality, data, split)
    if recipe.train is not None:
        from synthkit.recipes.models import check_model

        errors += check_model(recipe.train.model, recipe.train.params, modality)
    if recipe.backend.name == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            errors.append("backend.name: dask needs dask.distributed: pip install 'synthkit[dask]'")
    return errors, data, split


def _check_data(recipe: Recipe, errors: list[str]) -> tuple[Dataset | None, Split | None]:
    section = recipe.data
    if section.path is not None and not Path(section.path).exists():
        errors.append(f"data.path: {section.path}: no such file")
        return None, None
    try:
        data = load_data(section)
    except SchemaError as error:
        errors.append(f"data.schema: {error}")
        return None, None
    except SynthkitError as error:
        text = str(error)
        errors.append(text if text.startswith("data.") else f"data.path: {text}")
        return None, None
    if data.modality == "table" and section.target is not None:
        try:
            check_target(data)
        except SynthkitError as error:
            errors.append(f"data.target: {error}")
            return data, None
    try:
        return split_data(data, section, run_seeds(recipe.seed)["split"])
    except SynthkitError as error:
        text = str(error)
        errors.append(text if text.startswith("data.") else f"data: {text}")
        return data, None


def check_generator(name: str, params: dict[str, Any], modality: str, where: str) -> list[str]:
    """A generator name of the right modality, with parameters it takes and accepts."""
    from synthkit import generators

    wanted = "image" if modality == "images" else "tabular"
    known = generators.names(wanted) + (list(IMAGE_BUILTINS) if wanted == "image" else [])
    field = f"{where}.generator" if where == "generate" else f"{where}.method"
    if name not in known:
        other = generators.names()
        hint = f" ({name} makes {generators.entry(name).modality} data)" if name in other else ""
        return [f"{field}: unknown {wanted} generator {name!r}{hint} (available: {', '.join(known) or 'none yet'})"]
    if name in IMAGE_BUILTINS:
        from synthkit.augment.images import AffineJitter

        accepted = [p for p in inspect.signature(AffineJitter.__init__).parameters if p not in ("self", "images", "labels")]
        unknown = [k for k in params if k not in accepted]
        if unknown:
            return [(f"{where}.{'parameters' if where == 'generate' else 'params'}: unknown parameter(s) "
                    f"{', '.join(unknown)} for {name} (parameters: {', '.join(accepted)})")]
        return []
    try:
        from synthkit.recipes.bootstrap import make_generator

        generator = make_generator(name, params, 0)
        generator._check_params()
    except SynthkitError as error:
        key = "parameters" if where == "generate" else "params"
        return [f"{where}.{key}: {error}"]
    return []


def _check_validate(recipe: Recipe, modality: str) -> list[str]:
    from pydantic import ValidationError

    from synthkit.validators.policy import Policy

    if modality == "images":
        return ["validate: recipes validate tables only so far; validate images with `synthkit validate`"]
    policy = recipe.validate_section.policy
    if isinstance(policy, str):
        try:
            Policy.from_yaml(policy)
        except ConfigError as error:
            return [f"validate.policy: {error}"]
    elif isinstance(policy, dict):
        try:
            Policy.model_validate(policy)
        except ValidationError as error:
            return [f"validate.policy.{line}" for line in format_errors(error)]
    return []


def _check_augment(recipe: Recipe, modality: str, data: Dataset | None, split: Split | None) -> list[str]:
    from synthkit.augment.table import IMBLEARN_METHODS, _check_strategy

    errors = []
    section = recipe.augment
    for i, arm in enumerate(section.methods):
        where = f"augment.methods[{i}]"
        if modality == "images":
            if arm.strategy is not None:
                errors.append(f"{where}.strategy: applies to tables; images use synthetic_fraction")
            errors += check_generator(arm.method, arm.params, modality, where)
            continue
        if arm.synthetic_fraction is not None:
            errors.append(f"{where}.synthetic_fraction: applies to images; tables use strategy")
        if arm.method in IMBLEARN_METHODS:
            import imblearn.over_sampling as over

            accepted = getattr(over, IMBLEARN_METHODS[arm.method])._get_param_names()
            unknown = [k for k in arm.params if k not in accepted or k in ("sampling_strategy", "random_state")]
            if unknown:
                errors.append(f"{where}.params: unknown parameter(s) {', '.join(unknown)} for {arm.method} "
                              f"(parameters: {', '.join(p for p in accepted if p not in ('sampling_strategy', 'random_state'))})")
        else:
            params = {k: v for k, v in arm.params.items() if k not in ("selection", "conditioning")}
            found = check_generator(arm.method, params, modality, where)
            if found and "unknown tabular generator" in found[0]:
                found = [(f"{where}.method: unknown method {arm.method!r} (synthkit generators and imbalanced-learn's "
                         f"{', '.join(IMBLEARN_METHODS)})")]
            errors += found
        strategy = arm.strategy if arm.strategy is not None else section.strategy
        try:
            labels = data.labels()[split.train] if split is not None else None
            wanted = resolve_strategy(strategy, labels)
            if labels is not None:
                _check_strategy(wanted, labels)
        except ConfigError as error:
            field = "strategy" if arm.strategy is not None else None
            errors.append(f"{where}.{field}: {error}" if field else f"augment.strategy ({arm.label}): {error}")
    return errors


_MULTIPLIER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[x×]\s*$")


def resolve_strategy(strategy: Any, train_labels: np.ndarray | None) -> Any:
    """A recipe's strategy in imbalanced-learn's terms.

    ``"3x"`` multiplies every class but the majority by 3 (at most up to the majority's count)
    and becomes a ``{class: count}`` dict — a strategy that fits any imbalanced table, where a
    ratio such as 0.1 is an error on data already more balanced than that. Words and ratios
    go through :func:`synthkit.augment.table.parse_strategy`; dicts pass unchanged.
    """
    from synthkit.augment.table import parse_strategy

    if isinstance(strategy, dict):
        return strategy
    match = _MULTIPLIER.match(strategy) if isinstance(strategy, str) else None
    if match is None:
        return parse_strategy(strategy)
    factor = float(match.group(1))
    if factor <= 1:
        raise ConfigError(f"strategy {strategy!r}: a multiplier must be above 1 (3x triples the rarer classes)")
    if train_labels is None:
        return strategy
    classes, counts = np.unique(train_labels, return_counts=True)
    top = int(counts.max())
    return {(c.item() if hasattr(c, "item") else c): min(round(n * factor), top) for c, n in zip(classes, counts) if n < top}


__all__ = ["check_generator", "check_recipe", "inspect_recipe", "resolve_strategy"]
