"""Validation on real data: the done-when cases, validate() timings, and exact nearest neighbours at 50k × 50k.

    python benchmarks/validate.py                 # everything (a few minutes on 2 cores)
    python benchmarks/validate.py --skip-peers    # without the scikit-learn / SDMetrics comparisons

1. Four cases on Adult (train / holdout / fresh = 2:1:1 split, seed 0): synthetic = copies of
   training rows, fresh real rows, real rows with every column shuffled independently, fresh
   rows with an unseen category in 4% of one column. Gate verdicts and key numbers.
2. validate() on Adult, 75/25 stratified split (24,420 train / 8,141 holdout) with 24,420
   synthetic rows from gaussian_copula: seconds per section.
3. Exact nearest neighbours (k=2) of 50,000 query rows among 50,000 reference rows (Adult rows
   drawn with replacement, 15 columns: 6 numeric, 9 categorical), beside scikit-learn's brute
   force on the same encoding, and SDMetrics' DCR (pandas cross joins) on 1,000 × 5,000.
4. The whole privacy section at 50k train / 50k holdout / 50k synthetic.

Results: benchmarks/results/validate.{json,md}. Wall seconds come with the load average and the
process's CPU seconds: on a shared machine the wall time stretches with the load, while CPU
seconds / 2 estimates the wall time on 2 idle cores.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import polars as pl
from _common import load, markdown_table, stratified_split, write_results


def load_average() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def four_cases(frame: pl.DataFrame, target: str, seed: int) -> list[dict]:
    from synthkit.data import Schema
    from synthkit.validators import validate

    rows = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    half, quarter = rows.height // 2, rows.height // 4
    train, holdout, fresh = rows[:half], rows[half:half + quarter], rows[half + quarter:half + 2 * quarter]
    schema = Schema.infer(frame)
    schema.columns[target].sensitive = True
    shuffled = fresh.select([pl.col(c).shuffle(seed=seed + i) for i, c in enumerate(fresh.columns)])
    unseen = fresh.with_columns(pl.when(pl.int_range(pl.len()) % 25 == 0).then(pl.lit("Atlantis"))
                                .otherwise(pl.col("native-country")).alias("native-country"))
    cases = {"copy of training rows": train.sample(n=fresh.height, seed=seed),
             "fresh real rows": fresh, "columns shuffled": shuffled, "unseen category": unseen}
    out = []
    for name, synthetic in cases.items():
        started = time.perf_counter()
        report = validate(train, synthetic, holdout=holdout, schema=schema, target=target, seed=seed)
        c = report.check
        out.append({
            "case": name, "verdict": "pass" if report.passed else "FAIL",
            "failed": ", ".join(x.id.split(".", 1)[1] for x in report.failed_gates()) or "–",
            "expectations_failed": c("expectations.failed").value,
            "column_shapes": c("fidelity.column_shapes").value, "pair_trends": c("fidelity.pair_trends").value,
            "detection_auc": c("fidelity.detection_auc").value, "utility_gap": c("utility.gap").value,
            "exact_copies": c("privacy.exact_copies").value, "dcr_share": c("privacy.dcr_share").value,
            "mia_auc": c("privacy.mia_auc").value, "mia_tpr": c("privacy.mia_tpr").value,
            "aia_advantage": c(f"privacy.attribute_inference.{target}").value,
            "seconds": time.perf_counter() - started, "load": load_average(),
            "sizes": f"{train.height:,}/{holdout.height:,}/{synthetic.height:,}",
        })
        print(f"  {name}: {out[-1]['verdict']} ({out[-1]['failed']}) in {out[-1]['seconds']:.1f} s", flush=True)
    return out


def validate_timing(frame: pl.DataFrame, target: str, seed: int) -> dict:
    from synthkit import generators
    from synthkit.data import Schema
    from synthkit.validators import validate

    train, holdout = stratified_split(frame, target, seed=seed)
    schema = Schema.infer(frame)
    synthetic = generators.create("gaussian_copula").fit(train, schema=schema).sample(train.height, seed=seed)
    started, cpu = time.perf_counter(), time.process_time()
    report = validate(train, synthetic, holdout=holdout, schema=schema, target=target, seed=seed)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu
    timings = report.provenance["timings_s"]
    return {"what": f"validate(), Adult {train.height:,} train / {holdout.height:,} holdout / {synthetic.height:,} "
                    "gaussian_copula rows", "seconds": total, "cpu_s": cpu, **{f"{k}_s": v for k, v in timings.items() if k != "total"},
            "verdict": "pass" if report.passed else "FAIL: " + ", ".join(c.id for c in report.failed_gates()),
            "load": load_average()}


def nearest_neighbours(frame: pl.DataFrame, n: int, seed: int, peers: bool) -> list[dict]:
    from synthkit.data import Schema
    from synthkit.validators.privacy import DistanceSpace, nearest

    schema = Schema.infer(frame)
    reference = frame.sample(n=n, with_replacement=True, seed=seed)
    query = frame.sample(n=n, with_replacement=True, seed=seed + 1)
    started, cpu = time.perf_counter(), time.process_time()
    e_ref, e_query = DistanceSpace(schema).encode(reference, query)
    encode_s = time.perf_counter() - started
    started = time.perf_counter()
    dist, _ = nearest(e_query, e_ref, k=2)
    search_s = time.perf_counter() - started
    rows = [{"method": "synthkit exact blocked search (torch matmul), k=2", "size": f"{n:,} × {n:,}",
             "seconds": encode_s + search_s, "cpu_s": time.process_time() - cpu,
             "detail": f"encode {encode_s:.1f} s + search {search_s:.1f} s; {e_ref.dense.shape[1]} dense dims",
             "load": load_average()}]
    print(f"  synthkit: {rows[-1]['seconds']:.1f} s (load {rows[-1]['load']})", flush=True)
    if peers:
        from sklearn.neighbors import NearestNeighbors

        started, cpu = time.perf_counter(), time.process_time()
        model = NearestNeighbors(n_neighbors=2, algorithm="brute", n_jobs=2).fit(e_ref.dense.astype(np.float64))
        sk_dist, _ = model.kneighbors(e_query.dense.astype(np.float64))
        sk_s, sk_cpu = time.perf_counter() - started, time.process_time() - cpu
        gap = float(np.abs(sk_dist / np.sqrt(e_query.width) - dist).max())
        rows.append({"method": "scikit-learn NearestNeighbors(brute, n_jobs=2), k=2", "size": f"{n:,} × {n:,}",
                     "seconds": sk_s, "cpu_s": sk_cpu, "detail": f"same encoding; max |distance difference| {gap:.1e}",
                     "load": load_average()})
        print(f"  scikit-learn: {sk_s:.1f} s", flush=True)
        rows.append(sdmetrics_dcr(frame, schema, seed))
    return rows


def sdmetrics_dcr(frame: pl.DataFrame, schema, seed: int) -> dict:
    import warnings

    from sdmetrics.single_table import DCROverfittingProtection

    from synthkit.validators.fidelity import sdmetrics_metadata

    train = frame.sample(n=5000, seed=seed).to_pandas()
    holdout = frame.sample(n=5000, seed=seed + 1).to_pandas()
    synthetic = frame.sample(n=1000, seed=seed + 2).to_pandas()
    started, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        DCROverfittingProtection.compute_breakdown(train, synthetic, holdout, {"tables": {"t": sdmetrics_metadata(schema)}}, "t")
    seconds = time.perf_counter() - started
    print(f"  SDMetrics DCROverfittingProtection: {seconds:.1f} s", flush=True)
    return {"method": "SDMetrics DCROverfittingProtection (pandas cross joins)", "size": "1,000 × (5,000 + 5,000)",
            "seconds": seconds, "cpu_s": time.process_time() - cpu, "detail": "the DCR share peer; its docs advise subsampling larger data", "load": load_average()}


def privacy_at_scale(frame: pl.DataFrame, n: int, seed: int) -> dict:
    from synthkit.data import Schema
    from synthkit.validators.policy import Policy
    from synthkit.validators.tabular import _privacy_section

    schema = Schema.infer(frame)
    train, holdout, synthetic = (frame.sample(n=n, with_replacement=True, seed=seed + i) for i in range(3))
    started, cpu = time.perf_counter(), time.process_time()
    _privacy_section(train, synthetic, holdout, schema, Policy(), seed)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  privacy section {n:,}/{n:,}/{n:,}: {seconds:.1f} s", flush=True)
    return {"method": "whole privacy section (copies, DCR share, NNDR, membership attack)",
            "size": f"{n:,} train / {n:,} holdout / {n:,} synthetic", "seconds": seconds, "cpu_s": cpu,
            "detail": "3 searches of n × n (synthetic→train k=2, synthetic→holdout, holdout→train k=2) + 2 × 5,000 attack targets → synthetic",
            "load": load_average()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000, help="rows per side of the nearest-neighbour benchmark")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-peers", action="store_true")
    args = parser.parse_args()

    frame, target = load("adult")
    print("1. done-when cases", flush=True)
    cases = four_cases(frame, target, args.seed)
    print("2. validate() on Adult", flush=True)
    timing = validate_timing(frame, target, args.seed)
    print(f"  {timing['seconds']:.1f} s", flush=True)
    print("3. nearest neighbours", flush=True)
    search = nearest_neighbours(frame, args.rows, args.seed, not args.skip_peers)
    print("4. privacy section at scale", flush=True)
    search.append(privacy_at_scale(frame, args.rows, args.seed))

    md_cases = markdown_table(cases, [
        ("case", "synthetic data", "s"), ("verdict", "verdict", "s"), ("failed", "failed gates", "s"),
        ("expectations_failed", "GX failed", ".0f"), ("column_shapes", "shapes", ".3f"), ("pair_trends", "pairs", ".3f"),
        ("detection_auc", "detection AUC", ".3f"), ("utility_gap", "TSTR gap", ".3f"), ("exact_copies", "copies", ".4f"),
        ("dcr_share", "DCR share", ".3f"), ("mia_auc", "MIA AUC", ".3f"), ("mia_tpr", "MIA TPR@1%", ".3f"),
        ("aia_advantage", "AIA adv.", ".3f"), ("seconds", "s", ".1f")])
    md_timing = markdown_table([timing], [
        ("what", "run", "s"), ("seconds", "total s", ".1f"), ("cpu_s", "CPU s", ".1f"), ("expectations_s", "GX s", ".1f"),
        ("fidelity_s", "fidelity s", ".1f"), ("utility_s", "utility s", ".1f"), ("privacy_s", "privacy s", ".1f"),
        ("verdict", "verdict", "s"), ("load", "load", "s")])
    md_search = markdown_table(search, [("method", "method", "s"), ("size", "size", "s"), ("seconds", "wall s", ".1f"),
                                        ("cpu_s", "CPU s", ".1f"),
                                        ("detail", "detail", "s"), ("load", "load", "s")])
    markdown = (f"### Done-when cases (Adult; train / holdout / synthetic = {cases[0]['sizes']})\n\n{md_cases}\n\n"
                f"### validate() timing\n\n{md_timing}\n\n### Exact nearest neighbours\n\n{md_search}\n")
    print(markdown)
    path = write_results("validate", cases + [timing] + search, markdown)
    print(f"results written to {path}")


if __name__ == "__main__":
    main()
