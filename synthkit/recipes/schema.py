"""The recipe: a YAML file that a team can review, version and rerun (pydantic, unknown keys refused).

.. code-block:: yaml

    name: mammography
    seed: 0
    data:     {path: mammography.csv, target: class, holdout: 0.3}
    generate: {generator: gaussian_copula, parameters: {}}      # what `synthkit tune` writes fits here
    validate: {policy: policy.yaml}                              # or the thresholds inline
    augment:  {strategy: 3x, methods: [gaussian_copula, smote]}
    train:    {model: hist_gradient_boosting, metric: pr_auc, bootstrap: 30, arms: [real, augmented]}
    backend:  {name: local, workers: 2}

Loading happens in two passes, both collecting every error instead of stopping at the first:
the structure (this module's models: types, ranges, unknown keys) and then what needs the
outside world — files, columns, generator and method names (:mod:`synthkit.recipes.check`).
Each error names its full field path (``train.bootstrap: must be ≥ 1``).

Paths in the file are relative to the recipe's folder; paths given with ``--set`` are
relative to the current directory. ``${VAR}`` and ``${VAR:-default}`` in a path are read
from the environment (``${SYNTHKIT_DATASETS:-../datasets}/bank.csv``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from synthkit.errors import ConfigError

#: model families a recipe can train, per modality
TABLE_MODELS = ("hist_gradient_boosting", "logistic_regression", "random_forest", "mlp")
IMAGE_MODELS = ("cnn", "logistic_regression", "mlp", "random_forest", "hist_gradient_boosting")
#: scores on the holdout; all are "higher is better", so a positive difference is a win
METRICS = ("pr_auc", "roc_auc", "f1", "accuracy", "balanced_accuracy")
ARMS = ("real", "augmented", "synthetic")
#: the classic image augmentation from synthkit.augment.images, usable wherever an image generator is
IMAGE_BUILTINS = ("affine_jitter",)
DEMOS = ("adult", "digits")
#: fields that hold file paths (resolved against the recipe's folder, environment variables expanded)
PATH_FIELDS = (("data", "path"), ("data", "schema"), ("validate", "policy"))


class RecipeError(ConfigError):
    """A recipe has one or more errors; ``errors`` holds each as ``field.path: message``."""

    def __init__(self, source: str, errors: list[str]):
        self.source = source
        self.errors = list(errors)
        if len(self.errors) == 1:
            text = f"{source}: {self.errors[0]}"
        else:
            text = f"{source}: {len(self.errors)} errors\n" + "\n".join(f"  {e}" for e in self.errors)
        super().__init__(text)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class DataSection(_Part):
    """Where the real data comes from and how it is split."""

    path: str | None = Field(None, description="A table (CSV, .csv.gz, Parquet, JSON lines, Arrow) or images (.npz with "
                                               "`images` and `labels` arrays).")
    demo: Literal["adult", "digits"] | None = Field(
        None, description="A bundled dataset instead of a path: `adult` (10,000 UCI Adult rows, target `income`) or "
                          "`digits` (scikit-learn's 1,797 8×8 handwritten digits).")
    target: str | None = Field(None, description="The class column (tables); needed by augment, train and utility checks.")
    positive: str | int | float | bool | None = Field(
        None, description="The positive class of a binary target for pr_auc/roc_auc/f1 (default: the rarer class).")
    holdout: float = Field(0.3, gt=0, lt=1, description="Share of rows held out, stratified on the target; fixed for the "
                                                        "whole run and never trained or fitted on.")
    sample: int | None = Field(None, ge=20, description="Draw this many rows (stratified, seeded) before splitting.")
    train_rows: int | None = Field(None, ge=10, description="Keep at most this many training rows (stratified, seeded); "
                                                            "the holdout keeps its size.")
    drop: list[str] = Field(default_factory=list, description="Columns to leave out (e.g. ones known only after the fact).")
    schema_file: str | dict | None = Field(None, alias="schema", description="Column kinds: a YAML path or inline "
                                                                                "(`synthkit inspect -o`).")
    na_values: list[str] = Field(default_factory=list, description="Extra strings read as missing in CSV input.")

    @field_validator("na_values", "drop", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source(self) -> DataSection:
        if (self.path is None) == (self.demo is None):
            raise ValueError("give either path or demo" if self.path is None else "give path or demo, not both")
        return self

    @property
    def modality(self) -> str:
        if self.demo == "digits" or (self.path is not None and self.path.lower().endswith(".npz")):
            return "images"
        return "table"


class GenerateSection(_Part):
    """One generator fitted on the training split: the synthetic data, its report, the synthetic-only arm."""

    generator: str = Field(description="A name from `synthkit generators` (images: an image generator or "
                                       "`affine_jitter`).")
    parameters: dict[str, Any] = Field(default_factory=dict, description="Its hyperparameters (`synthkit tune` writes them).")
    rows: int | None = Field(None, ge=1, description="Synthetic rows to write (default: as many as the training split).")


class ValidateSection(_Part):
    """Validate the generated data against the training split, with the holdout as the privacy baseline."""

    policy: str | dict | None = Field(None, description="Gate thresholds: a YAML path or inline (see Validating "
                                                        "synthetic data); defaults for anything left out.")
    utility: bool = Field(True, description="Also measure train-on-synthetic vs train-on-real on data.target.")
    on_fail: Literal["continue", "stop"] = Field(
        "continue", description="When a gate fails: `continue` still runs the training step (exit 1 at the end); "
                                "`stop` skips it.")


class AugmentMethod(_Part):
    """One augmentation arm."""

    method: str = Field(description="Tables: a synthkit generator or an imbalanced-learn over-sampler (smote, random, …); "
                                    "images: affine_jitter or an image generator.")
    name: str | None = Field(None, description="Its label in the results (default: the method).")
    strategy: float | str | dict | None = Field(None, description="Tables: overrides augment.strategy for this arm.")
    synthetic_fraction: float | None = Field(None, ge=0, lt=1, description="Images: overrides augment.synthetic_fraction.")
    params: dict[str, Any] = Field(default_factory=dict, description="Parameters of the method (k_neighbors, epochs, …).")

    @property
    def label(self) -> str:
        return self.name or self.method


class AugmentSection(_Part):
    """Methods that add synthetic rows (or images) to each training resample."""

    methods: list[AugmentMethod] = Field(min_length=1, description="The arms: names, or mappings with method, name, "
                                                                   "strategy, params.")
    strategy: float | str | dict = Field(
        "auto", description="Tables: `3x` (every class but the majority tripled, at most to the majority's count), "
                            "or imbalanced-learn's sampling_strategy: `auto` (every class up to the majority), a "
                            "minority/majority ratio after augmenting (two classes), or {class: count}.")
    synthetic_fraction: float = Field(0.5, ge=0, lt=1, description="Images: share of generated images in the "
                                                                   "augmented training set.")
    label_distribution: Literal["real", "uniform", "inverse"] = Field(
        "real", description="Images: which classes the generated images have (inverse: rarer classes get more).")

    @field_validator("methods", mode="before")
    @classmethod
    def _names_are_methods(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list):
            return [{"method": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _distinct_labels(self) -> AugmentSection:
        labels = [m.label for m in self.methods]
        repeated = sorted({x for x in labels if labels.count(x) > 1})
        if repeated:
            raise ValueError(f"arm name(s) {', '.join(repeated)} appear twice: give each a distinct name")
        if any(label in ARMS for label in labels):
            raise ValueError(f"arm names {', '.join(ARMS)} are reserved; give the method a name")
        return self


class TrainSection(_Part):
    """Bootstrap training runs: resample, refit, train, score on the fixed holdout."""

    model: str = Field("hist_gradient_boosting", description="Tables: " + ", ".join(TABLE_MODELS)
                       + "; images: " + ", ".join(IMAGE_MODELS) + ".")
    params: dict[str, Any] = Field(default_factory=dict, description="The model's hyperparameters (scikit-learn names; "
                                                                     "cnn: epochs, batch_size, lr, width).")
    metric: list[str] = Field(default_factory=lambda: ["pr_auc"], min_length=1,
                              description="One metric or a list (the first is the headline): " + ", ".join(METRICS) + ".")
    bootstrap: int = Field(30, ge=1, description="Replicates: each resamples the training split with replacement.")
    ci: float = Field(0.95, gt=0, lt=1, description="Confidence level of the percentile intervals.")
    arms: list[Literal["real", "augmented", "synthetic"]] | None = Field(
        None, description="real: the resample alone; augmented: the resample plus each augment method's rows; synthetic: "
                          "only the generate section's rows. Default: real, plus augmented with an augment section, "
                          "or synthetic with only a generate section.")
    holdout_bootstrap: bool = Field(
        True, description="Also resample the holdout's rows in each replicate (the same rows for every arm), so the "
                          "intervals include the holdout's own sampling noise.")

    @field_validator("metric", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("metric")
    @classmethod
    def _known_metrics(cls, value: list[str]) -> list[str]:
        unknown = [m for m in value if m not in METRICS]
        if unknown:
            raise ValueError(f"unknown metric(s) {', '.join(unknown)} (metrics: {', '.join(METRICS)})")
        if len(set(value)) != len(value):
            raise ValueError("a metric is listed twice")
        return value

    @field_validator("arms")
    @classmethod
    def _real_first(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if "real" not in value:
            raise ValueError("must include real: every other arm is compared with it, replicate by replicate")
        if len(set(value)) != len(value):
            raise ValueError("an arm is listed twice")
        return ["real"] + [a for a in value if a != "real"]


class BackendSection(_Part):
    """Where the bootstrap replicates run. Results do not depend on it."""

    name: Literal["serial", "local", "dask"] = Field("local", description="local: a process pool; dask: a cluster at "
                                                                         "address (or a LocalCluster); serial: in process.")
    address: str | None = Field(None, description="A running Dask scheduler, tcp://HOST:PORT.")
    workers: int | None = Field(None, ge=1, description="Processes of the local pool or LocalCluster (default: the "
                                                        "CPU count, at most one per replicate).")

    @model_validator(mode="after")
    def _address_is_dask(self) -> BackendSection:
        if self.address is not None and self.name != "dask":
            raise ValueError("address is the address of a Dask scheduler: set name: dask")
        if self.address is not None and self.workers is not None:
            raise ValueError("workers sizes a local pool or LocalCluster; a cluster at address has its own workers")
        return self


class Recipe(_Part):
    """One pass through the flow: data → generate → validate → augment → bootstrap training runs."""

    name: str | None = Field(None, description="A label for the run (default: the file's name).")
    description: str | None = None
    seed: int = Field(0, ge=0, description="Every seed in the run derives from it: the same recipe and seed give the "
                                           "same results.")
    data: DataSection
    generate: GenerateSection | None = None
    validate_section: ValidateSection | None = Field(None, alias="validate")
    augment: AugmentSection | None = None
    train: TrainSection | None = None
    backend: BackendSection = Field(default_factory=BackendSection)

    @field_validator("backend", mode="before")
    @classmethod
    def _backend_word(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _sections_agree(self) -> Recipe:
        problems = []
        if self.train is not None and self.train.arms is None:
            extra = ["augmented"] if self.augment is not None else ["synthetic"] if self.generate is not None else []
            self.train.arms = ["real", *extra]
        if self.validate_section is not None and self.generate is None:
            problems.append("validate: needs a generate section (it validates the generated data)")
        if self.train is not None:
            if "augmented" in self.train.arms and self.augment is None:
                problems.append("train.arms: augmented needs an augment section")
            if "synthetic" in self.train.arms and self.generate is None:
                problems.append("train.arms: synthetic needs a generate section")
            if self.data.target is None and self.data.modality == "table":
                problems.append("data.target: required by the train section")
        if self.augment is not None and self.data.target is None and self.data.modality == "table":
            problems.append("data.target: required by the augment section")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- derived -----------------------------------------------------------------------
    def label(self, fallback: str = "recipe") -> str:
        return self.name or fallback

    def resolved(self) -> dict[str, Any]:
        """The recipe with every default filled in, as plain data (what the manifest records)."""
        return self.model_dump(mode="json", by_alias=True)

    def fingerprint(self) -> str:
        """SHA-256 of everything that shapes the results (the backend does not)."""
        body = {k: v for k, v in self.resolved().items() if k != "backend"}
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


# -------------------------------------------------------------------------------------------
# loading: YAML -> overrides -> paths -> models, collecting every error
# -------------------------------------------------------------------------------------------

def load_recipe(path: str | os.PathLike, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read a recipe file, apply ``section.key=value`` overrides, and validate its structure.

    Raises :class:`RecipeError` listing every structural error; see
    :func:`synthkit.recipes.check.check_recipe` for the checks against files and names.
    """
    path = Path(path)
    raw = read_yaml(path)
    return recipe_from_dict(raw, source=str(path), base=path.resolve().parent, overrides=overrides)


