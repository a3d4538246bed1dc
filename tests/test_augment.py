"""SyntheticOverSampler: imbalanced-learn's and scikit-learn's estimator checks, real mixed tables,
imbalanced-learn's sampling_strategy semantics, and a Pipeline under cross-validation."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import polars as pl
import pytest
from imblearn.utils import estimator_checks as imblearn_checks
from imblearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
    parametrize_with_checks,
)
from sklearn.utils.estimator_checks import parametrize_with_checks as sklearn_checks

from synthkit.augment import SyntheticOverSampler
from synthkit.errors import ConfigError

# the fastest generator: a Gaussian copula with normal marginals fits in a fraction of a second
FAST = {"default_distribution": "norm"}
PER_CLASS = SyntheticOverSampler(random_state=0, generator_params=FAST)
CONDITIONAL_SAFE = SyntheticOverSampler(random_state=0, generator_params=FAST, conditioning="conditional", selection="safe")


@parametrize_with_checks([PER_CLASS])
def test_imblearn_sampler_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", [
    "check_samplers_fit_resample", "check_samplers_sampling_strategy_fit_resample", "check_samplers_string",
    "check_samplers_nan", "check_samplers_multiclass_ova", "check_samplers_preserve_dtype",
])
def test_conditional_generator_with_selection_passes_the_resampling_checks(check):
    # the other code path: one generator conditioned on the class, candidates judged by their neighbours
    getattr(imblearn_checks, check)("SyntheticOverSampler", CONDITIONAL_SAFE)


@sklearn_checks([PER_CLASS])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_parameter_validation_and_feature_names():
    check_param_validation("SyntheticOverSampler", PER_CLASS)
    check_dataframe_column_names_consistency("SyntheticOverSampler", PER_CLASS)


@pytest.fixture(scope="module")
def bank(datasets_dir) -> pl.DataFrame:
    """4,000 real Bank Marketing rows: 7 integer and 9 categorical features, ~12% 'yes'."""
    from synthkit.data import read_table

    return read_table(datasets_dir / "bank-full.csv.gz").sample(n=4000, seed=5)


def _check_augmented(X, X_res, y, y_res, expected: dict):
    n = len(y)
    assert Counter(np.asarray(y_res).tolist()) == expected
    assert len(X_res) == len(y_res)
    return n


def test_polars_mixed_table_in_polars_out(bank):
    X, y = bank.drop("y"), bank.get_column("y")
    sampler = SyntheticOverSampler(random_state=1, generator_params=FAST)
    X_res, y_res = sampler.fit_resample(X, y)
    assert isinstance(X_res, pl.DataFrame) and isinstance(y_res, pl.Series)
    assert X_res.schema == X.schema and y_res.name == "y" and y_res.dtype == y.dtype
    counts = Counter(y.to_list())
    assert Counter(y_res.to_list()) == {"no": counts["no"], "yes": counts["no"]}
    assert X_res.head(X.height).equals(X) and y_res.head(len(y)).equals(y), "originals first, unchanged"
    new = X_res.slice(X.height)
    for column in ("job", "education", "month", "poutcome"):
        assert set(new.get_column(column).unique().to_list()) <= set(X.get_column(column).unique().to_list())
    for column in ("age", "balance", "duration"):
        real = X.filter(y == "yes").get_column(column)
        assert real.min() <= new.get_column(column).min() and new.get_column(column).max() <= real.max()
    # learned from the minority: synthetic 'yes' rows look like real 'yes' rows, not like 'no' rows
    assert abs(new.get_column("duration").median() - X.filter(y == "yes").get_column("duration").median()) < \
        abs(new.get_column("duration").median() - X.filter(y == "no").get_column("duration").median())
    assert sampler.conditioning_ == "per_class" and set(sampler.generators_) == {"yes"}

    again, _ = SyntheticOverSampler(random_state=1, generator_params=FAST).fit_resample(X, y)
    other, _ = SyntheticOverSampler(random_state=2, generator_params=FAST).fit_resample(X, y)
    assert again.equals(X_res) and not other.equals(X_res)


def test_pandas_dtypes_come_back(bank):
    X = bank.drop("y").to_pandas()
    X["job"] = X["job"].astype("category")
    X["loan"] = X["loan"] == "yes"
    X["pdays"] = X["pdays"].astype("float32").where(X["pdays"] >= 0)  # -1 means "never": make it missing
    y = pd.Series(bank.get_column("y").to_numpy(), name="y")
    X_res, y_res = SyntheticOverSampler(random_state=0, sampling_strategy=0.5, generator_params=FAST).fit_resample(X, y)
    assert isinstance(X_res, pd.DataFrame) and isinstance(y_res, pd.Series)
    assert X_res.dtypes.to_dict() == X.dtypes.to_dict()
    assert X_res.iloc[: len(X)].equals(X)
    new = X_res.iloc[len(X):]
    assert set(new["job"].dropna()) <= set(X["job"].cat.categories)
    real_missing = X.loc[y == "yes", "pdays"].isna().mean()
    assert abs(new["pdays"].isna().mean() - real_missing) < 0.1, "missingness is learned"


def test_sampling_strategy_semantics(bank):
    X, y = bank.drop("y").to_pandas(), bank.get_column("y").to_numpy()
    n_no, n_yes = int((y == "no").sum()), int((y == "yes").sum())

    def counts(strategy):
        _, y_res = SyntheticOverSampler(random_state=0, sampling_strategy=strategy, generator_params=FAST).fit_resample(X, y)
        return Counter(y_res.tolist())

    assert counts(0.25) == {"no": n_no, "yes": int(n_no * 0.25)}
    assert counts({"yes": n_yes + 10}) == {"no": n_no, "yes": n_yes + 10}
    assert counts(lambda target: {"yes": n_yes + 7}) == {"no": n_no, "yes": n_yes + 7}
    assert counts("minority") == {"no": n_no, "yes": n_no}
    with pytest.raises(ValueError, match="remove samples"):
        counts(0.01)


def test_multiclass_auto_and_float_refused(bank):
    X, y = bank.drop("y", "education").to_pandas(), bank.get_column("education").to_numpy()
    X_res, y_res = SyntheticOverSampler(random_state=0, generator_params=FAST).fit_resample(X, y)
    top = Counter(y.tolist()).most_common(1)[0][1]
    assert set(Counter(y_res.tolist()).values()) == {top}
    with pytest.raises(ValueError, match="only when the type of target is binary"):
        SyntheticOverSampler(sampling_strategy=0.5, generator_params=FAST).fit_resample(X, y)


def test_selection_keeps_the_candidates_it_promises(bank):
    X, y = bank.drop("y").to_pandas(), bank.get_column("y").to_numpy()
    shares = {}
    for selection in ("safe", "borderline"):
        sampler = SyntheticOverSampler(random_state=3, sampling_strategy=0.3, selection=selection, generator_params=FAST)
        _, y_res = sampler.fit_resample(X, y)
        assert Counter(y_res.tolist())["yes"] == int((y == "no").sum() * 0.3)
        shares[selection] = sampler.neighbour_share_["yes"]
    # the same seed draws the same candidates; "safe" keeps the most same-class neighbourhoods
    assert shares["safe"] > shares["borderline"]
    assert abs(shares["borderline"] - 0.5) < abs(shares["safe"] - 0.5)


def test_bad_input_is_a_clear_error(bank):
    from scipy import sparse

    X, y = bank.select("age", "balance").to_numpy().astype(float), bank.get_column("y").to_numpy()
    with pytest.raises(ConfigError, match="unknown generator 'nope'"):
        SyntheticOverSampler(generator="nope").fit_resample(X, y)
    with pytest.raises(ConfigError, match="unknown parameter"):
        SyntheticOverSampler(generator_params={"epochs": 3}).fit_resample(X, y)
    with pytest.raises(TypeError, match="sparse"):
        SyntheticOverSampler().fit_resample(sparse.csr_matrix(X), y)
    X[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        SyntheticOverSampler().fit_resample(X, y)
    with pytest.raises(ValueError, match="selection"):
        SyntheticOverSampler(selection="everywhere").fit_resample(X, y)


def test_pipeline_resamples_training_folds_only(datasets_dir):
    """3-fold cross-validation on real Mammography rows: the model sees augmented training folds,
    the scorer sees untouched test folds."""
    from imblearn.pipeline import Pipeline
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import StratifiedKFold, cross_validate

    from synthkit.data import read_table

    table = read_table(datasets_dir / "mammography.csv").sample(n=3000, seed=0)
    X, y = table.drop("class").to_pandas(), (table.get_column("class").to_numpy() == 1).astype(int)

    class Recorder(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            self.seen_ = (len(y), int(y.sum()))
            self.model_ = LogisticRegression(max_iter=1000).fit(X, y)
            self.classes_ = self.model_.classes_
            return self

        def predict_proba(self, X):
            return self.model_.predict_proba(X)

        def predict(self, X):
            return self.model_.predict(X)

    scored = []

    def scorer(estimator, X_test, y_test):
        scored.append((len(y_test), int(np.sum(y_test))))
        return average_precision_score(y_test, estimator.predict_proba(X_test)[:, 1])

    pipeline = Pipeline([("augment", SyntheticOverSampler(sampling_strategy=0.25, random_state=0, generator_params=FAST)),
                         ("model", Recorder())])
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    result = cross_validate(pipeline, X, y, cv=folds, scoring=scorer, return_estimator=True)
    assert len(result["test_score"]) == 3 and np.all(result["test_score"] > 0.2)
    for (train, test), fitted, (n_test, pos_test) in zip(folds.split(X, y), result["estimator"], scored):
        n_train, neg_train = len(train), int(len(train) - y[train].sum())
        seen_rows, seen_pos = fitted.named_steps["model"].seen_
        assert seen_pos == int(neg_train * 0.25) and seen_rows == neg_train + seen_pos  # augmented
        assert (n_test, pos_test) == (len(test), int(y[test].sum()))  # untouched
    assert pipeline.fit(X, y).predict(X).shape == (len(y),)
