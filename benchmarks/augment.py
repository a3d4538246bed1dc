"""Does augmenting the rare class help a classifier? Real vs random over-sampling vs SMOTE(NC) vs synthkit.

    python benchmarks/augment.py                                   # the three datasets, TVAE per class
    python benchmarks/augment.py --generator gaussian_copula       # another generator: one word
    python benchmarks/augment.py --datasets mammography --selections none safe borderline --conditioning conditional
    python benchmarks/augment.py --quick                           # a smoke run on small slices

Protocol
  * 70/30 split stratified on the target (seed 0); the 30 % holdout is fixed and never resampled
    for training. Over-samplers only see the 70 % training part.
  * Strategies: the minority raised to 10 %, 25 %, 50 % of the majority (``--ratios``), each only
    where it is above the dataset's natural ratio.
  * Models: logistic regression (standardised numbers, one-hot categories) and
    HistGradientBoosting (native categorical support), both with fixed seeds.
  * Arms: no augmentation; random over-sampling; SMOTE (SMOTENC when the table has categorical
    columns); synthkit's ``SyntheticOverSampler`` with ``--generator`` for each ``--selections``
    entry. Every over-sampler is run with ``--seeds`` different seeds (its training, or its
    random choices, differ), each refit from scratch.
  * Metrics on the holdout: PR-AUC (average precision) and F1 at the 0.5 threshold.
  * The synthkit arm's generator fit depends only on the training rows and the seed, so it is
    fitted once per seed and shared by that seed's ratios and selections (what a refit would
    give); "resample s" is the sampling and selection time, the fit time is shown per dataset.
  * Uncertainty: an explicit paired bootstrap over the holdout rows (``--bootstrap`` replicates,
    percentile 95 % intervals). In each replicate the same resampled holdout rows score both arms
    (paired), and one of the over-sampler's seeds is drawn at random, so the interval covers both
    the holdout's sampling noise and the augmenter's own randomness (its refits).
    "sig." marks an interval that excludes 0.

Results: benchmarks/results/augment.{json,md}. Budget: about 25 minutes on 2 CPU cores with the
defaults (TVAE, 3 seeds, 3 datasets); ``--quick`` takes about a minute.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np
from _common import load, markdown_table, write_results

ARM_ORDER = ("random", "smote")


# -- metrics ---------------------------------------------------------------------------
def weighted_average_precision(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision (scikit-learn's definition, ties grouped) for each row of ``weights``.

    ``weights`` (replicates x rows) are bootstrap counts, so one sort serves every replicate.
    """
    order = np.argsort(-score, kind="mergesort")
    s, positive = score[order], y[order].astype(bool)
    w = weights[:, order].astype(np.float64)
    tp = np.cumsum(w * positive, axis=1)
    fp = np.cumsum(w * ~positive, axis=1)
    ends = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]  # last row of each tied score
    tp, fp = tp[:, ends], fp[:, ends]
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    gained = np.diff(np.concatenate([np.zeros((tp.shape[0], 1)), tp], axis=1), axis=1)
    total = tp[:, -1]
    return np.divide((gained * precision).sum(axis=1), total, out=np.zeros_like(total), where=total > 0)


def weighted_f1(y: np.ndarray, predicted: np.ndarray, weights: np.ndarray) -> np.ndarray:
    tp = weights @ (predicted & (y == 1)).astype(np.float64)
    fp = weights @ (predicted & (y == 0)).astype(np.float64)
    fn = weights @ (~predicted & (y == 1)).astype(np.float64)
    return np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)


METRICS = {
    "pr_auc": lambda y, p, w: weighted_average_precision(y, p, w),
    "f1": lambda y, p, w: weighted_f1(y, p >= 0.5, w),
}


# -- data and models -------------------------------------------------------------------
def prepare(name: str, quick: bool):
    """The dataset as pandas (categoricals as category dtype), the 70/30 split, the column kinds."""
    from sklearn.model_selection import train_test_split

    from synthkit.data import Schema

    frame, target = load(name)
    if quick:
        frame = frame.sample(n=min(frame.height, 4000), seed=0)
    features = frame.drop(target)
    schema = Schema.infer(features)
    categorical = [c for c, s in schema.columns.items() if s.kind in ("categorical", "boolean")]
    numeric = [c for c in features.columns if c not in categorical]
    X = features.to_pandas()
    for column in categorical:
        X[column] = X[column].astype(str).astype("category")
    labels = frame.get_column(target).to_numpy()
    classes, counts = np.unique(labels, return_counts=True)
    y = (labels == classes[np.argmin(counts)]).astype(int)  # 1 = the minority class
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
    return (X_train.reset_index(drop=True), X_test.reset_index(drop=True), y_train, y_test, numeric, categorical)