def read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such recipe file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a recipe file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(error, 'problem', None) or str(error).splitlines()[0]}") from None
    if raw is None:
        raise ConfigError(f"{path}: the recipe is empty")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of sections (data, generate, …), got {type(raw).__name__}")
    return raw


def recipe_from_dict(raw: dict[str, Any], *, source: str = "recipe", base: Path | None = None,
                     overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Validate a recipe given as a dict (paths resolve against ``base``, overrides against the cwd)."""
    raw = _expand_shorthands(copy.deepcopy(raw))
    errors: list[str] = []
    overridden: set[tuple[str, ...]] = set()
    for text in overrides:
        try:
            overridden.add(apply_override(raw, text))
        except ConfigError as error:
            errors.append(str(error))
    errors += resolve_paths(raw, base or Path.cwd(), overridden)
    try:
        recipe = Recipe.model_validate(raw)
    except ValidationError as error:
        errors += format_errors(error, overridden)
        raise RecipeError(source, errors) from None
    if errors:
        raise RecipeError(source, errors)
    return recipe


def _expand_shorthands(raw: dict[str, Any]) -> dict[str, Any]:
    """Shorthands as the mappings they stand for, so that ``--set`` can reach inside them."""
    augment = raw.get("augment")
    if isinstance(augment, dict) and isinstance(augment.get("methods"), list):
        augment["methods"] = [{"method": m} if isinstance(m, str) else m for m in augment["methods"]]
    if isinstance(raw.get("backend"), str):
        raw["backend"] = {"name": raw["backend"]}
    return raw


def apply_override(raw: dict[str, Any], text: str) -> tuple[str, ...]:
    """``section.key=value`` (value read as YAML) into ``raw``; returns the key path."""
    import yaml

    key, sep, value = text.partition("=")
    parts = tuple(p.strip() for p in key.split("."))
    if not sep or not all(parts):
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. train.bootstrap=2")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError:
        parsed = value
    node: Any = raw
    for depth, part in enumerate(parts[:-1]):
        where = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            node = node[_list_index(node, part, where, text)]
            continue
        if not isinstance(node, dict):
            raise ConfigError(f"--set {text!r}: {'.'.join(parts[:depth])} is not a section")
        if node.get(part) is None:
            node[part] = {}
        node = node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, key, text)] = parsed
    elif isinstance(node, dict):
        node[last] = parsed
    else:
        raise ConfigError(f"--set {text!r}: {'.'.join(parts[:-1])} is not a section")
    return parts


def _list_index(node: list, part: str, where: str, text: str) -> int:
    if not part.isdigit() or int(part) >= len(node):
        raise ConfigError(f"--set {text!r}: {where}: a list of {len(node)}; use an index from 0 to {len(node) - 1}")
    return int(part)


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_path(text: str, base: Path) -> str:
    """Environment variables expanded, ``~`` expanded, relative paths joined to ``base``."""
    def replace(match: re.Match) -> str:
        value = os.environ.get(match.group(1))
        if value:
            return value
        if match.group(2) is not None:
            return match.group(2)
        raise ConfigError(f"environment variable {match.group(1)} is not set (write ${{{match.group(1)}:-DEFAULT}} "
                          "to give a default)")

    expanded = Path(_VARIABLE.sub(replace, text)).expanduser()
    return str(expanded if expanded.is_absolute() else (base / expanded).resolve())


def resolve_paths(raw: dict[str, Any], base: Path, overridden: set[tuple[str, ...]]) -> list[str]:
    """Make the path fields absolute in place; returns errors (unset variables)."""
    errors = []
    for section, key in PATH_FIELDS:
        part = raw.get(section)
        if not isinstance(part, dict) or not isinstance(part.get(key), str):
            continue
        where = Path.cwd() if (section, key) in overridden else base
        try:
            part[key] = expand_path(part[key], where)
        except ConfigError as error:
            errors.append(f"{section}.{key}: {error}")
    return errors


def field_path(loc: tuple) -> str:
    """``("augment", "methods", 1, "method")`` -> ``augment.methods[1].method``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_ALIASES = {"validate_section": "validate", "schema_file": "schema"}


def _known_keys(loc: tuple) -> list[str]:
    """The keys a mapping at ``loc`` accepts (for 'unknown key' messages)."""
    model: Any = Recipe
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) or next(
            (f for n, f in model.model_fields.items() if f.alias == part), None)
        if field is None:
            return []
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        for inner in list(candidates):
            candidates += list(getattr(inner, "__args__", ()))
        nested = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if nested is None:
            return []
        model = nested
    return [f.alias or n for n, f in model.model_fields.items()]


