"""Tabular generators side by side on real data: fit time, sampling speed, SDMetrics quality.

    python benchmarks/tabular.py                       # Adult, every SDV generator
    python benchmarks/tabular.py --datasets adult bank --generators gaussian_copula tvae

Split: 75/25 stratified on the target, seed 0. Scores compare with the training rows; the real
holdout's own score is the ceiling.
Neural generators run with the epoch counts in BUDGETS (seconds per epoch are printed, so
their default 300 epochs can be extrapolated). Results: benchmarks/results/tabular.{json,md}.
"""

from __future__ import annotations

import argparse
import time

from _common import load, markdown_table, sdmetrics_quality, stratified_split, write_results

BUDGETS = {
    "gaussian_copula": {},
    "ctgan": {"epochs": 20},
    "tvae": {"epochs": 50},
    "copulagan": {"epochs": 20},
}


def run_one(name: str, train, holdout, schema, seed: int) -> dict:
    from synthkit import generators

    klass = generators.get(name)
    params = dict(BUDGETS.get(name, {}))
    params.update({k: v for k, v in (("random_state", seed), ("verbose", False), ("device", "auto")) if k in klass._param_names()})
    generator = generators.create(name, **params)
    started = time.perf_counter()
    generator.fit(train, schema=schema)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = generator.sample(train.height, seed=seed)
    sample_s = time.perf_counter() - started
    return {
        "generator": name,
        "params": " ".join(f"{k}={v}" for k, v in BUDGETS.get(name, {}).items()) or "defaults",
        "fit_s": fit_s,
        "s_per_epoch": fit_s / params["epochs"] if "epochs" in params else None,
        "rows_per_s": synthetic.height / sample_s,
        "quality": sdmetrics_quality(train, synthetic, schema),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["adult"])
    parser.add_argument("--generators", nargs="+", default=list(BUDGETS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from synthkit.data import Schema

    rows, sections = [], []
    for dataset in args.datasets:
        frame, target = load(dataset)
        train, holdout = stratified_split(frame, target, seed=args.seed)
        schema = Schema.infer(frame)
        table = [{"dataset": dataset, "generator": "real holdout (ceiling)", "params": "–",
                  "quality": sdmetrics_quality(train, holdout, schema)}]
        for name in args.generators:
            print(f"{dataset}: {name} …", flush=True)
            table.append({"dataset": dataset, **run_one(name, train, holdout, schema, args.seed)})
        rows += table
        md = markdown_table(table, [("generator", "generator", "s"), ("params", "budget", "s"), ("fit_s", "fit s", ".1f"),
                                    ("s_per_epoch", "s/epoch", ".2f"), ("rows_per_s", "sample rows/s", ",.0f"),
                                    ("quality", "SDMetrics quality", ".3f")])
        sections.append(f"### {dataset} (train {train.height:,} / holdout {holdout.height:,} rows)\n\n{md}\n")
        print(sections[-1], flush=True)
    path = write_results("tabular", rows, "\n".join(sections))
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
