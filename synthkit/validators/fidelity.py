"""Fidelity metrics: how closely synthetic data follows the real distribution.

* column shapes: per column, 1 − Kolmogorov–Smirnov statistic (numbers, datetimes) or
  1 − total variation distance (categories); missing values left out, as SDMetrics does;
* column pair trends: per pair, 1 − |Δ Pearson correlation| / 2 for two numbers, otherwise
  1 − total variation distance of the contingency table (numbers cut into 10 equal-width bins
  of the real column, missing values a cell of their own); the score averages the pairs that
  are related in the real data (|r| > 0.5 or Cramér's V > 0.3), as SDMetrics does;
* SDMetrics' QualityReport score (the mean of its Column Shapes and Column Pair Trends), for
  comparability with the field;
* detection: a gradient-boosting classifier tries to tell real rows from synthetic rows;
  the cross-validated ROC-AUC is 0.5 when it cannot, 1.0 when every row gives itself away;
* utility: train-on-synthetic-test-on-real (TSTR) against train-on-real-test-on-real (TRTR)
  with the same gradient-boosting model.

The functions take polars frames and a :class:`~synthkit.data.schema.Schema` and return plain
numbers, so benchmarks and tuners can call them without building a report.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import polars as pl

from synthkit.data.schema import Schema
from synthkit.errors import DataError
from synthkit.validators._columns import category_codes, is_numeric, learnable, numbers

_SDTYPE = {"numeric": "numerical", "datetime": "datetime", "categorical": "categorical", "boolean": "categorical"}
PAIR_BINS = 10
# Contingency tables keep a category's most frequent levels and pool the rest (SDMetrics does
# not, and its tables grow with the product of the two cardinalities).
PAIR_MAX_LEVELS = 100


def sdmetrics_metadata(schema: Schema) -> dict:
    """SDMetrics' single-table metadata for the learnable columns (ids and PII are left out)."""
    return {"columns": {n: {"sdtype": _SDTYPE[s.kind]} for n, s in schema.columns.items() if s.kind in _SDTYPE}}


def sdmetrics_quality(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema) -> float:
    """SDMetrics' QualityReport score (mean of Column Shapes and Column Pair Trends), 0–1."""
    import warnings

    from sdmetrics.reports import QualityReport

    metadata = sdmetrics_metadata(schema)
    columns = [c for c in metadata["columns"] if c in real.columns and c in synthetic.columns]
    metadata = {"columns": {c: metadata["columns"][c] for c in columns}}
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(
            {"table": real.select(columns).to_pandas()},
            {"table": synthetic.select(columns).to_pandas()},
            {"tables": {"table": metadata}},
            verbose=False,
        )
    return float(report.get_score())


# ---------------------------------------------------------------------------------------------
# Column shapes and pair trends
# ---------------------------------------------------------------------------------------------

def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    """1 − the two-sample Kolmogorov–Smirnov statistic, missing values (NaN) left out."""
    a = np.sort(real[~np.isnan(real)])
    b = np.sort(synthetic[~np.isnan(synthetic)])
    if a.size == 0 or b.size == 0:
        return float("nan")
    points = np.concatenate([a, b])
    gap = np.abs(np.searchsorted(a, points, "right") / a.size - np.searchsorted(b, points, "right") / b.size)
    return float(1.0 - gap.max())


def tv_complement(real_codes: np.ndarray, synthetic_codes: np.ndarray, levels: int, *, skip: int | None = None) -> float:
    """1 − total variation distance between two category-code arrays (code ``skip`` left out)."""
    p = np.bincount(real_codes, minlength=levels).astype(float)
    q = np.bincount(synthetic_codes, minlength=levels).astype(float)
    if skip is not None:
        p[skip] = q[skip] = 0
    if p.sum() == 0 or q.sum() == 0:
        return float("nan")
    return float(1.0 - 0.5 * np.abs(p / p.sum() - q / q.sum()).sum())


def _null_code(levels: list[str]) -> int | None:
    from synthkit.validators._columns import _NULL_LEVEL

    return levels.index(_NULL_LEVEL) if _NULL_LEVEL in levels else None


