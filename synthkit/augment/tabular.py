"""``SyntheticOverSampler``: an imbalanced-learn over-sampler backed by a synthkit generator.

It behaves like imbalanced-learn's own over-samplers (``fit_resample``, ``sampling_strategy``
with the same semantics, ``imblearn.pipeline.Pipeline``), but the new minority rows are drawn
from a generator learned on the training rows instead of being interpolated (SMOTE) or
duplicated (random over-sampling). Mixed numeric/categorical tables, missing values, pandas
and polars frames come back in the type and dtypes they went in.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
from imblearn.over_sampling.base import BaseOverSampler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from synthkit.errors import ConfigError

_TARGET = "__synthkit_class__"
# selection draws this many candidates per row it keeps
CANDIDATES_PER_ROW = 3
# neighbours that judge where a candidate lies (Borderline-SMOTE's m)
NEIGHBOURS = 10


def _is_polars(obj: Any) -> bool:
    return isinstance(obj, (pl.DataFrame, pl.Series))


def _is_pandas_df(obj: Any) -> bool:
    import pandas as pd

    return isinstance(obj, pd.DataFrame)


def _column_names(X: Any, n_features: int) -> list[str]:
    """String names for the generator's frame: the frame's own when they are usable."""
    names = [str(c) for c in X.columns] if _is_pandas_df(X) else []
    if len(set(names)) != n_features:
        names = [f"x{j}" for j in range(n_features)]
    return names


def _as_text(values: list) -> list:
    """Mixed objects (numbers and strings) as text, missing values (None, NaN) kept missing."""
    return [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]


def _to_frame(X: Any, names: list[str]) -> pl.DataFrame:
    """X (a pandas frame or a 2-D numpy array, possibly of objects) as a polars frame."""
    if _is_pandas_df(X):
        import pandas as pd

        dense = X.copy()
        for column in dense.columns:
            if isinstance(dense[column].dtype, pd.SparseDtype):
                dense[column] = dense[column].sparse.to_dense()
        dense.columns = names
        try:
            frame = pl.from_pandas(dense)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            # object columns that mix types (numbers and strings): learn them as text
            for column in dense.columns:
                if dense[column].dtype == object:
                    dense[column] = pd.Series(_as_text(dense[column].tolist()), index=dense.index, dtype=object)
            frame = pl.from_pandas(dense)
    else:
        columns = []
        for j, name in enumerate(names):
            values = X[:, j]
            if values.dtype == object:
                try:
                    series = pl.Series(name, values.tolist(), strict=True)
                except (TypeError, ValueError, pl.exceptions.PolarsError):
                    series = pl.Series(name, _as_text(values.tolist()), dtype=pl.String)
                if series.dtype == pl.Null:
                    series = series.cast(pl.String)
            else:
                series = pl.Series(name, values)
            columns.append(series)
        frame = pl.DataFrame(columns)
    # NaN is the missing value of numpy/pandas floats; synthkit learns nulls
    return frame.with_columns(pl.col(pl.Float32, pl.Float64).fill_nan(None))


def _from_frame(synthetic: pl.DataFrame, X: Any) -> Any:
    """Synthetic rows in X's type: a pandas frame with X's dtypes, or an array of X's dtype."""
    if _is_pandas_df(X):
        out = synthetic.to_pandas()
        out.columns = X.columns
        for column in X.columns:
            try:
                out[column] = out[column].astype(X[column].dtype)
            except (TypeError, ValueError):
                pass  # e.g. a missing value in an int column: keep pandas' wider type
        return out
    if X.dtype == object:
        out = np.empty((synthetic.height, synthetic.width), dtype=object)
        for j, name in enumerate(synthetic.columns):
            out[:, j] = synthetic.get_column(name).to_list()
        return out
    columns = [synthetic.get_column(name).cast(pl.Float64).fill_null(np.nan).to_numpy() for name in synthetic.columns]
    return np.column_stack(columns).astype(X.dtype, copy=False)


