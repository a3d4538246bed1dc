"""Tabular generators side by side on real data: fidelity, utility, privacy screens, speed.

    python benchmarks/tabular.py                                    # Adult, every generator below
    python benchmarks/tabular.py --datasets adult bank credit --generators masked_diffusion tabular_argn
    python benchmarks/tabular.py --param masked_diffusion.width=384   # override one budget value

One process, one split per dataset: 75/25 stratified on the target, seed 0. Each generator is
fitted on the training rows and samples as many rows. Columns:

* SDMetrics quality (Column Shapes + Column Pair Trends) against the training rows;
* TSTR ROC-AUC: gradient boosting trained on the synthetic rows, scored on the real holdout;
* detection AUC: the same model telling real training rows from synthetic ones (0.5 = can't);
* DCR share: synthetic rows closer to a training row than to an equal-size holdout (0.5 ideal);
* exact copies: share of synthetic rows equal to a training row (the holdout's own rate first).

Metrics come from synthkit.validators (fidelity, privacy). Neural SDV generators run with the
epoch counts in BUDGETS (seconds per epoch are printed, so their default 300 epochs can be
extrapolated). ``tabular_argn`` is MOSTLY AI's TabularARGN (``pip install mostlyai-engine`` in a
separate benchmark venv; it is skipped when not installed). Use ``OMP_NUM_THREADS`` to pin threads.
Results: benchmarks/results/tabular.{json,md}.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

from _common import load, markdown_table, sdmetrics_quality, stratified_split, write_results

BUDGETS = {
    "gaussian_copula": {},
    "ctgan": {"epochs": 20},
    "tvae": {"epochs": 50},
    "masked_diffusion": {},
    "tabular_argn": {},
}


def _typed(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"none": None, "true": True, "false": False}.get(text.lower(), text)


def fit_sample_synthkit(name: str, params: dict, train, schema, seed: int):
    from synthkit import generators

    klass = generators.get(name)
    params = dict(params)
    params.update({k: v for k, v in (("random_state", seed), ("verbose", False), ("device", "auto"))
                   if k in klass._param_names() and k not in params})
    generator = generators.create(name, **params)
    started = time.perf_counter()
    generator.fit(train, schema=schema)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = generator.sample(train.height, seed=seed)
    sample_s = time.perf_counter() - started
    extra = {}
    if hasattr(generator, "epochs_run_"):
        extra["epochs_run"] = generator.epochs_run_
    elif "epochs" in params:
        extra["epochs_run"] = params["epochs"]
    return synthetic, fit_s, sample_s, extra


def fit_sample_argn(params: dict, train, schema, seed: int):
    """mostlyai-engine's TabularARGN with its defaults, through its documented file-based API."""
    import polars as pl
    from mostlyai import engine

    workspace = tempfile.mkdtemp(prefix="argn-")
    try:
        engine.init_logging()
        started = time.perf_counter()
        engine.split(workspace_dir=workspace, tgt_data=train.to_pandas(), model_type="TABULAR")
        engine.analyze(workspace_dir=workspace)
        engine.encode(workspace_dir=workspace)
        engine.train(workspace_dir=workspace, **params)
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        engine.generate(workspace_dir=workspace, sample_size=train.height)
        from pathlib import Path

        import pandas as pd

        parts = sorted(Path(workspace, "SyntheticData").glob("*.parquet"))
        frame = pl.from_pandas(pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True))
        sample_s = time.perf_counter() - started
        synthetic = frame.select([pl.col(c).cast(train.schema[c], strict=False) for c in train.columns])
        return synthetic, fit_s, sample_s, {}
    finally:
        shutil.rmtree(workspace, ignore_errors=True)