def column_shapes(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema) -> dict[str, float]:
    """Per learnable column: KS complement (numbers, datetimes) or TV complement (categories), 0–1."""
    out = {}
    for name in learnable(schema, [real, synthetic]):
        if is_numeric(schema, name):
            out[name] = ks_complement(numbers(real.get_column(name)), numbers(synthetic.get_column(name)))
        else:
            (r, s), levels = category_codes(real.get_column(name), synthetic.get_column(name))
            out[name] = tv_complement(r, s, len(levels), skip=_null_code(levels))
    return out


def _binned(name: str, schema: Schema, real: pl.DataFrame, synthetic: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Both versions of a column as small integer codes (numbers in 10 bins, missing a code of its own)."""
    if is_numeric(schema, name):
        r, s = numbers(real.get_column(name)), numbers(synthetic.get_column(name))
        finite = r[~np.isnan(r)]
        if finite.size == 0:
            edges = np.array([-np.inf, np.inf])
        else:
            edges = np.histogram_bin_edges(finite, bins=PAIR_BINS)
            edges[0], edges[-1] = -np.inf, np.inf
        # np.digitize puts NaN past the last edge: missing values get a bin of their own.
        return np.digitize(r, edges), np.digitize(s, edges), len(edges) + 1
    (r, s), levels = category_codes(real.get_column(name), synthetic.get_column(name))
    if len(levels) > PAIR_MAX_LEVELS:
        # Codes follow real frequency: pool the long tail so a contingency table stays small.
        return np.minimum(r, PAIR_MAX_LEVELS), np.minimum(s, PAIR_MAX_LEVELS), PAIR_MAX_LEVELS + 1
    return r, s, len(levels)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    ok = ~(np.isnan(x) | np.isnan(y))
    if ok.sum() < 3:
        return float("nan")
    x, y = x[ok], y[ok]
    sx, sy = x.std(), y.std()
    if sx == 0 or sy == 0:
        return float("nan")
    return float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sy))


# SDMetrics' QualityReport counts only pairs that are related in the real data: otherwise the
# many unrelated pairs (similarity ~1 whatever the generator does) drown the ones that matter.
CORRELATION_THRESHOLD = 0.5
ASSOCIATION_THRESHOLD = 0.3


def _cramers_v(table: np.ndarray) -> float:
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    n = table.sum()
    if n == 0 or min(table.shape) < 2:
        return 0.0
    expected = np.outer(table.sum(1), table.sum(0)) / n
    chi2 = ((table - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / n / (min(table.shape) - 1)))


def pair_details(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema) -> dict[tuple[str, str], dict]:
    """Per pair: ``score`` (similarity 0–1), ``metric``, the real data's ``association``, ``related``."""
    columns = learnable(schema, [real, synthetic])
    binned = {c: _binned(c, schema, real, synthetic) for c in columns}
    values = {c: (numbers(real.get_column(c)), numbers(synthetic.get_column(c))) for c in columns if is_numeric(schema, c)}
    out: dict[tuple[str, str], dict] = {}
    for a, b in combinations(columns, 2):
        if a in values and b in values:
            ra, sa = values[a]
            rb, sb = values[b]
            r_real, r_syn = _pearson(ra, rb), _pearson(sa, sb)
            if not (np.isnan(r_real) or np.isnan(r_syn)):
                out[(a, b)] = {"score": 1.0 - abs(r_real - r_syn) / 2.0, "metric": "correlation",
                               "association": abs(r_real), "related": abs(r_real) > CORRELATION_THRESHOLD}
                continue
        (ra, sa, ka), (rb, sb, kb) = binned[a], binned[b]
        counts = np.bincount(ra.astype(np.int64) * kb + rb, minlength=ka * kb)
        p = counts / max(len(ra), 1)
        q = np.bincount(sa.astype(np.int64) * kb + sb, minlength=ka * kb) / max(len(sa), 1)
        v = _cramers_v(counts.reshape(ka, kb).astype(float))
        out[(a, b)] = {"score": float(1.0 - 0.5 * np.abs(p - q).sum()), "metric": "contingency",
                       "association": v, "related": v > ASSOCIATION_THRESHOLD}
    return out


def pair_trends(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema) -> dict[tuple[str, str], float]:
    """Per pair of learnable columns: correlation similarity (two numbers) or contingency similarity."""
    return {pair: d["score"] for pair, d in pair_details(real, synthetic, schema).items()}


def pair_trends_summary(details: dict[tuple[str, str], dict]) -> float:
    """Mean similarity over the pairs related in the real data (all pairs if none is)."""
    related = [d["score"] for d in details.values() if d["related"]]
    return mean_score(related) if related else mean_score(d["score"] for d in details.values())


def mean_score(values) -> float:
    """Mean of the finite values (NaN for none)."""
    arr = np.array([v for v in values if v is not None and not np.isnan(v)], dtype=float)
    return float(arr.mean()) if arr.size else float("nan")


def column_shapes_score(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema) -> float:
    """Mean of :func:`column_shapes`."""
    return mean_score(column_shapes(real, synthetic, schema).values())


def pair_trends_score(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema) -> float:
    """Mean pair similarity over the pairs related in the real data (|r| > 0.5, Cramér's V > 0.3),
    as SDMetrics' Column Pair Trends counts them; over all pairs when none is related."""
    return pair_trends_summary(pair_details(real, synthetic, schema))


# ---------------------------------------------------------------------------------------------
# Models: detection and utility
# ---------------------------------------------------------------------------------------------

# HistGradientBoosting takes at most 255 bins; codes are ordered by real frequency, so the
# rarest levels of a very wide category share the last code.
_MAX_CATEGORY_CODE = 250


def model_features(frames: list[pl.DataFrame], schema: Schema, columns: list[str]) -> tuple[list[np.ndarray], np.ndarray]:
    """Feature matrices for gradient boosting over several frames (the first sets the codes)."""
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    categorical = []
    for name in columns:
        if is_numeric(schema, name):
            for block, frame in zip(blocks, frames):
                block.append(numbers(frame.get_column(name)))
            categorical.append(False)
        else:
            codes, _ = category_codes(*(f.get_column(name) for f in frames))
            for block, c in zip(blocks, codes):
                block.append(np.minimum(c, _MAX_CATEGORY_CODE).astype(float))
            categorical.append(True)
    matrices = [np.stack(b, axis=1) if b else np.zeros((f.height, 0)) for b, f in zip(blocks, frames)]
    return matrices, np.array(categorical, dtype=bool)


class _Booster:
    """Gradient boosting whose fit and predict run on one OpenMP thread.

    On a busy machine OpenMP's spinning worker threads make these small fits several times
    slower (measured 7× on 2 shared cores); on a quiet one a second thread gains little.
    """

    def __init__(self, kind: str, categorical: np.ndarray, seed: int):
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        klass = HistGradientBoostingRegressor if kind == "regression" else HistGradientBoostingClassifier
        self.model = klass(categorical_features=categorical if categorical.any() else None, random_state=seed)

    def _limited(self, method: str, *args):
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="openmp"):
            return getattr(self.model, method)(*args)

    def fit(self, x, y) -> _Booster:
        self._limited("fit", x, y)
        self.classes_ = getattr(self.model, "classes_", None)
        return self

    def predict(self, x):
        return self._limited("predict", x)

    def predict_proba(self, x):
        return self._limited("predict_proba", x)


