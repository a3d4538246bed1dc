"""Image generators side by side: real holdout vs image_gaussian vs image_diffusion, on digits and MNIST.

    python benchmarks/images.py                                  # digits and MNIST (30–60 min on 2 shared cores)
    python benchmarks/images.py --datasets digits                # digits only
    python benchmarks/images.py --done-when /tmp/run/digits --done-when-seconds 540   # score a CLI run

Protocol
  * digits: scikit-learn's 1,797 8×8 digits, 70/30 split stratified by class (seed 0); generators
    see the 70 % only and make 100 images per class.
  * MNIST: the 10,000-image MNIST test set in shared/datasets/images, 8,000 train / 2,000 holdout
    (stratified, seed 0); 200 images per class. Diffusion trains at 16×16 (resized back to 28×28)
    under a budget of ``--mnist-minutes`` minutes (max_minutes), because 28×28 at full resolution
    does not train far enough on 2 CPU cores in that time.
  * Metrics (synthkit.validators.images.validate_images, seed 0): Fréchet distance and
    precision/recall/coverage in the features of a small CNN trained on the real training images;
    pixel detector ROC-AUC (gradient boosting, generated vs real training images; on digits the
    pixels are the 0–16 grey levels, so this is the issue's detector); TSTR with that CNN; the
    memorisation share (closer to train than to holdout, 0.5 ideal) and near-duplicates. Also
    TSTR with a linear classifier on pixels (logistic regression), which a per-class Gaussian
    already passes. The "real holdout" row scores the holdout images as if they were generated.
  * ``--done-when DIR``: the output folder of ``synthkit generate --modality image --per-class 100``
    (fitted on all 1,797 digits): logistic regression trained on its PNGs scored on the real digits
    vs 5-fold cross-validated on the real digits, and the 8×8 detector against the real digits.

Results: benchmarks/results/images.{json,md}. The load average is recorded: other jobs share the cores.
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import time

import numpy as np
from _common import datasets_dir, markdown_table, write_results


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_mnist():
    from synthkit.data.images import ImageSet

    folder = datasets_dir() / "images"
    with gzip.open(folder / "t10k-images-idx3-ubyte.gz") as handle:
        images = np.frombuffer(handle.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(folder / "t10k-labels-idx1-ubyte.gz") as handle:
        labels = np.frombuffer(handle.read(), np.uint8, offset=8).astype(np.int64)
    return ImageSet(images[..., None].copy(), labels, [str(i) for i in range(10)], "MNIST test set")


def split(data, holdout: float, seed: int = 0):
    from sklearn.model_selection import train_test_split

    train, test = train_test_split(np.arange(len(data)), test_size=holdout, stratify=data.labels, random_state=seed)
    return data.take(np.sort(train)), data.take(np.sort(test))


def linear_tstr(train, holdout, synthetic) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    def flat(s):
        return s.images.reshape(len(s), -1) / 255.0

    def score(data):
        model = LogisticRegression(max_iter=3000).fit(flat(data), data.labels)
        return float((model.predict(flat(holdout)) == holdout.labels).mean())

    real = score(train)
    return score(synthetic), real


def evaluate(name: str, budget: str, train, holdout, synthetic, fit_s: float, sample_s: float, cpu_s: float,
             extra: dict) -> dict:
    from synthkit.validators.images import validate_images

    report = validate_images(train, synthetic, holdout=holdout, seed=0)
    lin_syn, lin_real = linear_tstr(train, holdout, synthetic)
    value = lambda key: report.check(f"images.{key}").value
    row = {
        "generator": name, "budget": budget, "fit_s": round(fit_s, 1), "sample_s": round(sample_s, 1),
        "cpu_s": round(cpu_s, 1), "images": len(synthetic),
        "fd": value("frechet_distance"), "fd_holdout": report.check("images.frechet_distance").baseline,
        "precision": value("precision"), "recall": value("recall"), "coverage": value("coverage"),
        "detection_auc": value("detection_auc"), "detection_auc_real": report.check("images.detection_auc").baseline,
        "tstr_cnn": value("tstr_accuracy"), "trtr_cnn": value("trtr_accuracy"), "tstr_cnn_ratio": value("tstr_ratio"),
        "tstr_linear": lin_syn, "trtr_linear": lin_real, "tstr_linear_ratio": lin_syn / lin_real,
        "closer_to_train": value("closer_to_train_share"), "near_duplicates": value("near_duplicate_share"),
        "report_passed": report.passed, **extra,
    }
    print({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    return row


def run_generator(name: str, params: dict, train, per_class: int):
    from synthkit import generators

    cpu0, t0 = cpu_seconds(), time.perf_counter()
    generator = generators.create(name, **params).fit(train)
    fit_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    synthetic = generator.sample(per_class=per_class, seed=1)
    sample_s = time.perf_counter() - t1
    extra = {"training": getattr(generator, "training_", None), "notes": getattr(generator, "notes_", [])}
    return synthetic, fit_s, sample_s, cpu_seconds() - cpu0, extra


def bench(dataset: str, args) -> list[dict]:
    from synthkit.data.images import load_images

    if dataset == "digits":
        train, holdout = split(load_images(), 0.3)
        per_class = 100
        diffusion = {"random_state": 0, "device": args.device}
        budget = "defaults (600 steps × 128)"
    else:
        train, holdout = split(load_mnist(), 2000)
        per_class = 200
        diffusion = {"random_state": 0, "device": args.device, "image_size": 16, "steps": 5000, "batch_size": 64,
                     "max_minutes": args.mnist_minutes}
        budget = f"16×16, ≤{args.mnist_minutes:g} min"
    rows = []
    rows.append(evaluate("real holdout", "–", train, holdout, holdout, 0, 0, 0, {"dataset": dataset}))
    for name, params, label in (("image_gaussian", {"random_state": 0}, "defaults"), ("image_diffusion", diffusion, budget)):
        synthetic, fit_s, sample_s, cpu_s, extra = run_generator(name, params, train, per_class)
        rows.append(evaluate(name, label, train, holdout, synthetic, fit_s, sample_s, cpu_s, {**extra, "dataset": dataset}))
    for row in rows:
        row.update(train_images=len(train), holdout_images=len(holdout))
    return rows


def done_when(folder: str, seconds: float | None) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict, cross_val_score
    from threadpoolctl import threadpool_limits

    from synthkit.data.images import digits_levels, load_images

    real, synthetic = load_images(), load_images(folder)
    x_real = digits_levels(real.images).reshape(len(real), -1)
    x_syn = digits_levels(synthetic.images).reshape(len(synthetic), -1)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    model = LogisticRegression(max_iter=5000)
    real_acc = float(cross_val_score(model, x_real, real.labels, cv=folds).mean())
    syn_acc = float((model.fit(x_syn, synthetic.labels).predict(x_real) == real.labels).mean())
    rows = np.random.default_rng(0).choice(len(real), len(synthetic), replace=False)
    x = np.vstack([x_real[rows], x_syn])
    y = np.r_[np.zeros(len(rows)), np.ones(len(x_syn))]
    with threadpool_limits(1):  # gradient boosting's threads spin-wait on a busy machine
        p = cross_val_predict(HistGradientBoostingClassifier(random_state=0), x, y, cv=folds, method="predict_proba")[:, 1]
    real_rows = np.random.default_rng(1).permutation(len(real))
    xr = x_real[real_rows[:1000]]
    yr = np.r_[np.zeros(500), np.ones(500)]
    with threadpool_limits(1):
        pr = cross_val_predict(HistGradientBoostingClassifier(random_state=0), xr, yr, cv=folds, method="predict_proba")[:, 1]
    out = {"images": len(synthetic), "seconds": seconds, "accuracy_real_cv": real_acc, "accuracy_synthetic": syn_acc,
           "ratio": syn_acc / real_acc, "detector_auc": float(roc_auc_score(y, p)),
           "detector_auc_real_vs_real": float(roc_auc_score(yr, pr))}
    print(out, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=["digits", "mnist"], choices=["digits", "mnist"])
    parser.add_argument("--mnist-minutes", type=float, default=15.0)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--done-when", default=None, metavar="DIR")
    parser.add_argument("--done-when-seconds", type=float, default=None)
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads (1: steady timings on a shared machine)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    rows = []
    done = done_when(args.done_when, args.done_when_seconds) if args.done_when else None
    for dataset in args.datasets:
        rows += bench(dataset, args)
    load_after = os.getloadavg()
    markdown = render(rows, done, args.datasets, load_before[0], load_after[0])
    path = write_results("images", [*rows, *([{"done_when": done}] if done else [])], markdown)
    print(markdown)
    print(f"written: {path}")


# the real holdout scored as if generated: its fidelity numbers are the baselines; TSTR (trained and
# scored on the holdout) and memorisation (against itself) would be meaningless, so they are left out
NOT_FOR_HOLDOUT = ("tstr_cnn_ratio", "tstr_linear_ratio", "closer_to_train", "near_duplicates")


def render(rows: list[dict], done: dict | None, datasets: list[str], load_before: float, load_after: float) -> str:
    columns = [("generator", "generator", "s"), ("budget", "budget", "s"), ("fit_s", "fit s", ".1f"),
               ("cpu_s", "CPU s", ".0f"), ("fd", "Fréchet", ".2f"), ("precision", "precision", ".3f"),
               ("recall", "recall", ".3f"), ("coverage", "coverage", ".3f"), ("detection_auc", "detector AUC", ".3f"),
               ("tstr_cnn_ratio", "TSTR/real (CNN)", ".3f"), ("tstr_linear_ratio", "TSTR/real (linear)", ".3f"),
               ("closer_to_train", "closer to train", ".3f"), ("near_duplicates", "near-dups", ".3f")]
    parts = []
    for dataset in datasets:
        subset = [{**r, **({k: None for k in NOT_FOR_HOLDOUT} if r["generator"] == "real holdout" else {})}
                  for r in rows if r.get("dataset") == dataset]
        if not subset:
            continue
        head = subset[-1]
        parts.append(f"### {dataset} (train {head['train_images']:,} / holdout {head['holdout_images']:,} images)\n\n"
                     + markdown_table(subset, columns)
                     + f"\n\nAccuracy on the holdout when trained on the real images: CNN {head['trtr_cnn']:.3f}, "
                       f"linear {head['trtr_linear']:.3f}.\n")
    if done:
        parts.append("### done-when: `synthkit generate --modality image --per-class 100` (all digits)\n\n"
                     f"{done['images']} images in {done['seconds'] or float('nan'):.0f} s; logistic regression on them, "
                     f"scored on the real digits: {done['accuracy_synthetic']:.3f} vs {done['accuracy_real_cv']:.3f} "
                     f"cross-validated on real (ratio {done['ratio']:.3f}); 8×8 detector ROC-AUC {done['detector_auc']:.3f} "
                     f"(real vs real {done['detector_auc_real_vs_real']:.3f}).\n")
    parts.append(f"Load average (1 min) at start {load_before:.1f}, at end {load_after:.1f} (shared 2-core machine).")
    return "\n".join(parts)


if __name__ == "__main__":
    main()