_UNION_TAG = re.compile(r"^(str|int|float|bool|dict\[.*\]|list\[.*\])$")
_TAG_WORDS = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true or false"}


def format_errors(error: ValidationError, overridden: set[tuple[str, ...]] = frozenset()) -> list[str]:
    """pydantic's errors as ``field.path: message`` lines a person can act on."""
    lines: list[str] = []
    unions: dict[tuple, list[str]] = {}
    from_set = {tuple(o) for o in overridden}
    for item in error.errors():
        loc = tuple(_ALIASES.get(p, p) if isinstance(p, str) else p for p in item["loc"])
        if loc and isinstance(loc[-1], str) and _UNION_TAG.match(loc[-1]):
            # a field that accepts several types reports once per type: say what it accepts, once
            tag = loc[-1]
            unions.setdefault(loc[:-1], []).append(_TAG_WORDS.get(tag, "a mapping" if tag.startswith("dict") else "a list"))
            if len(unions[loc[:-1]]) > 1:
                continue
            loc = loc[:-1]
        where = field_path(loc)
        if loc in unions:
            message = "must be {accepted}, not " + repr(item["input"])
        else:
            message = _message(item, loc)
        if message is None:  # a rule that names its own fields
            for part in str(item.get("ctx", {}).get("error", item["msg"])).split("; "):
                lines.append(part if re.match(r"^[a-z_.\[\]0-9]+: ", part) or not where else f"{where}: {part}")
            continue
        if tuple(str(p) for p in loc) in from_set:
            message += " (from --set)"
        lines.append(f"{where}: {message}" if where else message)
    out = []
    for line in lines:
        for loc, accepted in unions.items():
            if line.startswith(field_path(loc) + ": must be {accepted}"):
                words = list(dict.fromkeys(accepted))
                line = line.replace("{accepted}", ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else words[0])
        if line not in out:
            out.append(line)
    return out