class SyntheticOverSampler(BaseOverSampler):
    """Over-sample classes with rows drawn from a synthkit generator learned on the training rows.

    Parameters
    ----------
    generator : str, default="gaussian_copula"
        A name from ``synthkit.generators.names()`` (``synthkit generators`` lists them).
    sampling_strategy : float, str, dict or callable, default="auto"
        imbalanced-learn's semantics: a float (binary targets only) is the minority/majority
        ratio after resampling; ``"auto"`` raises every class to the majority's count; a dict
        gives each class's count after resampling; a callable maps ``y`` to such a dict.
    random_state : int, RandomState instance or None, default=None
        Seeds the generators' training and sampling: the same seed gives the same rows.
    generator_params : dict or None, default=None
        Hyperparameters passed to the generator (``{"epochs": 100}``).
    conditioning : {"auto", "per_class", "conditional"}, default="auto"
        ``"per_class"`` fits one generator on each over-sampled class's own rows;
        ``"conditional"`` fits one generator on all rows with the class as a column and
        samples it with ``conditions={class: value}``, so a class's rows borrow structure
        from the others. ``"auto"`` is ``"conditional"`` for generators that condition
        natively and ``"per_class"`` otherwise.
    selection : {"none", "safe", "borderline"}, default="none"
        Which generated rows to keep. ``"none"`` keeps every row the generator makes.
        The others draw three candidates per row needed and judge each by its 10 nearest
        real training rows (numbers standardised, categories one-hot): ``"safe"`` keeps
        the candidates whose neighbours most often share their class (it drops rows that
        land among another class, which act as label noise); ``"borderline"`` keeps those
        whose neighbours are closest to an even mix (near the decision boundary).

    Attributes
    ----------
    sampling_strategy_ : dict
        Class -> number of rows generated for it.
    generators_ : dict
        The fitted generators: class -> generator (``per_class``) or ``{None: generator}``.
    conditioning_ : str
        The conditioning that was used.
    neighbour_share_ : dict
        With a selection: class -> the kept rows' mean share of same-class neighbours.
    n_features_in_ : int
        Number of features in the input dataset.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during `fit`, when X has string column names.

    Every original row is kept and comes first; the generated rows follow, class by class.
    X may be a numpy array, a pandas or a polars DataFrame (mixed numeric, categorical,
    boolean and datetime columns, with missing values); the result has the same type.
    """

    _parameter_constraints: dict = {
        **BaseOverSampler._parameter_constraints,
        "generator": [str],
        "generator_params": [dict, None],
        "conditioning": [StrOptions({"auto", "per_class", "conditional"})],
        "selection": [StrOptions({"none", "safe", "borderline"})],
    }

    def __init__(
        self,
        *,
        generator: str = "gaussian_copula",
        sampling_strategy: Any = "auto",
        random_state: Any = None,
        generator_params: dict | None = None,
        conditioning: str = "auto",
        selection: str = "none",
    ):
        super().__init__(sampling_strategy=sampling_strategy)
        self.generator = generator
        self.random_state = random_state
        self.generator_params = generator_params
        self.conditioning = conditioning
        self.selection = selection

    # -- input handling ---------------------------------------------------------------
    def fit_resample(self, X, y, **params):
        """Resample X and y: the original rows first, then the generated ones.

        Returns ``(X_resampled, y_resampled)`` in the types of ``X`` and ``y``
        (numpy, list, pandas or polars).
        """
        if _is_polars(X) or _is_polars(y):
            return self._fit_resample_polars(X, y, **params)
        return super().fit_resample(X, y, **params)

    def _fit_resample_polars(self, X, y, **params):
        # imbalanced-learn restores pandas types, not polars ones: convert at the boundary
        X_pd = X.to_pandas() if isinstance(X, pl.DataFrame) else X
        y_in = y.to_numpy() if isinstance(y, pl.Series) else (y.to_pandas() if isinstance(y, pl.DataFrame) else y)
        X_res, y_res = super().fit_resample(X_pd, y_in, **params)
        if isinstance(X, pl.DataFrame):
            X_res = pl.from_pandas(X_res).cast(X.schema, strict=False)
        if isinstance(y, pl.Series):
            y_res = pl.Series(y.name, np.asarray(y_res)).cast(y.dtype, strict=False)
        elif isinstance(y, pl.DataFrame):
            y_res = pl.from_pandas(y_res).cast(y.schema, strict=False)
        return X_res, y_res

    def _check_X_y(self, X, y):
        from imblearn.utils import check_target_type
        from scipy import sparse
        from sklearn.utils.validation import check_array
        from sklearn_compat.utils.validation import validate_data

        if sparse.issparse(X):
            raise TypeError(
                "SyntheticOverSampler does not accept sparse input: a generator learns dense "
                "columns; pass a dense array or DataFrame (X.toarray())"
            )
        y, binarize_y = check_target_type(y, indicate_one_vs_all=True)
        if not _is_pandas_df(X):
            # dtype=None keeps strings and objects; NaN is learned, infinity is not
            X = check_array(X, dtype=None, ensure_all_finite=False, ensure_min_samples=1)
            if X.dtype.kind in "fc" and np.isinf(X).any():
                raise ValueError("Input X contains infinity; synthkit learns missing values (NaN), not infinities")
        elif X.shape[0] < 1:
            raise ValueError(f"Found array with {X.shape[0]} sample(s) while a minimum of 1 is required.")
        validate_data(self, X=X, y=y, reset=True, skip_check_array=True)
        return X, y, binarize_y

    # -- resampling ---------------------------------------------------------------------
    def _make_generator(self, seed: int, target: str | None = None):
        from synthkit import generators

        params = dict(self.generator_params or {})
        if target is not None and "target" in generators.get(self.generator)._param_names():
            # generators with a conditioning input (masked_diffusion) learn the class as one,
            # so sampling a class uses classifier-free guidance instead of rejection
            params.setdefault("target", target)
        return generators.build(self.generator, params, seed=seed)

    def _resolve_conditioning(self) -> str:
        from synthkit import generators

        if self.conditioning != "auto":
            return self.conditioning
        return "conditional" if generators.get(self.generator)._native_conditions else "per_class"

    def _fit_resample(self, X, y):
        from synthkit import generators
        from synthkit.data.schema import Schema

        entry = generators.entry(self.generator)
        if entry.modality != "tabular":
            raise ConfigError(f"generator {self.generator!r} makes {entry.modality} data, not table rows")
        rng = check_random_state(self.random_state)
        names = _column_names(X, X.shape[1])
        frame = _to_frame(X, names)
        labels = np.asarray(y)
        wanted = {klass: int(n) for klass, n in self.sampling_strategy_.items() if n > 0}
        if frame.width == 0:
            raise ValueError("X has no columns: a generator needs at least one feature")
        self.conditioning_ = self._resolve_conditioning()
        self.generators_ = {}
        self.neighbour_share_ = {}
        if not wanted:
            return X, labels
        schema = Schema.infer(frame)
        # a selection draws several candidates per row it keeps
        draw = {klass: n * (1 if self.selection == "none" else CANDIDATES_PER_ROW) for klass, n in wanted.items()}
        parts: list[tuple[Any, pl.DataFrame]] = []
        if self.conditioning_ == "per_class":
            for klass, n in draw.items():
                fit_seed, sample_seed = (int(s) for s in rng.randint(np.iinfo(np.int32).max, size=2))
                rows = frame.filter(pl.Series(labels == klass))
                generator = self._make_generator(fit_seed).fit(rows, schema=schema)
                self.generators_[klass] = generator
                parts.append((klass, generator.sample(n, seed=sample_seed)))
        else:
            fit_seed = int(rng.randint(np.iinfo(np.int32).max))
            codes = {klass: f"class{i}" for i, klass in enumerate(np.unique(labels))}
            target = _TARGET
            while target in frame.columns:
                target = "_" + target
            tagged = frame.with_columns(pl.Series(target, [codes[v] for v in labels.tolist()], dtype=pl.String))
            tagged_schema = Schema(columns={**schema.columns, target: {"kind": "categorical", "dtype": "String"}})
            generator = self._make_generator(fit_seed, target).fit(tagged, schema=tagged_schema)
            self.generators_[None] = generator
            for klass, n in draw.items():
                sample_seed = int(rng.randint(np.iinfo(np.int32).max))
                rows = generator.sample(n, conditions={target: codes[klass]}, seed=sample_seed)
                parts.append((klass, rows.drop(target)))
        if self.selection != "none":
            parts = self._select(frame, labels, schema, parts, wanted, rng)
        return self._stack(X, labels, parts)

    def _select(self, frame: pl.DataFrame, labels: np.ndarray, schema, parts, wanted: dict, rng) -> list:
        """Keep ``wanted[class]`` of each class's candidates, judged by their real neighbours."""
        from sklearn.compose import ColumnTransformer
        from sklearn.neighbors import NearestNeighbors
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        from synthkit.data.prep import TablePrep

        # the model frame has no missing values and one type per column: a clean space for distances
        prep = TablePrep(schema).fit(frame)
        kinds = prep.model_kinds()
        numeric = [c for c, k in kinds.items() if k == "numeric"]
        categorical = [c for c, k in kinds.items() if k == "categorical"]
        if not kinds:  # nothing varies: every candidate is alike
            return [(klass, rows.head(wanted[klass])) for klass, rows in parts]
        encoder = ColumnTransformer(
            [("numeric", StandardScaler(), numeric),
             ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical)],
            sparse_threshold=0,
        )
        real = encoder.fit_transform(prep.to_model(frame).to_pandas())
        neighbours = NearestNeighbors(n_neighbors=min(NEIGHBOURS, len(labels))).fit(real)
        kept = []
        for klass, rows in parts:
            index = neighbours.kneighbors(encoder.transform(prep.to_model(rows).to_pandas()), return_distance=False)
            share = (labels[index] == klass).mean(axis=1)
            badness = -share if self.selection == "safe" else np.abs(share - 0.5)
            order = np.lexsort((rng.random_sample(len(share)), badness))[: wanted[klass]]
            order.sort()  # keep the generator's order among the chosen rows
            self.neighbour_share_[klass] = float(share[order].mean())
            kept.append((klass, rows[order]))
        return kept

    @staticmethod
    def _stack(X, y: np.ndarray, parts: list[tuple[Any, pl.DataFrame]]):
        if not parts:
            return X, y
        new_y = np.concatenate([np.full(rows.height, klass, dtype=y.dtype) for klass, rows in parts])
        if _is_pandas_df(X):
            import pandas as pd

            new_X = [_from_frame(rows, X) for _, rows in parts]
            X_res = pd.concat([X, *new_X], ignore_index=True)
        else:
            X_res = np.vstack([X, *(_from_frame(rows, X) for _, rows in parts)])
        return X_res, np.concatenate([y, new_y])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = False
        return tags