def score(dataset: str, name: str, budget: str, train, holdout, synthetic, schema, target, seed, fit_s=None,
          sample_s=None, extra=None) -> dict:
    from synthkit.validators.fidelity import detection_auc, tstr_auc
    from synthkit.validators.privacy import dcr_share, exact_copy_rate

    row = {"dataset": dataset, "generator": name, "params": budget, "fit_s": fit_s, **(extra or {})}
    if fit_s is not None and extra and extra.get("epochs_run"):
        row["s_per_epoch"] = fit_s / extra["epochs_run"]
    if sample_s:
        row["rows_per_s"] = synthetic.height / sample_s
        row["total_s"] = fit_s + sample_s
    started = time.perf_counter()
    row["quality"] = sdmetrics_quality(train, synthetic, schema)
    row["tstr_auc"] = tstr_auc(synthetic, holdout, schema, target, seed=seed)
    row["detection_auc"] = detection_auc(train, synthetic, schema, seed=seed)
    row["dcr_share"] = dcr_share(train, holdout, synthetic, schema, seed=seed)
    row["exact_copies"] = exact_copy_rate(train, synthetic, schema)
    row["score_s"] = time.perf_counter() - started
    return row


COLUMNS = [("generator", "generator", "s"), ("params", "budget", "s"), ("fit_s", "fit s", ".0f"),
           ("epochs_run", "epochs", "d"), ("s_per_epoch", "s/epoch", ".2f"), ("rows_per_s", "sample rows/s", ",.0f"),
           ("total_s", "fit+sample s", ".0f"), ("quality", "SDMetrics quality", ".3f"), ("tstr_auc", "TSTR ROC-AUC", ".3f"),
           ("detection_auc", "detection AUC", ".3f"), ("dcr_share", "DCR share", ".3f"), ("exact_copies", "exact copies", ".4f")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["adult"])
    parser.add_argument("--generators", nargs="+", default=list(BUDGETS))
    parser.add_argument("--param", action="append", default=[], metavar="GENERATOR.NAME=VALUE")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="tabular", help="results file stem under benchmarks/results/")
    args = parser.parse_args()

    import torch

    from synthkit.data import Schema

    budgets = {k: dict(v) for k, v in BUDGETS.items()}
    for item in args.param:
        key, _, value = item.partition("=")
        gen, _, param = key.partition(".")
        budgets.setdefault(gen, {})[param] = _typed(value)
    load_avg = os.getloadavg()[0]
    print(f"torch threads {torch.get_num_threads()}, load average {load_avg:.1f}", flush=True)
    rows, sections = [], []
    for dataset in args.datasets:
        frame, target = load(dataset)
        train, holdout = stratified_split(frame, target, seed=args.seed)
        schema = Schema.infer(frame)
        table = [score(dataset, "real holdout (ceiling)", "–", train, holdout, holdout, schema, target, args.seed)]
        # the holdout scored against itself: TSTR and DCR share mean nothing there (TRTR is printed below)
        table[0]["tstr_auc"] = table[0]["dcr_share"] = None
        from synthkit.validators.fidelity import tstr

        trtr = tstr(holdout, train, holdout, schema, target, seed=args.seed)["trtr"]
        print(f"{dataset}: holdout baseline done (TRTR ROC-AUC {trtr:.3f})", flush=True)
        for name in args.generators:
            budget = " ".join(f"{k}={v}" for k, v in budgets.get(name, {}).items()) or "defaults"
            print(f"{dataset}: {name} ({budget}) …", flush=True)
            if name == "tabular_argn":
                try:
                    import mostlyai.engine  # noqa: F401
                except ImportError:
                    print("  mostlyai-engine is not installed here: skipped", flush=True)
                    continue
                synthetic, fit_s, sample_s, extra = fit_sample_argn(budgets.get(name, {}), train, schema, args.seed)
            else:
                synthetic, fit_s, sample_s, extra = fit_sample_synthkit(name, budgets.get(name, {}), train, schema, args.seed)
            row = score(dataset, name, budget, train, holdout, synthetic, schema, target, args.seed, fit_s, sample_s, extra)
            row["load"] = os.getloadavg()[0]
            print("  " + ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
            table.append(row)
        rows += table
        md = markdown_table(table, COLUMNS)
        sections.append(f"### {dataset} (train {train.height:,} / holdout {holdout.height:,} rows; "
                        f"train-on-real ROC-AUC {trtr:.3f}; load {load_avg:.1f}→{os.getloadavg()[0]:.1f})\n\n{md}\n")
        print(sections[-1], flush=True)
    path = write_results(args.out, rows, "\n".join(sections))
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