def models(numeric: list[str], categorical: list[str]) -> dict:
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    linear = make_pipeline(
        ColumnTransformer([("numeric", StandardScaler(), numeric),
                           ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical)]),
        LogisticRegression(max_iter=2000),
    )
    boosted = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    return {"logistic": linear, "histgb": boosted}


_FITTED: dict[tuple, object] = {}


class _FitOnce:
    """A generator whose ``fit`` is looked up by (seed, training rows) before it runs.

    A fit depends only on the rows and the seed, so the ratios and selections of one seed
    share it: the rows that come out are the ones a refit would give, minus the wait.
    """

    def __init__(self, generator, seed: int):
        self.generator, self.seed = generator, seed

    def fit(self, rows, *, schema=None):
        from synthkit.data.io import frame_fingerprint

        key = (type(self.generator).__name__, repr(self.generator.get_params()), self.seed, frame_fingerprint(rows))
        if key not in _FITTED:
            started = time.perf_counter()
            _FITTED[key] = self.generator.fit(rows, schema=schema)
            FIT_SECONDS.append(time.perf_counter() - started)
        return _FITTED[key]


FIT_SECONDS: list[float] = []


def oversampler(arm: str, ratio: float, seed: int, categorical: list[str], args):
    from imblearn.over_sampling import SMOTE, SMOTENC, RandomOverSampler

    from synthkit.augment import SyntheticOverSampler

    class FitOnceOverSampler(SyntheticOverSampler):
        def _make_generator(self, seed, *args, **kwargs):
            return _FitOnce(super()._make_generator(seed, *args, **kwargs), seed)

    if arm == "random":
        return RandomOverSampler(sampling_strategy=ratio, random_state=seed)
    if arm == "smote":
        if categorical:
            return SMOTENC(categorical_features="auto", sampling_strategy=ratio, random_state=seed)
        return SMOTE(sampling_strategy=ratio, random_state=seed)
    selection = arm.split(":", 1)[1]
    return FitOnceOverSampler(generator=args.generator, sampling_strategy=ratio, random_state=seed,
                                generator_params=args.generator_params or None,
                                conditioning=args.conditioning, selection=selection)


def predictions(X_train, y_train, X_test, numeric, categorical) -> dict[str, np.ndarray]:
    from sklearn.base import clone

    out = {}
    for name, model in models(numeric, categorical).items():
        fitted = clone(model).fit(X_train, y_train)
        out[name] = fitted.predict_proba(X_test)[:, 1].astype(np.float64)
    return out