def _message(item: dict, loc: tuple) -> str | None:
    kind, ctx = item["type"], item.get("ctx", {})
    if kind == "extra_forbidden":
        known = _known_keys(loc)
        return "unknown key" + (f" (known: {', '.join(known)})" if known else "")
    if kind == "missing":
        return "required"
    if kind in ("greater_than_equal", "greater_than", "less_than", "less_than_equal"):
        sign, key = {"greater_than_equal": ("≥", "ge"), "greater_than": (">", "gt"), "less_than": ("<", "lt"),
                     "less_than_equal": ("≤", "le")}[kind]
        return f"must be {sign} {ctx[key]:g}" if isinstance(ctx[key], float) else f"must be {sign} {ctx[key]}"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}, not {item['input']!r}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"must be a whole number, not {item['input']!r}"
    if kind in ("float_parsing", "float_type"):
        return f"must be a number, not {item['input']!r}"
    if kind in ("bool_parsing", "bool_type"):
        return f"must be true or false, not {item['input']!r}"
    if kind in ("string_type",):
        return f"must be text, not {item['input']!r}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping of keys, not {type(item['input']).__name__}"
    if kind == "list_type":
        return f"must be a list, not {type(item['input']).__name__}"
    if kind == "too_short":
        return "must not be empty"
    if kind == "value_error":
        message = str(ctx.get("error", item["msg"]))
        if re.match(r"^[a-z_.\[\]0-9]+: ", message):
            return None
        return message
    return item["msg"]


__all__ = [
    "ARMS", "DEMOS", "IMAGE_BUILTINS", "IMAGE_MODELS", "METRICS", "TABLE_MODELS", "AugmentMethod", "AugmentSection",
    "BackendSection", "DataSection", "GenerateSection", "Recipe", "RecipeError", "TrainSection", "ValidateSection",
    "apply_override", "format_errors", "load_recipe", "read_yaml", "recipe_from_dict",
]
