"""The downstream models a recipe trains, the features they see, and the holdout metrics.

Tables: numbers (datetimes as their epoch value) stay numbers with missing values as NaN;
categorical and boolean columns become category codes fixed from the real training split, so
the real, augmented and synthetic training sets and the holdout are all encoded alike; id and
personal-data columns are never features. ``hist_gradient_boosting`` takes the codes as
native categories; the other families one-hot them after imputing and scaling the numbers.

Images: ``cnn`` is a small convolutional network (PyTorch, CPU-friendly); the scikit-learn
families see the flattened pixels.

Every model is seeded, and runs in one thread (the replicates are the parallelism), so a
replicate gives the same score wherever it runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from synthkit.errors import ConfigError

#: default hyperparameters of the small CNN
CNN_DEFAULTS = {"epochs": 30, "batch_size": 64, "lr": 0.002, "width": 16, "weight_decay": 0.0}
# HistGradientBoosting treats a categorical feature natively only below this many levels
_MAX_NATIVE_LEVELS = 250


@dataclass
class Featurizer:
    """Encodes a table (polars) as a float matrix, the same way for every training set and the holdout."""

    numeric: list[str]
    categorical: list[str]
    levels: dict[str, dict[str, int]] = field(default_factory=dict)

    @classmethod
    def fit(cls, frame: pl.DataFrame, schema, target: str) -> Featurizer:
        numeric, categorical = [], []
        for name, spec in schema.columns.items():
            if name == target or spec.kind in ("id", "pii"):
                continue
            (categorical if spec.kind in ("categorical", "boolean") else numeric).append(name)
        levels = {}
        for name in categorical:
            values = frame.get_column(name).drop_nulls().cast(pl.String).unique().sort().to_list()
            levels[name] = {v: i for i, v in enumerate(values)}
        if not numeric and not categorical:
            raise ConfigError(f"the table has no feature columns besides the target {target!r} (ids and personal data "
                              "are never features)")
        return cls(numeric, categorical, levels)

    def transform(self, frame: pl.DataFrame) -> np.ndarray:
        columns = [pl.col(c).to_physical().cast(pl.Float64).fill_nan(None) for c in self.numeric]
        columns += [pl.col(c).cast(pl.String).replace_strict(self.levels[c], default=None, return_dtype=pl.Float64)
                    for c in self.categorical]
        return frame.select(columns).to_numpy().astype(np.float64)  # nulls -> NaN

    @property
    def native_categorical(self) -> np.ndarray:
        """Mask of the columns HistGradientBoosting may treat as categories."""
        return np.array([False] * len(self.numeric)
                        + [len(self.levels[c]) <= _MAX_NATIVE_LEVELS for c in self.categorical], dtype=bool)


def check_model(model: str, params: dict[str, Any], modality: str) -> list[str]:
    """Errors in ``train.model`` / ``train.params`` (an empty list when they are fine)."""
    from synthkit.recipes.schema import IMAGE_MODELS, TABLE_MODELS

    allowed = IMAGE_MODELS if modality == "images" else TABLE_MODELS
    if model not in allowed:
        return [f"train.model: unknown model {model!r} for {modality} (models: {', '.join(allowed)})"]
    if model == "cnn":
        known = list(CNN_DEFAULTS)
    else:
        known = list(_estimator_class(model)().get_params())
    unknown = [k for k in params if k not in known]
    if unknown:
        return [f"train.params: unknown parameter(s) {', '.join(unknown)} for {model} (parameters: {', '.join(sorted(known))})"]
    return []


def _estimator_class(model: str):
    if model == "hist_gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier
    if model == "logistic_regression":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression
    if model == "random_forest":
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier
    if model == "mlp":
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier
    raise ConfigError(f"unknown model {model!r}")


def make_estimator(model: str, params: dict[str, Any], seed: int, *, n_numeric: int, native: np.ndarray | None):
    """A scikit-learn classifier for a float matrix whose first ``n_numeric`` columns are numbers."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    klass = _estimator_class(model)
    accepted = klass().get_params()
    settings: dict[str, Any] = {}
    if "random_state" in accepted:
        settings["random_state"] = seed
    if model == "logistic_regression":
        settings["max_iter"] = 2000
    if model == "mlp":
        settings.update(max_iter=300, early_stopping=True)
    if model == "random_forest":
        settings["n_jobs"] = 1
    settings.update(params)
    if model == "hist_gradient_boosting":
        if native is not None and native.any():
            settings.setdefault("categorical_features", native)
        return klass(**settings)
    estimator = klass(**settings)
    width = len(native) if native is not None else n_numeric
    steps = []
    if n_numeric:
        steps.append(("numeric", make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True),
                                               StandardScaler()), list(range(n_numeric))))
    if width > n_numeric:
        steps.append(("categorical", make_pipeline(SimpleImputer(strategy="constant", fill_value=-1),
                                                   OneHotEncoder(handle_unknown="ignore")),
                      list(range(n_numeric, width))))
    return make_pipeline(ColumnTransformer(steps, sparse_threshold=0), estimator)


