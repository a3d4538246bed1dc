"""``validate``: expectations, fidelity, utility and privacy of a synthetic table, in one Report."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from synthkit.data.schema import Schema
from synthkit.errors import ConfigError, DataError, SchemaError
from synthkit.validators import fidelity as fid
from synthkit.validators import privacy as priv
from synthkit.validators._columns import (
    category_codes,
    check_target,
    display_level,
    is_numeric,
    learnable,
    numbers,
)
from synthkit.validators.expectations import rate_bounds
from synthkit.validators.policy import Policy
from synthkit.validators.report import Check, Plot, Report, Section

MIN_ROWS = 10
HIST_BINS = 30
TOP_LEVELS = 20
# Category levels rarer than this in the real data are pooled in plots: a level held by one
# or two people can identify them.
RARE_LEVEL = 5
COPY_Z = 3.0


def validate(real: Any, synthetic: Any, *, holdout: Any = None, schema: Schema | dict | str | os.PathLike | None = None,
             policy: Policy | dict | str | os.PathLike | None = None, target: str | None = None, seed: int = 0,
             provenance: dict[str, Any] | None = None, data_docs_dir: str | os.PathLike | None = None) -> Report:
    """Validate ``synthetic`` against the ``real`` rows it was learned from.

    ``holdout``: real rows from the same source that the generator did not see; every privacy
    measure is compared with it (without one, the privacy gates fail unless the policy sets
    ``privacy.require_holdout: false``). ``target``: a column to measure utility on
    (train-on-synthetic vs train-on-real). ``policy``: gate thresholds (a :class:`Policy`, a
    dict or a YAML path). ``provenance``: extra facts to record (generator, parameters, …).
    Frames may be polars or pandas. The report holds aggregates only, never real rows.
    """
    from synthkit._runtime import package_versions
    from synthkit.data.io import frame_fingerprint
    from synthkit.generators.base import as_polars

    started = time.perf_counter()
    timings: dict[str, float] = {}
    policy = Policy.coerce(policy)
    real = as_polars(real, what="real data")
    synthetic_raw = as_polars(synthetic, what="synthetic data")
    holdout = as_polars(holdout, what="holdout") if holdout is not None else None
    schema = _coerce_schema(schema, real)
    real = schema.conform(real, source="real data")
    if holdout is not None:
        holdout = schema.conform(holdout, source="holdout")
    for what, frame in (("real data", real), ("synthetic data", synthetic_raw), ("holdout", holdout)):
        if frame is not None and frame.height < MIN_ROWS:
            raise DataError(f"{what}: {frame.height} rows; validation needs at least {MIN_ROWS}")
    synthetic, notes = _conform_synthetic(synthetic_raw, schema)
    check_target(schema, target, [real, synthetic])
    inputs = {"real": real, "synthetic": synthetic_raw} | ({"holdout": holdout} if holdout is not None else {})
    fingerprints = {k: frame_fingerprint(f) for k, f in inputs.items()}
    if holdout is not None and fingerprints["holdout"] == fingerprints["real"]:
        raise ConfigError("the holdout is the real training data itself: pass rows the generator did not see")
    if target is not None and target not in learnable(schema, [synthetic]):
        raise ConfigError(f"target column {target!r} could not be read in the synthetic data")

    sections = []
    clock = time.perf_counter()
    sections.append(_expectations_section(real, synthetic_raw, schema, policy, data_docs_dir))
    timings["expectations"] = time.perf_counter() - clock
    clock = time.perf_counter()
    sections.append(_fidelity_section(real, synthetic, holdout, schema, policy, seed))
    timings["fidelity"] = time.perf_counter() - clock
    if target is not None:
        clock = time.perf_counter()
        section, utility_notes = _utility_section(real, synthetic, holdout, schema, policy, target, seed)
        sections.append(section)
        notes += utility_notes
        timings["utility"] = time.perf_counter() - clock
    clock = time.perf_counter()
    section, privacy_notes = _privacy_section(real, synthetic, holdout, schema, policy, seed)
    sections.append(section)
    notes += privacy_notes
    timings["privacy"] = time.perf_counter() - clock
    timings["total"] = time.perf_counter() - started

    record = {
        "inputs": {k: {"rows": f.height, "columns": f.width, "sha256": fingerprints[k]} for k, f in inputs.items()},
        "schema": {n: s.kind + (" (sensitive)" if s.sensitive else "") for n, s in schema.columns.items()},
        "target": target,
        "seed": seed,
        "policy": policy.model_dump(),
        "packages": package_versions(),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
    record.update(provenance or {})
    return Report(sections=sections, provenance=record, notes=notes)


#: ``synthkit validate`` checks at most this many synthetic rows in memory; beyond it, a seeded
#: sample is checked and the marginals are measured on every row with streaming scans
DEFAULT_SAMPLE_ROWS = 200_000


def read_sample(source: str | os.PathLike, rows: int, *, seed: int = 0,
                na_values: list[str] | tuple[str, ...] | None = None) -> tuple[pl.DataFrame, int]:
    """A seeded uniform sample of at most ``rows`` rows of a table file or Parquet folder, and
    the table's total row count. Parquet and Arrow files are scanned lazily, so only the
    sampled rows are ever held in memory; other formats are read whole first."""
    from synthkit.data.io import read_table, table_format
    from synthkit.validators.streaming import scan

    path = Path(source)
    if rows < MIN_ROWS:
        raise ConfigError(f"the synthetic sample must hold at least {MIN_ROWS} rows, not {rows}")
    lazy = path.is_dir() or (path.exists() and table_format(path) in ("parquet", "ipc"))
    if not lazy:
        frame = read_table(path, na_values=na_values)
        if frame.height <= rows:
            return frame, frame.height
        return frame[np.sort(np.random.default_rng(seed).choice(frame.height, rows, replace=False))], frame.height
    try:
        frame = scan(path)
        total = int(frame.select(pl.len()).collect(engine="streaming").item())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise DataError(f"{path}: cannot be read ({str(exc).splitlines()[0]})") from None
    if total == 0:
        raise DataError(f"{path}: has no rows")
    if total <= rows:
        return frame.collect(engine="streaming"), total
    keep = np.sort(np.random.default_rng(seed).choice(total, rows, replace=False))
    picked = (frame.with_row_index("__synthkit_row").filter(pl.col("__synthkit_row").cast(pl.Int64).is_in(pl.Series(keep.astype(np.int64))))
              .drop("__synthkit_row").collect(engine="streaming"))
    return picked, total


def validate_source(real: Any, source: str | os.PathLike, *, sample_rows: int = DEFAULT_SAMPLE_ROWS,
                    na_values: list[str] | tuple[str, ...] | None = None, seed: int = 0, **options: Any) -> Report:
    """:func:`validate` for synthetic data of any size, read from ``source`` (a file or a Parquet
    folder, e.g. what sharded sampling writes).

    Up to ``sample_rows`` rows it is :func:`validate` on all of them. Beyond, every check runs on
    a seeded uniform sample of ``sample_rows`` synthetic rows against the full real data, and the
    column shapes and pair trends are also measured on every synthetic row with polars streaming
    scans (:mod:`synthkit.validators.streaming`); the full-data column shapes are a gate with the
    policy's column-shapes threshold. The report states the sample size.
    """
    from synthkit.generators.base import as_polars
    from synthkit.validators import streaming

    sample, total = read_sample(source, sample_rows, seed=seed, na_values=na_values)
    # the schema and policy are resolved once, for validate() and the full-data checks alike
    real = as_polars(real, what="real data")
    options["schema"] = schema = _coerce_schema(options.get("schema"), real)
    options["policy"] = policy = Policy.coerce(options.get("policy"))
    report = validate(real, sample, seed=seed, **options)
    if total <= sample.height:
        return report
    full = streaming.compare(schema.conform(real, source="real data"), source, schema=schema)
    shapes, pairs = full["scores"]["column_shapes"], full["scores"]["column_pair_trends"]
    fidelity = next(s for s in report.sections if s.name == "fidelity")
    worst = sorted((v["score"], k) for k, v in full["column_shapes"].items())[:5]
    fidelity.checks += [
        Check.measure("fidelity.full_column_shapes", f"Column shapes on all {total:,} synthetic rows (streaming)",
                      shapes, "The column-shapes score over every synthetic row, not a sample (numbers: KS on "
                      "the real column's 50 bins, an upper bound of the exact score).",
                      threshold=policy.fidelity.column_shapes_min, comparison=">=",
                      gate=policy.fidelity.column_shapes_min is not None and shapes is not None,
                      details={"per_column": {k: _r(v["score"]) for k, v in full["column_shapes"].items()},
                               "worst": [f"{k} {v:.3f}" for v, k in worst]}),
        Check.measure("fidelity.full_pair_trends", f"Column pair trends on all {total:,} synthetic rows (streaming, all pairs)",
                      pairs, "Correlation and contingency similarity of every column pair over every synthetic row "
                      "(all pairs, unlike the sampled check, which averages related pairs only).",
                      details={"pairs": len(full["column_pair_trends"])}),
    ]
    report.provenance["synthetic_sample"] = {"rows": sample.height, "of": total, "seed": seed}
    report.notes.append(f"The synthetic data has {total:,} rows: the two full-data fidelity checks cover every row; "
                        f"all other checks use a seeded uniform sample of {sample.height:,} rows (seed {seed}) "
                        "against the full real data.")
    return report


def _coerce_schema(schema, real: pl.DataFrame) -> Schema:
    if schema is None:
        return Schema.infer(real)
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, dict):
        return Schema.from_dict(schema)
    return Schema.from_yaml(schema)


def _conform_synthetic(frame: pl.DataFrame, schema: Schema) -> tuple[pl.DataFrame, list[str]]:
    """The synthetic columns that can be read as the schema says; the rest are noted, not fatal.

    A missing column or one of the wrong type is a finding (the expectations report it), not
    an input error: the other columns can still be measured.
    """
    notes, columns = [], []
    missing = [n for n in schema.columns if n not in frame.columns]
    extra = [n for n in frame.columns if n not in schema.columns]
    if missing:
        notes.append(f"the synthetic data lacks column(s) {', '.join(missing)}: they are not measured")
    if extra:
        notes.append(f"the synthetic data has column(s) {', '.join(extra)} that the real data lacks: ignored")
    for name, spec in schema.columns.items():
        if name not in frame.columns:
            continue
        try:
            columns.append(Schema(columns={name: spec}).conform(frame.select(name), source="synthetic data").get_column(name))
        except SchemaError:
            notes.append(f"synthetic column {name!r} cannot be read as {spec.dtype} ({frame.schema[name]}): not measured")
    if not columns:
        raise DataError("the synthetic data shares no readable column with the real data")
    return pl.DataFrame(columns), notes


# ---------------------------------------------------------------------------------------------
# Expectations
# ---------------------------------------------------------------------------------------------

def _expectations_section(real, synthetic_raw, schema, policy: Policy, data_docs_dir) -> Section:
    from synthkit.validators.expectations import check_expectations

    outcome = check_expectations(real, synthetic_raw, schema, data_docs_dir=data_docs_dir)
    limit = policy.expectations.failed_max
    check = Check.measure(
        "expectations.failed", "Great Expectations: failed expectations", outcome.failed,
        Policy.meaning("expectations", "failed_max"), threshold=limit, comparison="<=", gate=limit is not None,
        details={"evaluated": outcome.evaluated,
                 "failed": [f"{r['expectation']}({r['column'] or ''})" for r in outcome.failed_results]})
    summary = (f"{outcome.evaluated - outcome.failed} of {outcome.evaluated} expectations built from the real "
               "data's profile hold on the synthetic data.")
    raw = {"success": outcome.success, "evaluated": outcome.evaluated, "failed": outcome.failed,
           "results": outcome.results}
    if outcome.data_docs:
        raw["data_docs"] = outcome.data_docs
    return Section(name="expectations", title="Expectations (Great Expectations)", summary=summary,
                   checks=[check], raw=raw)


# ---------------------------------------------------------------------------------------------
# Fidelity
# ---------------------------------------------------------------------------------------------

def _fidelity_section(real, synthetic, holdout, schema, policy: Policy, seed: int) -> Section:
    fp = policy.fidelity
    shapes = fid.column_shapes(real, synthetic, schema)
    pairs = fid.pair_details(real, synthetic, schema)
    base_shapes = fid.column_shapes(real, holdout, schema) if holdout is not None else None
    base_pairs = fid.pair_details(real, holdout, schema) if holdout is not None else None
    shape_score = fid.mean_score(shapes.values())
    pair_score = fid.pair_trends_summary(pairs)
    worst_cols = sorted(((v, k) for k, v in shapes.items() if not math.isnan(v)))[:5]
    related = [(d["score"], f"{a} × {b}") for (a, b), d in pairs.items() if d["related"]]
    checks = [
        Check.measure("fidelity.column_shapes", "Column shapes (KS / TV complement, mean)", shape_score,
                      Policy.meaning("fidelity", "column_shapes_min"), threshold=fp.column_shapes_min, comparison=">=",
                      gate=fp.column_shapes_min is not None,
                      baseline=fid.mean_score(base_shapes.values()) if base_shapes else None,
                      details={"per_column": {k: _r(v) for k, v in shapes.items()},
                               "worst": [f"{k} {v:.3f}" for v, k in worst_cols]}),
        Check.measure("fidelity.pair_trends", "Column pair trends (related pairs, mean)", pair_score,
                      Policy.meaning("fidelity", "pair_trends_min"), threshold=fp.pair_trends_min, comparison=">=",
                      gate=fp.pair_trends_min is not None,
                      baseline=fid.pair_trends_summary(base_pairs) if base_pairs else None,
                      details={"related_pairs": len(related), "all_pairs": len(pairs),
                               "all_pairs_mean": _r(fid.mean_score(d["score"] for d in pairs.values())),
                               "worst": [f"{k} {v:.3f}" for v, k in sorted(related)[:5]]}),
    ]
    quality = fid.sdmetrics_quality(real, synthetic, schema)
    checks.append(Check.measure(
        "fidelity.sdmetrics_quality", "SDMetrics quality score", quality,
        "SDMetrics' QualityReport score (Column Shapes and Column Pair Trends), for comparison with other tools.",
        baseline=fid.sdmetrics_quality(real, holdout, schema) if holdout is not None else None))
    det = fid.detection(real, synthetic, schema, seed=seed)
    base_det = fid.detection(real, holdout, schema, seed=seed) if holdout is not None else None
    checks.append(Check.measure(
        "fidelity.detection_auc", "Detection ROC-AUC (real vs synthetic)", det["auc"],
        Policy.meaning("fidelity", "detection_auc_max"), threshold=fp.detection_auc_max, comparison="<=",
        gate=fp.detection_auc_max is not None, baseline=base_det["auc"] if base_det else None,
        details={"model": "HistGradientBoostingClassifier, 3-fold cross-validation",
                 "rows_per_class": det["rows_per_class"]}))
    plots = [_pair_heatmap(pairs)]
    plots += [_distribution_plot(name, schema, real, synthetic) for name in shapes]
    summary = (f"Column shapes {shape_score:.3f}, pair trends {pair_score:.3f}, detection AUC {det['auc']:.3f} "
               "(0.5 = indistinguishable)" + (f"; a real holdout scores {base_det['auc']:.3f}." if base_det else "."))
    return Section(name="fidelity", title="Fidelity", summary=summary, checks=checks, plots=plots)


def _r(value: float | None, digits: int = 5) -> float | None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return float(f"{value:.{digits}g}")


def _nice_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """Histogram edges over the central 99% of ``values``, on round numbers (never a real extreme).

    Whole-number columns get whole-number steps, so no bin holds one more integer than its neighbour.
    """
    lo, hi = np.quantile(values, [0.005, 0.995]) if values.size else (0.0, 1.0)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    raw = (hi - lo) / bins
    magnitude = 10 ** math.floor(math.log10(raw))
    whole = values.size > 0 and bool(np.all(values[:10_000] == np.round(values[:10_000])))
    steps = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * magnitude for m in steps if m * magnitude >= raw)
    if whole:
        step = max(1.0, round(step))
    start = math.floor(lo / step) * step
    if whole:
        start -= 0.5  # integers sit inside their bins, never on an edge
    count = math.ceil((hi - start) / step) or 1
    return start + step * np.arange(count + 1)


def _distribution_plot(name: str, schema: Schema, real: pl.DataFrame, synthetic: pl.DataFrame) -> Plot:
    if is_numeric(schema, name):
        r, s = numbers(real.get_column(name)), numbers(synthetic.get_column(name))
        r_ok, s_ok = r[~np.isnan(r)], s[~np.isnan(s)]
        edges = _nice_edges(r_ok, HIST_BINS)
        series, outside = {}, {}
        for label, values in (("real", r_ok), ("synthetic", s_ok)):
            counts, _ = np.histogram(values, edges)
            total = max(values.size, 1)
            series[label] = [_r(c / total, 4) for c in counts]
            outside[label] = {"below": _r(float((values < edges[0]).sum()) / total, 4),
                              "above": _r(float((values > edges[-1]).sum()) / total, 4)}
        data = {"edges": [_r(e, 8) for e in edges], "series": series, "outside": outside,
                "x": "datetime" if schema.columns[name].kind == "datetime" else "number",
                "missing": {"real": _r(float(np.isnan(r).mean()), 4), "synthetic": _r(float(np.isnan(s).mean()), 4)}}
        return Plot(kind="histogram", title=name, data=data, caption="share of non-missing rows per bin")
    (rc, sc), levels = category_codes(real.get_column(name), synthetic.get_column(name))
    real_counts = np.bincount(rc, minlength=len(levels))
    syn_counts = np.bincount(sc, minlength=len(levels))
    shown = [i for i in range(len(levels)) if real_counts[i] >= RARE_LEVEL][:TOP_LEVELS]
    rare = [i for i in range(len(levels)) if 0 < real_counts[i] < RARE_LEVEL]
    other = [i for i in range(len(levels)) if real_counts[i] >= RARE_LEVEL and i not in shown]
    unseen = [i for i in range(len(levels)) if real_counts[i] == 0]
    labels = [display_level(levels[i]) for i in shown]
    groups = [[i] for i in shown]
    for label, members in (("(other levels)", other), (f"(levels with < {RARE_LEVEL} real rows)", rare),
                           ("(not in the real data)", unseen)):
        if members:
            labels.append(label)
            groups.append(members)
    series = {
        "real": [_r(real_counts[g].sum() / max(len(rc), 1), 4) for g in groups],
        "synthetic": [_r(syn_counts[g].sum() / max(len(sc), 1), 4) for g in groups],
    }
    return Plot(kind="bars", title=name, data={"labels": labels, "series": series}, caption="share of rows per level")


def _pair_heatmap(pairs: dict) -> Plot:
    columns: list[str] = []
    for a, b in pairs:
        for c in (a, b):
            if c not in columns:
                columns.append(c)
    index = {c: i for i, c in enumerate(columns)}
    matrix: list[list[float | None]] = [[None] * len(columns) for _ in columns]
    for (a, b), d in pairs.items():
        gap = _r(1.0 - d["score"], 4)
        matrix[index[a]][index[b]] = matrix[index[b]][index[a]] = gap
    return Plot(kind="heatmap", title="Pair-trend difference (0 = same relationship as in the real data)",
                data={"labels": columns, "matrix": matrix, "vmin": 0.0, "vmax": 0.5},
                caption="1 − correlation similarity (two numbers) or 1 − contingency similarity (otherwise)")


# ---------------------------------------------------------------------------------------------
# Utility
# ---------------------------------------------------------------------------------------------

def _utility_section(real, synthetic, holdout, schema, policy: Policy, target: str, seed: int) -> tuple[Section, list[str]]:
    notes = []
    if holdout is not None:
        train, test = real, holdout
        where = "the holdout"
    else:
        order = np.random.default_rng(seed).permutation(real.height)
        cut = int(real.height * 0.8)
        train, test = real[np.sort(order[:cut])], real[np.sort(order[cut:])]
        where = "20% of the real rows"
        notes.append("utility: no holdout, so models are tested on 20% of the real rows, which the generator "
                     "saw while training; the TSTR score is optimistic")
    result = fid.tstr(synthetic, train, test, schema, target, seed=seed)
    metric = "ROC-AUC" if result["metric"] == "roc_auc" else "R²"
    gap = None if any(map(_nan, (result["trtr"], result["tstr"]))) else result["trtr"] - result["tstr"]
    limit = policy.utility.gap_max
    checks = [
        Check.measure("utility.tstr", f"Train on synthetic, test on real ({metric})", _r(result["tstr"]),
                      f"A gradient-boosting model trained on the synthetic rows, scored on {where}.",
                      baseline=_r(result["trtr"]), details={"f1_macro": _r(result.get("tstr_f1_macro"))}),
        Check.measure("utility.gap", f"Utility gap (TRTR − TSTR, {metric})", _r(gap),
                      Policy.meaning("utility", "gap_max"), threshold=limit, comparison="<=", gate=limit is not None,
                      details={"trtr": _r(result["trtr"]), "tstr": _r(result["tstr"]), "target": target,
                               "test_rows": test.height}),
    ]
    notes += [f"utility: {n}" for n in result["notes"]]
    summary = (f"Predicting {target!r}: trained on synthetic {metric} {result['tstr']:.3f}, "
               f"trained on real {result['trtr']:.3f} (tested on {where}).")
    return Section(name="utility", title="Utility", summary=summary, checks=checks), notes


def _nan(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# ---------------------------------------------------------------------------------------------
# Privacy
# ---------------------------------------------------------------------------------------------

def _privacy_section(real, synthetic, holdout, schema, policy: Policy, seed: int) -> tuple[Section, list[str]]:
    pp = policy.privacy
    notes: list[str] = []
    columns = learnable(schema, [real, synthetic] + ([holdout] if holdout is not None else []))
    copy_rate = priv.exact_copy_rate(real, synthetic, schema)
    checks: list[Check] = []
    plots: list[Plot] = []
    identifiers = [n for n, s in schema.columns.items() if s.kind in ("id", "pii") and n in synthetic.columns]
    if holdout is None:
        text = "no holdout was given: the privacy measures need real rows the generator did not see"
        notes.append(f"privacy: {text}" + (" (the gates fail: pass a holdout)" if pp.require_holdout else ""))
        checks.append(Check.measure("privacy.exact_copies", "Exact copies of training rows", copy_rate,
                                    Policy.meaning("privacy", "exact_copy_excess_max"),
                                    details={"note": "no holdout baseline"}))
        if pp.require_holdout:
            for key, id_, title in (("dcr_share_max", "privacy.dcr_share", "DCR share"),
                                    ("mia_auc_max", "privacy.mia_auc", "Membership inference ROC-AUC")):
                checks.append(Check(id=id_, title=f"{title} (not measured: no holdout)", gate=True, passed=False,
                                    meaning=Policy.meaning("privacy", key), details={"note": text}))
        return Section(name="privacy", title="Privacy", summary=text + ".", checks=checks), notes

    space = priv.DistanceSpace(schema, columns)
    e_train, e_hold, e_syn = space.encode(real, holdout, synthetic)
    rng = np.random.default_rng(seed)
    m = min(real.height, holdout.height)
    train_eq = np.sort(rng.choice(real.height, m, replace=False)) if m < real.height else np.arange(real.height)
    hold_eq = np.sort(rng.choice(holdout.height, m, replace=False)) if m < holdout.height else np.arange(holdout.height)

    # Exact copies against the rate at which fresh real rows repeat training rows.
    base_copy = priv.exact_copy_rate(real, holdout, schema)
    if base_copy > 0.5:
        notes.append(f"privacy: {base_copy:.0%} of the holdout rows equal a training row; check that the holdout "
                     "was not taken from the training data")
    limit = pp.exact_copy_excess_max
    threshold = None if limit is None else rate_bounds(base_copy, holdout.height, synthetic.height, COPY_Z)[1] + limit
    checks.append(Check.measure(
        "privacy.exact_copies", "Exact copies of training rows (share of synthetic rows)", copy_rate,
        Policy.meaning("privacy", "exact_copy_excess_max"), threshold=_r(threshold, 6), comparison="<=",
        gate=limit is not None, baseline=base_copy,
        details={"threshold_rule": f"holdout rate + {COPY_Z:g} standard errors + {limit}" if limit is not None else None,
                 "columns_compared": len(columns)}))
    if identifiers:
        checks.append(_identifier_check(real, holdout, synthetic, identifiers, pp))

    # Distances to the closest record: synthetic -> train (2 nearest, for NNDR) and the same
    # for the holdout, the reference of what unseen real rows look like.
    d_st, _ = priv.nearest(e_syn, e_train, k=2)
    d_ht, _ = priv.nearest(e_hold, e_train, k=2)
    d_s_treq = d_st[:, 0] if m == real.height else priv.nearest(e_syn, e_train.take(train_eq))[0][:, 0]
    d_s_heq = priv.nearest(e_syn, e_hold.take(hold_eq))[0][:, 0]
    share = priv.share_closer(d_s_treq, d_s_heq)
    limit = pp.dcr_share_max
    checks.append(Check.measure(
        "privacy.dcr_share", "DCR share (synthetic rows closer to training than to holdout)", share,
        Policy.meaning("privacy", "dcr_share_max"), threshold=limit, comparison="<=", gate=limit is not None,
        baseline=0.5, details={"rows_each_side": m, "ideal": 0.5}))
    checks.append(Check.measure(
        "privacy.dcr", "Distance to closest training row (median)", _r(float(np.median(d_st[:, 0]))),
        "Median distance from a synthetic row to its closest training row; the baseline is the holdout's.",
        baseline=_r(float(np.median(d_ht[:, 0]))),
        details={"synthetic_p05": _r(float(np.quantile(d_st[:, 0], 0.05))),
                 "holdout_p05": _r(float(np.quantile(d_ht[:, 0], 0.05))),
                 "synthetic_zero_share": _r(float((d_st[:, 0] == 0).mean())),
                 "holdout_zero_share": _r(float((d_ht[:, 0] == 0).mean()))}))
    nndr_s, nndr_h = priv.nndr(d_st), priv.nndr(d_ht)
    cut = float(np.quantile(nndr_h, 0.05))
    low = float((nndr_s < cut).mean()) if cut > 0 else float((nndr_s <= 0).mean())
    low_base = float((nndr_h < cut).mean()) if cut > 0 else float((nndr_h <= 0).mean())
    limit = pp.nndr_low_share_max
    checks.append(Check.measure(
        "privacy.nndr", "NNDR below the holdout's 5th percentile (share of synthetic rows)", low,
        Policy.meaning("privacy", "nndr_low_share_max"), threshold=limit, comparison="<=", gate=limit is not None,
        baseline=low_base, details={"synthetic_median": _r(float(np.median(nndr_s))),
                                    "holdout_median": _r(float(np.median(nndr_h)))}))
    plots.append(_dcr_plot("Distance to closest record: training vs holdout (the DCR share)",
                           {"synthetic → training": d_s_treq, "synthetic → holdout": d_s_heq},
                           f"synthetic rows against {m:,} training and {m:,} holdout rows; the two should match"))
    plots.append(_dcr_plot("Distance to closest training row: synthetic vs real holdout",
                           {"synthetic → training": d_st[:, 0], "holdout → training": d_ht[:, 0]},
                           "synthetic rows should not sit closer to the training rows than fresh real rows do"))

    # Membership inference: training records (members) vs holdout records, scored by their
    # distance to the closest synthetic row.
    t = min(m, pp.max_attack_targets)
    members = np.sort(rng.choice(real.height, t, replace=False))
    nonmembers = np.sort(rng.choice(holdout.height, t, replace=False))
    d_mem = priv.nearest(e_train.take(members), e_syn)[0][:, 0]
    d_non = priv.nearest(e_hold.take(nonmembers), e_syn)[0][:, 0]
    curve = priv.roc_points(-d_mem, -d_non)
    tpr = priv.tpr_at_fpr(curve, pp.mia_low_fpr)
    limit = pp.mia_auc_max
    checks.append(Check.measure(
        "privacy.mia_auc", "Membership inference ROC-AUC (distance attack)", curve["auc"],
        Policy.meaning("privacy", "mia_auc_max"), threshold=limit, comparison="<=", gate=limit is not None,
        baseline=0.5, details={"targets_each_side": t}))
    limit = pp.mia_tpr_max
    checks.append(Check.measure(
        "privacy.mia_tpr", f"Membership inference TPR at {pp.mia_low_fpr:.0%} FPR", tpr,
        Policy.meaning("privacy", "mia_tpr_max"), threshold=limit, comparison="<=", gate=limit is not None,
        baseline=pp.mia_low_fpr, details={"fpr": pp.mia_low_fpr}))
    plots.append(Plot(kind="roc", title="Membership inference attack",
                      data={"curves": [{"name": f"distance attack (AUC {curve['auc']:.3f})",
                                        "fpr": [_r(v, 4) for v in curve["fpr"]], "tpr": [_r(v, 4) for v in curve["tpr"]]}]},
                      caption="training records (members) vs holdout records; the diagonal is guessing"))

    # Attribute inference on the columns marked sensitive.
    sensitive = [n for n in columns if schema.columns[n].sensitive]
    if not sensitive:
        notes.append("privacy: no column is marked `sensitive: true` in the schema, so attribute inference was not "
                     "measured")
    for name in sensitive:
        if len(columns) < 2:
            break
        result = priv.attribute_inference(real, holdout, synthetic, schema, name,
                                          max_targets=pp.max_attack_targets, seed=seed)
        limit = pp.attribute_inference_advantage_max
        checks.append(Check.measure(
            f"privacy.attribute_inference.{name}", f"Attribute inference advantage on {name!r}", result["advantage"],
            Policy.meaning("privacy", "attribute_inference_advantage_max"), threshold=limit, comparison="<=",
            gate=limit is not None, baseline=0.0,
            details={"success_on_training_records": _r(result["success_train"]),
                     "success_on_holdout_records": _r(result["success_control"]),
                     "targets_each_side": result["targets"]}))
    failed = [c.title for c in checks if c.gate and not c.passed]
    summary = (f"DCR share {share:.3f} (0.5 ideal), exact copies {copy_rate:.2%} vs {base_copy:.2%} for the holdout, "
               f"membership-inference AUC {curve['auc']:.3f}. " + ("Failed: " + "; ".join(failed) + "." if failed else "All privacy gates pass."))
    return Section(name="privacy", title="Privacy", summary=summary, checks=checks, plots=plots), notes


def _identifier_check(real, holdout, synthetic, identifiers: list[str], pp) -> Check:
    """Share of synthetic id/PII values equal to a training value, against the holdout's share."""
    def shared(frame: pl.DataFrame) -> float:
        hits = total = 0
        for name in identifiers:
            values = frame.get_column(name).drop_nulls().cast(pl.String)
            seen = real.get_column(name).drop_nulls().cast(pl.String).unique()
            hits += int(values.is_in(seen.implode()).sum())
            total += values.len()
        return hits / total if total else 0.0

    rate, base = shared(synthetic), shared(holdout)
    limit = pp.identifier_copy_excess_max
    threshold = None if limit is None else rate_bounds(base, holdout.height, synthetic.height, COPY_Z)[1] + limit
    return Check.measure("privacy.identifier_copies", "Real ids and personal values reappearing", rate,
                         Policy.meaning("privacy", "identifier_copy_excess_max"), threshold=_r(threshold, 6),
                         comparison="<=", gate=limit is not None, baseline=base, details={"columns": identifiers})


def _dcr_plot(title: str, distances: dict[str, np.ndarray], caption: str) -> Plot:
    top = float(np.quantile(np.concatenate(list(distances.values())), 0.99)) or 1.0
    edges = np.linspace(0.0, top, HIST_BINS + 1)
    series = {}
    for label, values in distances.items():
        counts, _ = np.histogram(np.clip(values, 0, top), edges)
        series[label] = [_r(c / max(values.size, 1), 4) for c in counts]
    return Plot(kind="histogram", title=title, data={"edges": [_r(e, 6) for e in edges], "series": series, "x": "number"},
                caption=f"share of rows per distance bin (the top 1% in the last bin); {caption}")
