"""The shipped Mammography recipe, as shipped and pointed at other real imbalanced tables.

    python benchmarks/recipes.py                       # mammography, bank, credit at the recipe's settings
    python benchmarks/recipes.py --datasets mammography --workers 2
    python benchmarks/recipes.py --quick               # 3 replicates on 3,000-row samples: a smoke run

Each run is exactly ``synthkit recipe run recipes/mammography.yaml --set data.path=… --set
data.target=…`` (through the library), so the protocol is the recipe's: a stratified 70/30
split with the holdout fixed; in each bootstrap replicate the training split is resampled
within each class, the synthkit generator (per class) and SMOTE (SMOTENC on categorical
columns) are refitted on that resample and triple the rarer class, HistGradientBoosting is
trained on each arm and scored on the holdout, whose rows are also resampled (the same rows
for every arm). Intervals are percentile intervals over the replicates; "won" is the share of
replicates in which the arm beat real-only.

Results: benchmarks/results/recipes.{json,md}; the run folders under benchmarks/out/recipes/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from _common import DATASETS, HERE, datasets_dir, markdown_table, write_results

RECIPE = HERE.parent / "recipes" / "mammography.yaml"


def run_one(name: str, overrides: list[str], out: Path) -> list[dict]:
    from synthkit.recipes import load_recipe, run_recipe

    file, target, na = DATASETS[name]
    sets = [f"data.path={datasets_dir() / file}", f"data.target={target}", *overrides]
    if na:
        sets.append(f"data.na_values={json.dumps(na)}")
    recipe = load_recipe(RECIPE, sets)
    shutil.rmtree(out, ignore_errors=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    outcome = run_recipe(recipe, out, echo=print)
    wall = time.perf_counter() - started
    load = (load_before + os.getloadavg()[0]) / 2
    results = outcome.results
    metric = results["headline_metric"]
    rows = []
    for arm, entry in results["arms"].items():
        score = entry[metric]
        diff = score.get("vs_real", {})
        rows.append({
            "dataset": name, "train": results["split"]["train_rows"], "holdout": results["split"]["holdout_rows"],
            "minority": min(results["split"]["train_classes"].values()), "arm": arm,
            "rows": entry["train_rows_mean"], "mean": score["mean"], "ci": f"[{score['ci_low']:.3f}, {score['ci_high']:.3f}]",
            "diff": diff.get("mean"), "diff_ci": f"[{diff['ci_low']:+.3f}, {diff['ci_high']:+.3f}]" if diff else None,
            "won": diff.get("won"), "roc_auc": entry["roc_auc"]["mean"], "replicates": results["bootstrap"],
            "wall_s": wall, "load": load,
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["mammography", "bank", "credit"], choices=sorted(DATASETS))
    parser.add_argument("--workers", type=int, default=None, help="local processes (default: one per core)")
    parser.add_argument("--quick", action="store_true", help="3 replicates on 3,000-row samples")
    args = parser.parse_args()
    overrides = []
    if args.workers:
        overrides.append(f"backend.workers={args.workers}")
    if args.quick:
        overrides += ["train.bootstrap=3", "data.sample=3000"]
    rows = []
    for name in args.datasets:
        rows += run_one(name, overrides, HERE / "out" / "recipes" / name)
    columns = [("dataset", "dataset", "s"), ("train", "train rows", ",d"), ("minority", "minority (train)", ",d"),
               ("arm", "arm", "s"), ("rows", "arm rows", ",.0f"), ("mean", "PR-AUC", ".3f"), ("ci", "95% interval", "s"),
               ("diff", "minus real", "+.3f"), ("diff_ci", "95% interval", "s"), ("won", "won", ".0%"),
               ("roc_auc", "ROC-AUC", ".3f"), ("replicates", "replicates", "d"), ("wall_s", "wall s", ".0f"),
               ("load", "load", ".1f")]
    table = markdown_table(rows, columns)
    print(table)
    print(f"written: {write_results('recipes', rows, table)}")


if __name__ == "__main__":
    main()