def _booster(kind: str, categorical: np.ndarray, seed: int) -> _Booster:
    return _Booster(kind, categorical, seed)


def detection(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema, *, seed: int = 0,
              max_rows: int = 20_000, folds: int = 3) -> dict:
    """Real-vs-synthetic classifier: cross-validated ROC-AUC (``auc``) and rows used per class.

    Equal numbers of real and synthetic rows (at most ``max_rows`` each) are drawn; the
    gradient-boosting classifier's out-of-fold scores give one AUC.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    columns = learnable(schema, [real, synthetic])
    n = min(real.height, synthetic.height, max_rows)
    if n < 2 * folds:
        raise DataError(f"detection needs at least {2 * folds} real and synthetic rows, got {n}")
    r, s = real.sample(n=n, seed=seed), synthetic.sample(n=n, seed=seed + 1)
    (xr, xs), categorical = model_features([r, s], schema, columns)
    x = np.vstack([xr, xs])
    y = np.r_[np.zeros(n), np.ones(n)]
    scores = np.empty(2 * n)
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        model = _booster("classification", categorical, seed).fit(x[train_idx], y[train_idx])
        scores[test_idx] = model.predict_proba(x[test_idx])[:, 1]
    return {"auc": float(roc_auc_score(y, scores)), "rows_per_class": n}


def detection_auc(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema, *, seed: int = 0,
                  max_rows: int = 20_000) -> float:
    """ROC-AUC of a gradient-boosting classifier telling real from synthetic rows (0.5 = indistinguishable)."""
    return detection(real, synthetic, schema, seed=seed, max_rows=max_rows)["auc"]


def task_kind(schema: Schema, target: str) -> str:
    return "regression" if is_numeric(schema, target) else "classification"


def model_score(train: pl.DataFrame, test: pl.DataFrame, schema: Schema, target: str, *, seed: int = 0) -> dict:
    """Fit gradient boosting on ``train`` to predict ``target``, score it on ``test``.

    Classification: ROC-AUC (one-vs-rest, macro, for more than two classes) and macro F1;
    regression: R². A training set with a single class scores AUC 0.5 (no skill).
    """
    from sklearn.metrics import f1_score, r2_score, roc_auc_score

    columns = [c for c in learnable(schema, [train, test]) if c != target]
    kind = task_kind(schema, target)
    (x_train, x_test), categorical = model_features([train, test], schema, columns)
    if kind == "regression":
        y_train, y_test = numbers(train.get_column(target)), numbers(test.get_column(target))
        keep_tr, keep_te = ~np.isnan(y_train), ~np.isnan(y_test)
        model = _booster(kind, categorical, seed).fit(x_train[keep_tr], y_train[keep_tr])
        return {"metric": "r2", "value": float(r2_score(y_test[keep_te], model.predict(x_test[keep_te])))}
    (y_train, y_test), _ = category_codes(train.get_column(target), test.get_column(target))
    classes = np.unique(y_train)
    test_classes = np.unique(y_test)
    if classes.size < 2:
        return {"metric": "roc_auc", "value": 0.5, "f1_macro": float("nan"), "note": "one class in the training rows"}
    model = _booster(kind, categorical, seed).fit(x_train, y_train)
    proba = model.predict_proba(x_test)
    f1 = float(f1_score(y_test, model.predict(x_test), average="macro"))
    if test_classes.size < 2:
        return {"metric": "roc_auc", "value": float("nan"), "f1_macro": f1, "note": "one class in the test rows"}
    if classes.size == 2 and set(test_classes) <= set(classes):
        auc = roc_auc_score(y_test == model.classes_[1], proba[:, 1])
    else:
        # One-vs-rest over the test classes the model knows; one it never saw cannot be ranked.
        known = list(model.classes_)
        aucs = [roc_auc_score(y_test == c, proba[:, known.index(c)]) for c in test_classes if c in known]
        auc = float(np.mean(aucs)) if aucs else 0.5
    return {"metric": "roc_auc", "value": float(auc), "f1_macro": f1}


def tstr(synthetic: pl.DataFrame, real_train: pl.DataFrame, test: pl.DataFrame, schema: Schema, target: str,
         *, seed: int = 0) -> dict:
    """Train-on-synthetic vs train-on-real, both tested on the same real rows ``test``."""
    syn = model_score(synthetic, test, schema, target, seed=seed)
    real = model_score(real_train, test, schema, target, seed=seed)
    return {"metric": syn["metric"], "tstr": syn["value"], "trtr": real["value"],
            "tstr_f1_macro": syn.get("f1_macro"), "trtr_f1_macro": real.get("f1_macro"),
            "notes": [n for n in (syn.get("note"), real.get("note")) if n]}


def tstr_auc(synthetic: pl.DataFrame, test: pl.DataFrame, schema: Schema, target: str, *, seed: int = 0) -> float:
    """ROC-AUC on real ``test`` rows of gradient boosting trained on ``synthetic`` (classification targets)."""
    result = model_score(synthetic, test, schema, target, seed=seed)
    if result["metric"] != "roc_auc":
        raise DataError(f"target {target!r} is numeric: TSTR ROC-AUC needs a categorical target (use model_score for R²)")
    return result["value"]