# -- the experiment --------------------------------------------------------------------
def run_dataset(name: str, args) -> tuple[list[dict], dict]:
    X_train, X_test, y_train, y_test, numeric, categorical = prepare(name, args.quick)
    natural = y_train.sum() / (len(y_train) - y_train.sum())
    ratios = [r for r in args.ratios if int((len(y_train) - y_train.sum()) * r) > y_train.sum()]
    arms = list(ARM_ORDER) + [f"synthkit:{s}" for s in args.selections]
    print(f"\n{name}: train {len(y_train):,} rows ({y_train.mean():.1%} minority, natural ratio {natural:.3f}), "
          f"holdout {len(y_test):,} ({int(y_test.sum())} minority); ratios {ratios}; "
          f"{len(categorical)} categorical columns", flush=True)
    preds: dict[tuple, list[dict[str, np.ndarray]]] = defaultdict(list)
    seconds: dict[tuple, list[float]] = defaultdict(list)
    preds[("none", None)].append(predictions(X_train, y_train, X_test, numeric, categorical))
    for ratio in ratios:
        for arm in arms:
            for seed in range(args.seeds):
                started = time.perf_counter()
                X_res, y_res = oversampler(arm, ratio, seed, categorical, args).fit_resample(X_train, y_train)
                seconds[(arm, ratio)].append(time.perf_counter() - started)
                assert X_res.iloc[: len(X_train)].equals(X_train), "originals must come first, unchanged"
                preds[(arm, ratio)].append(predictions(X_res, y_res, X_test, numeric, categorical))
            print(f"  {arm} @ {ratio:g}: {np.mean(seconds[(arm, ratio)]):.1f} s per resample", flush=True)
    fits = list(FIT_SECONDS)
    FIT_SECONDS.clear()
    _FITTED.clear()

    # the paired bootstrap: the same holdout resample for every arm; a random seed per replicate
    rng = np.random.default_rng(args.seed)
    n = len(y_test)
    counts = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(args.bootstrap)])
    pick = rng.integers(0, args.seeds, args.bootstrap)
    ones = np.ones((1, n))
    rows = []
    for model in ("logistic", "histgb"):
        base = {m: f(y_test, preds[("none", None)][0][model], ones)[0] for m, f in METRICS.items()}
        base_boot = {m: f(y_test, preds[("none", None)][0][model], counts) for m, f in METRICS.items()}
        rows.append({"dataset": name, "model": model, "arm": "none", "ratio": None,
                     **{m: base[m] for m in METRICS}})
        for (arm, ratio), runs in preds.items():
            if arm == "none":
                continue
            row = {"dataset": name, "model": model, "arm": arm, "ratio": ratio,
                   "resample_s": float(np.mean(seconds[(arm, ratio)]))}
            for metric, f in METRICS.items():
                per_seed = np.array([f(y_test, run[model], ones)[0] for run in runs])
                boot = np.empty(args.bootstrap)
                for s, run in enumerate(runs):
                    chosen = pick == s
                    if chosen.any():
                        boot[chosen] = f(y_test, run[model], counts[chosen]) - base_boot[metric][chosen]
                low, high = np.percentile(boot, [2.5, 97.5])
                row[metric] = float(per_seed.mean())
                row[f"{metric}_delta"] = float(per_seed.mean() - base[metric])
                row[f"{metric}_low"], row[f"{metric}_high"] = float(low), float(high)
                row[f"{metric}_seeds"] = [float(v) for v in per_seed]
            rows.append(row)
    info = {"train": len(y_train), "holdout": len(y_test), "minority_holdout": int(y_test.sum()),
            "generator_fit_s": float(np.mean(fits)) if fits else None, "generator_fits": len(fits),
            "natural_ratio": float(natural), "ratios": ratios, "categorical": categorical}
    return rows, info


# -- reporting -------------------------------------------------------------------------
def _delta(row: dict, metric: str) -> str:
    if row.get(f"{metric}_delta") is None:
        return "–"
    low, high = row[f"{metric}_low"], row[f"{metric}_high"]
    mark = " sig." if low > 0 or high < 0 else ""
    return f"{row[f'{metric}_delta']:+.3f} [{low:+.3f}, {high:+.3f}]{mark}"


def render(rows: list[dict], infos: dict, args) -> str:
    sections = []
    for dataset, info in infos.items():
        table = []
        for model in ("logistic", "histgb"):
            for row in (r for r in rows if r["dataset"] == dataset and r["model"] == model):
                label = row["arm"] if row["arm"] != "smote" else ("SMOTENC" if info["categorical"] else "SMOTE")
                table.append({
                    "model": model, "arm": label, "ratio": "–" if row["ratio"] is None else f"{row['ratio']:g}",
                    "pr_auc": row["pr_auc"], "d_pr": _delta(row, "pr_auc"),
                    "f1": row["f1"], "d_f1": _delta(row, "f1"), "secs": row.get("resample_s"),
                })
        md = markdown_table(table, [("model", "model", "s"), ("arm", "augmentation", "s"), ("ratio", "minority/majority", "s"),
                                    ("pr_auc", "PR-AUC", ".3f"), ("d_pr", "Δ PR-AUC [95% CI]", "s"),
                                    ("f1", "F1@0.5", ".3f"), ("d_f1", "Δ F1 [95% CI]", "s"), ("secs", "resample s", ".1f")])
        fit = f"; generator fit {info['generator_fit_s']:.1f} s (mean of {info['generator_fits']})" if info["generator_fit_s"] else ""
        sections.append(
            f"### {dataset} — train {info['train']:,}, holdout {info['holdout']:,} ({info['minority_holdout']} minority); "
            f"natural ratio {info['natural_ratio']:.3f}{fit}\n\n{md}\n"
        )
    sections.append(summary(rows, infos))
    from synthkit.augment import SyntheticOverSampler

    conditioning = SyntheticOverSampler(generator=args.generator, conditioning=args.conditioning)._resolve_conditioning()
    header = (f"synthkit arm: `SyntheticOverSampler(generator={args.generator!r}, conditioning={conditioning!r}, "
              f"generator_params={args.generator_params or {}})`, selections {args.selections}; "
              f"{args.seeds} seeds per over-sampler; {args.bootstrap} paired bootstrap replicates (percentile CIs).\n")
    return header + "\n" + "\n".join(sections)


