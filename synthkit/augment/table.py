"""Augment a whole table: what ``synthkit augment`` runs.

One function, :func:`augment_table`, takes a polars table and the name of its target column
and over-samples the classes with either a synthkit generator (through
:class:`~synthkit.augment.tabular.SyntheticOverSampler`) or one of imbalanced-learn's
over-samplers. It chooses what the data needs and says so in ``notes``: SMOTE on a table
with categorical columns becomes SMOTENC (or SMOTEN when every column is categorical) instead
of interpolating category codes; methods that cannot handle categorical or missing values
refuse with a one-line error instead of producing nonsense.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from synthkit.errors import ConfigError, DataError

#: method name -> imbalanced-learn over-sampler class
IMBLEARN_METHODS: dict[str, str] = {
    "random": "RandomOverSampler",
    "smote": "SMOTE",
    "smotenc": "SMOTENC",
    "smoten": "SMOTEN",
    "adasyn": "ADASYN",
    "borderline_smote": "BorderlineSMOTE",
    "svm_smote": "SVMSMOTE",
    "kmeans_smote": "KMeansSMOTE",
}
_STRATEGY_WORDS = ("auto", "minority", "not minority", "not majority", "all")
_MISSING_LEVEL = "__synthkit_missing__"


@dataclass
class AugmentResult:
    """The augmented table and what happened."""

    table: pl.DataFrame
    method: str  # what actually ran (e.g. "smotenc" when "smote" was asked on mixed data)
    before: dict[Any, int]
    after: dict[Any, int]
    notes: list[str] = field(default_factory=list)

    @property
    def added(self) -> int:
        return sum(self.after.values()) - sum(self.before.values())


def method_names() -> list[str]:
    """Every method ``augment_table`` accepts: synthkit's tabular generators, then imbalanced-learn's."""
    from synthkit import generators

    return generators.names("tabular") + list(IMBLEARN_METHODS)


def parse_strategy(text: str | float | dict) -> str | float | dict:
    """``"auto"``/``"minority"``/… stay words; a ``{class: count}`` dict stays (checked against the
    target later); anything else must be a ratio in (0, 1]."""
    if isinstance(text, dict):
        return text
    if isinstance(text, numbers.Real) and not isinstance(text, bool):
        value = float(text)
    else:
        word = str(text).strip().lower().replace("_", " ")
        if word in _STRATEGY_WORDS:
            return word
        try:
            value = float(word)
        except ValueError:
            raise ConfigError(
                f"strategy {text!r}: use auto, minority, not minority, not majority, all, "
                "or a minority/majority ratio such as 0.25"
            ) from None
    if not 0 < value <= 1:
        raise ConfigError(f"strategy {text!r}: a ratio must be above 0 and at most 1 (minority/majority after resampling)")
    return value


def _check_target(frame: pl.DataFrame, target: str) -> np.ndarray:
    from sklearn.utils.multiclass import type_of_target

    if target not in frame.columns:
        raise ConfigError(f"target column {target!r} is not in the table (columns: {', '.join(frame.columns)})")
    if frame.width < 2:
        raise DataError(f"the table has no columns besides the target {target!r}: nothing to learn from")
    col = frame.get_column(target)
    if col.null_count():
        raise DataError(f"target column {target!r} has {col.null_count()} missing values: drop or fill those rows first")
    y = col.to_numpy()
    classes = np.unique(y)
    if classes.size < 2:
        only = classes[0].item() if hasattr(classes[0], "item") else classes[0]
        raise DataError(f"target column {target!r} has a single class ({only!r}): there is nothing to balance")
    kind = type_of_target(y)
    if kind not in ("binary", "multiclass"):
        raise DataError(
            f"target column {target!r} looks {kind} ({classes.size} distinct values): "
            "augmentation over-samples classes, so the target must hold class labels"
        )
    return y


def _check_strategy(strategy: str | float, y: np.ndarray) -> dict[Any, int]:
    from imblearn.utils import check_sampling_strategy

    classes, counts = np.unique(y, return_counts=True)
    if isinstance(strategy, float):
        if classes.size > 2:
            raise ConfigError(
                f"strategy {strategy:g}: a ratio works for two classes only, and the target has {classes.size}; "
                "use auto (every class up to the majority's count) or another word"
            )
        natural = counts.min() / counts.max()
        if int(counts.max() * strategy) <= counts.min():
            raise ConfigError(
                f"strategy {strategy:g}: the minority is already {natural:.3f} of the majority "
                f"({counts.min():,} vs {counts.max():,} rows); ask for a larger ratio"
            )
    try:
        return dict(check_sampling_strategy(strategy, y, "over-sampling"))
    except ValueError as error:
        raise ConfigError(f"strategy {strategy!r}: {str(error).splitlines()[0]}") from None


def _counts(y: np.ndarray) -> dict[Any, int]:
    classes, counts = np.unique(y, return_counts=True)
    return {c.item() if hasattr(c, "item") else c: int(n) for c, n in zip(classes, counts)}


def augment_table(
    frame: pl.DataFrame,
    target: str,
    *,
    method: str,
    strategy: str | float | dict = "auto",
    seed: int | None = None,
    params: dict[str, Any] | None = None,
    verbose: bool = False,
) -> AugmentResult:
    """Over-sample ``frame``'s classes in ``target`` with ``method``; every original row comes first.

    ``method`` is a synthkit generator name (``gaussian_copula``, ``tvae``, …) or an
    imbalanced-learn over-sampler (``random``, ``smote``, ``smotenc``, ``adasyn``, …);
    ``params`` go to it. ``strategy`` has imbalanced-learn's meaning (``"auto"``: every class
    up to the majority's count; a float: the minority/majority ratio, two classes only; a
    ``{class: count}`` dict: each listed class's count after augmenting).
    """
    from synthkit import generators

    strategy = parse_strategy(strategy)
    y = _check_target(frame, target)
    known = method_names()
    if method not in known:
        raise ConfigError(f"unknown method {method!r} (synthkit generators: {', '.join(generators.names('tabular'))}; "
                          f"imbalanced-learn: {', '.join(IMBLEARN_METHODS)})")
    _check_strategy(strategy, y)
    features = frame.drop(target)
    before = _counts(y)
    if method in IMBLEARN_METHODS:
        new_X, new_y, used, notes = _imblearn(features, y, method, strategy, seed, dict(params or {}))
    else:
        new_X, new_y, used, notes = _synthkit(features, frame.get_column(target), method, strategy, seed, dict(params or {}), verbose)
    column = pl.Series(target, new_y).cast(frame.schema[target], strict=False)
    table = pl.concat([frame, new_X.with_columns(column).select(frame.columns)], how="vertical_relaxed") if new_X.height else frame
    return AugmentResult(table=table, method=used, before=before, after=_counts(table.get_column(target).to_numpy()), notes=notes)


def _synthkit(features: pl.DataFrame, y: pl.Series, method: str, strategy, seed, params, verbose):
    from synthkit import generators
    from synthkit.augment.tabular import SyntheticOverSampler

    klass = generators.get(method)
    # the sampler's own options travel with the generator's parameters
    options = {k: params.pop(k) for k in ("selection", "conditioning") if k in params}
    unknown = [k for k in params if k not in klass._param_names()]
    if unknown:
        raise ConfigError(f"{method}: unknown parameter(s) {', '.join(unknown)} (parameters: {', '.join(klass._param_names())})")
    if verbose and "verbose" in klass._param_names():
        params.setdefault("verbose", True)
    sampler = SyntheticOverSampler(generator=method, sampling_strategy=strategy, random_state=seed,
                                   generator_params=params, **options)
    try:
        X_res, y_res = sampler.fit_resample(features, y)
    except ValueError as error:  # imbalanced-learn's parameter validation
        raise ConfigError(f"{method}: {str(error).strip().splitlines()[0]}") from None
    n = features.height
    how = "one generator per class" if sampler.conditioning_ == "per_class" else "one generator conditioned on the class"
    notes = [f"{method}: {how}" + (f", {sampler.selection} selection" if sampler.selection != "none" else "")]
    return X_res.slice(n), y_res.slice(n).to_numpy(), method, notes


def _imblearn(features: pl.DataFrame, y: np.ndarray, method: str, strategy, seed, params):
    """Run an imbalanced-learn over-sampler on a polars table, keeping column types."""
    import imblearn.over_sampling as over

    from synthkit.data.schema import Schema

    schema = Schema.infer(features)
    notes: list[str] = []
    private = schema.names("id", "pii")
    if private:
        notes.append(f"{', '.join(private)}: id/personal columns are not copied into new rows (left empty)")
    usable = features.drop(private)
    if usable.width == 0:
        raise DataError("every feature column is an id or personal data: nothing to over-sample from")
    categorical = [c for c in usable.columns if schema.columns[c].kind in ("categorical", "boolean")]
    numeric = [c for c in usable.columns if c not in categorical]
    used = method
    if method == "smote" and categorical:
        used = "smoten" if not numeric else "smotenc"
        shown = ", ".join(categorical[:6]) + (" …" if len(categorical) > 6 else "")
        notes.append(f"smote: {len(categorical)} categorical column(s) ({shown}) would be interpolated into "
                     f"meaningless values, so {used.upper()} runs instead")
    elif method == "smotenc" and not categorical:
        used = "smote"
        notes.append("smotenc: no categorical columns, so plain SMOTE runs")
    elif method == "smotenc" and not numeric:
        used = "smoten"
        notes.append("smotenc: every column is categorical, so SMOTEN runs")
    elif method == "smoten" and numeric:
        raise ConfigError(f"smoten handles categorical columns only, but {', '.join(numeric[:6])} are numeric: use smotenc")
    elif method not in ("random", "smote", "smotenc", "smoten") and categorical:
        raise ConfigError(
            f"{method} interpolates every column, but {', '.join(categorical[:6])} are categorical: "
            "use smote (it switches to SMOTENC), smotenc, random or a synthkit generator"
        )
    if used != "random":
        missing = [c for c in numeric if usable.get_column(c).null_count()]
        if missing:
            raise ConfigError(
                f"{used} cannot interpolate missing values, and {', '.join(missing[:6])} have some: "
                "use random or a synthkit generator, or fill them first"
            )

    # numbers as floats (datetimes through their epoch value), categories as text with an explicit missing level
    pdf = usable.select(
        [pl.col(c).to_physical().cast(pl.Float64) for c in numeric]
        + [pl.col(c).cast(pl.String).fill_null(_MISSING_LEVEL) for c in categorical]
    ).to_pandas()
    klass = getattr(over, IMBLEARN_METHODS[used])
    kwargs = dict(params)
    if used == "smotenc":
        kwargs["categorical_features"] = [pdf.columns.get_loc(c) for c in categorical]
    accepted = klass._get_param_names()
    unknown = [k for k in kwargs if k not in accepted]
    if unknown:
        raise ConfigError(f"{used}: unknown parameter(s) {', '.join(unknown)} (parameters: {', '.join(sorted(accepted))})")
    if "random_state" in accepted:
        kwargs["random_state"] = seed
    try:
        sampler = klass(sampling_strategy=strategy, **kwargs)
        X_res, y_res = sampler.fit_resample(pdf, y)
    except (ValueError, RuntimeError) as error:
        raise ConfigError(f"{used}: {str(error).strip().splitlines()[0]}") from None
    n = features.height
    new = pl.from_pandas(X_res.iloc[n:].reset_index(drop=True))
    if new.height == 0:
        return features.clear(), np.asarray(y_res)[n:], used, notes
    columns = []
    for name in features.columns:
        dtype = features.schema[name]
        if name in private:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
        elif name in categorical:
            text = new.get_column(name).replace(_MISSING_LEVEL, None)
            columns.append(text.cast(dtype, strict=False) if dtype != pl.Boolean else
                           text.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean))
        else:
            values = new.get_column(name)
            physical = features.get_column(name).to_physical().dtype
            if physical.is_integer():
                values = values.round(0).cast(physical, strict=False)
            columns.append(values.cast(dtype, strict=False))
    return new.select(columns), np.asarray(y_res)[n:], used, notes