# -------------------------------------------------------------------------------------------
# fitting and scoring
# -------------------------------------------------------------------------------------------

def fit_predict(model: str, params: dict[str, Any], seed: int, X: np.ndarray, y: np.ndarray, X_test: np.ndarray,
                n_classes: int, *, n_numeric: int = 0, native: np.ndarray | None = None) -> np.ndarray:
    """Class probabilities for ``X_test`` (columns = every class index, also ones absent from ``y``)."""
    if model == "cnn":
        return _cnn_fit_predict(params, seed, X, y, X_test, n_classes)
    if X.ndim > 2:
        X, X_test = X.reshape(len(X), -1), X_test.reshape(len(X_test), -1)
        n_numeric, native = X.shape[1], None
    estimator = make_estimator(model, params, seed, n_numeric=n_numeric, native=native)
    estimator.fit(X, y)
    proba = estimator.predict_proba(X_test)
    out = np.zeros((len(X_test), n_classes))
    out[:, np.asarray(estimator.classes_, dtype=np.int64)] = proba
    return out


def _cnn_fit_predict(params: dict[str, Any], seed: int, X: np.ndarray, y: np.ndarray, X_test: np.ndarray,
                     n_classes: int) -> np.ndarray:
    """A small CNN on ``(N, C, H, W)`` images: two 3×3 convolutions, pooling, two dense layers."""
    import torch
    from torch import nn

    settings = {**CNN_DEFAULTS, **params}
    torch.manual_seed(seed)
    channels, width = X.shape[1], int(settings["width"])
    net = nn.Sequential(
        nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(4), nn.Flatten(),
        nn.Linear(2 * width * 16, 4 * width), nn.ReLU(),
        nn.Linear(4 * width, n_classes),
    )
    optimiser = torch.optim.AdamW(net.parameters(), lr=float(settings["lr"]), weight_decay=float(settings["weight_decay"]))
    images, labels = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)), torch.from_numpy(y.astype(np.int64))
    order = torch.Generator().manual_seed(seed)
    batch = int(settings["batch_size"])
    net.train()
    for _ in range(int(settings["epochs"])):
        for index in torch.randperm(len(images), generator=order).split(batch):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(net(images[index]), labels[index])
            loss.backward()
            optimiser.step()
    net.eval()
    with torch.no_grad():
        test = torch.from_numpy(np.ascontiguousarray(X_test, dtype=np.float32))
        return torch.cat([net(part).softmax(dim=1) for part in test.split(1024)]).numpy().astype(np.float64)


def score(metric: str, y: np.ndarray, proba: np.ndarray, weights: np.ndarray | None, positive: int | None) -> float:
    """One holdout metric; ``weights`` are bootstrap counts of the holdout rows (None: each row once)."""
    from sklearn import metrics as m

    n_classes = proba.shape[1]
    predicted = proba.argmax(axis=1)
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    if metric == "accuracy":
        return float(m.accuracy_score(y, predicted, sample_weight=w))
    if metric == "balanced_accuracy":
        return float(m.balanced_accuracy_score(y, predicted, sample_weight=w))
    if n_classes == 2 and positive is not None:
        truth, p = (y == positive).astype(int), proba[:, positive]
        if metric == "pr_auc":
            return float(m.average_precision_score(truth, p, sample_weight=w))
        if metric == "roc_auc":
            return float(m.roc_auc_score(truth, p, sample_weight=w))
        if metric == "f1":
            return float(m.f1_score(truth, (predicted == positive).astype(int), sample_weight=w, zero_division=0.0))
    labels = np.arange(n_classes)
    if metric == "pr_auc":  # macro average of the one-vs-rest average precisions
        return float(np.mean([m.average_precision_score((y == k).astype(int), proba[:, k], sample_weight=w)
                              for k in labels]))
    if metric == "roc_auc":
        return float(m.roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels, sample_weight=w))
    if metric == "f1":
        return float(m.f1_score(y, predicted, labels=labels, average="macro", sample_weight=w, zero_division=0.0))
    raise ConfigError(f"unknown metric {metric!r}")


__all__ = ["CNN_DEFAULTS", "Featurizer", "check_model", "fit_predict", "make_estimator", "score"]