def summary(rows: list[dict], infos: dict) -> str:
    """Per dataset and model: each method at its best ratio (by Δ PR-AUC)."""
    lines = ["### Best ratio per method (Δ PR-AUC against no augmentation)\n",
             "| dataset | model | " + " | ".join(m for m in _methods(rows)) + " |",
             "| --- | --- | " + " | ".join("---" for _ in _methods(rows)) + " |"]
    for dataset in infos:
        for model in ("logistic", "histgb"):
            cells = []
            for method in _methods(rows):
                cands = [r for r in rows if r["dataset"] == dataset and r["model"] == model and r["arm"] == method]
                if not cands:
                    cells.append("–")
                    continue
                best = max(cands, key=lambda r: r["pr_auc_delta"])
                cells.append(f"{_delta(best, 'pr_auc')} @ {best['ratio']:g}")
            lines.append(f"| {dataset} | {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n\nPicking the best ratio on the holdout itself flatters every method alike; read it as an upper bound.\n"


def _methods(rows: list[dict]) -> list[str]:
    seen: list[str] = []
    for row in rows:
        if row["arm"] != "none" and row["arm"] not in seen:
            seen.append(row["arm"])
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["mammography", "bank", "credit"])
    parser.add_argument("--generator", default="tvae", help="synthkit generator behind the synthkit arm")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="generator parameter (repeatable)")
    parser.add_argument("--conditioning", default="auto", choices=["auto", "per_class", "conditional"],
                        help="auto: conditional for generators that condition natively, else per class")
    parser.add_argument("--selections", nargs="+", default=["none", "safe"], choices=["none", "safe", "borderline"])
    parser.add_argument("--ratios", nargs="+", type=float, default=[0.1, 0.25, 0.5])
    parser.add_argument("--seeds", type=int, default=3, help="seeds per over-sampler (each a full refit)")
    parser.add_argument("--bootstrap", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    parser.add_argument("--quick", action="store_true", help="4,000-row slices, 1 seed, 200 replicates: a smoke run")
    parser.add_argument("--name", default="augment", help="results file name (benchmarks/results/NAME.*)")
    args = parser.parse_args()
    import yaml

    args.generator_params = {k: yaml.safe_load(v) for k, _, v in (p.partition("=") for p in args.param)}
    if args.quick:
        args.seeds, args.bootstrap = 1, 200
    _self_check()

    started = time.perf_counter()
    rows, infos = [], {}
    for dataset in args.datasets:
        dataset_rows, infos[dataset] = run_dataset(dataset, args)
        rows += dataset_rows
    markdown = render(rows, infos, args)
    markdown += f"\nWall time {time.perf_counter() - started:.0f} s.\n"
    print("\n" + markdown)
    path = write_results(args.name, rows, markdown)
    print(f"results written to {path}")


def _self_check() -> None:
    """The vectorised metrics agree with scikit-learn's (ties included)."""
    from sklearn.metrics import average_precision_score, f1_score

    rng = np.random.default_rng(1)
    y = (rng.random(500) < 0.1).astype(int)
    score = np.round(rng.random(500) + y * 0.3, 2)
    idx = rng.integers(0, 500, 500)
    w = np.bincount(idx, minlength=500)[None, :]
    assert np.isclose(weighted_average_precision(y, score, w)[0], average_precision_score(y[idx], score[idx]))
    assert np.isclose(weighted_f1(y, score >= 0.5, w)[0], f1_score(y[idx], score[idx] >= 0.5))


if __name__ == "__main__":
    main()
