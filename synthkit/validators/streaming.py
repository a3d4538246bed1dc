"""Marginals and pairwise correlations of tables larger than memory, with polars streaming scans.

``profile(source)`` reads a Parquet dataset (a folder of part files, as sharded sampling
writes), a single file or a ``LazyFrame`` column by column with the streaming engine and
keeps only aggregates: per numeric column the count, missing rate, mean, standard deviation,
range and an equal-width histogram; per categorical column its level counts; per pair of
numeric columns the Pearson correlation (centred co-moments, so large offsets do not cancel
precision away). Memory grows with the number of columns, bins and levels — never with rows.

``compare(real, synthetic)`` puts two profiles side by side with SDMetrics' conventions:
a column shape score (1 − KS statistic for numbers, on the real column's bins, so a lower
bound of the exact KS; 1 − total variation distance for categories) and a pair trend score
(1 − |Δ correlation| / 2 for two numbers; 1 − total variation distance of the joint counts
for a pair with a category, numbers cut into 10 bins), averaged into an overall score between
0 and 1. It tracks SDMetrics' QualityReport but is not identical to it (binned KS, its own
binning of numbers in mixed pairs).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from synthkit.data.io import table_format
from synthkit.errors import DataError

DEFAULT_BINS = 50
#: numeric columns are cut into this many bins when paired with a category (as SDMetrics does)
PAIR_BINS = 10
#: pairs whose joint table could exceed this many cells are skipped (high-cardinality text)
MAX_PAIR_CELLS = 10_000
ENGINE = "streaming"


@dataclass
class NumericStats:
    count: int
    null_rate: float
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    edges: list[float] = field(default_factory=list)
    #: counts per bin, plus one bucket below the first edge and one above the last (a synthetic
    #: profile binned on a real profile's edges can fall outside them)
    counts: list[int] = field(default_factory=list)


@dataclass
class CategoricalStats:
    count: int
    null_rate: float
    levels: dict[str, int]


@dataclass
class Profile:
    rows: int
    numeric: dict[str, NumericStats]
    categorical: dict[str, CategoricalStats]
    correlations: dict[str, float]  # "a|b" -> Pearson r, numeric pairs
    #: "a|b" -> {"x\x1fy": rows}: joint counts of the pairs that involve a category
    #: (numbers cut into PAIR_BINS bins on ``pair_edges``)
    contingency: dict[str, dict[str, int]] = field(default_factory=dict)
    pair_edges: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def scan(source: Any) -> pl.LazyFrame:
    """A lazy scan of a path (file or Parquet folder), a LazyFrame or a DataFrame."""
    if isinstance(source, pl.LazyFrame):
        return source
    if isinstance(source, pl.DataFrame):
        return source.lazy()
    path = Path(source)
    if path.is_dir():
        if not any(path.glob("*.parquet")):
            raise DataError(f"{path}: is a folder without .parquet part files")
        return pl.scan_parquet(path / "*.parquet")
    if not path.exists():
        raise DataError(f"{path}: no such file")
    fmt = table_format(path)
    if fmt == "parquet":
        return pl.scan_parquet(path)
    if fmt in ("csv", "tsv"):
        return pl.scan_csv(path, separator="\t" if fmt == "tsv" else ",", infer_schema_length=100_000, try_parse_dates=True)
    if fmt == "ndjson":
        return pl.scan_ndjson(path, infer_schema_length=100_000)
    return pl.scan_ipc(path)


def _kinds(frame: pl.LazyFrame, schema=None, columns: list[str] | None = None) -> tuple[list[str], list[str]]:
    """Numeric (numbers, dates) and categorical (text, booleans) columns; ids and PII are left out."""
    dtypes = frame.collect_schema()
    names = columns if columns is not None else list(dtypes)
    unknown = [n for n in names if n not in dtypes]
    if unknown:
        raise DataError(f"column(s) {', '.join(unknown)} are not in the data")
    numeric, categorical = [], []
    for name in names:
        if schema is not None and name in schema.columns:
            kind = schema.columns[name].kind
            if kind in ("id", "pii"):
                continue
            (numeric if kind in ("numeric", "datetime") else categorical).append(name)
        elif dtypes[name].is_numeric() or dtypes[name].is_temporal():
            numeric.append(name)
        elif dtypes[name] in (pl.String, pl.Categorical, pl.Boolean) or isinstance(dtypes[name], pl.Enum):
            categorical.append(name)
    return numeric, categorical


def _number(name: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.Date:
        return col.cast(pl.Int32).cast(pl.Float64)
    if dtype.is_temporal():
        return col.dt.epoch("us").cast(pl.Float64) / 1e6
    return col.cast(pl.Float64)


def profile(source: Any, *, schema=None, columns: list[str] | None = None, bins: int = DEFAULT_BINS,
            edges: dict[str, list[float]] | None = None, pair_edges: dict[str, list[float]] | None = None) -> Profile:
    """Aggregates of ``source`` (see the module docstring), computed with streaming scans.

    ``edges`` / ``pair_edges`` bin numeric columns on given edges (another profile's), so two
    profiles compare bin for bin.
    """
    frame = scan(source)
    numeric, categorical = _kinds(frame, schema, columns)
    dtypes = frame.collect_schema()
    values = {name: _number(name, dtypes[name]) for name in numeric}

    # pass 1: counts, moments, ranges
    first = [pl.len().alias("__rows")]
    for name, x in values.items():
        first += [x.count().alias(f"{name}|n"), x.mean().alias(f"{name}|mean"), x.std().alias(f"{name}|std"),
                  x.min().alias(f"{name}|min"), x.max().alias(f"{name}|max")]
    for name in categorical:
        first.append(pl.col(name).null_count().alias(f"{name}|nulls"))
    head = frame.select(first).collect(engine=ENGINE).row(0, named=True)
    rows = int(head["__rows"])

    numeric_stats: dict[str, NumericStats] = {}
    for name, x in values.items():
        n = int(head[f"{name}|n"])
        lo, hi = head[f"{name}|min"], head[f"{name}|max"]
        cuts = (edges or {}).get(name) or _edges(lo, hi, bins)
        numeric_stats[name] = NumericStats(
            count=n, null_rate=1 - n / rows if rows else 0.0, mean=head[f"{name}|mean"], std=head[f"{name}|std"],
            min=lo, max=hi, edges=cuts, counts=_histogram(frame, x, cuts) if cuts else [],
        )

    categorical_stats = {}
    for name in categorical:
        counts = (
            frame.select(pl.col(name).cast(pl.String).alias("v")).drop_nulls().group_by("v").len()
            .collect(engine=ENGINE)
        )
        nulls = int(head[f"{name}|nulls"])
        categorical_stats[name] = CategoricalStats(
            count=rows - nulls, null_rate=nulls / rows if rows else 0.0,
            levels={str(v): int(c) for v, c in counts.sort("v").iter_rows()},
        )

    cuts = pair_edges or {name: _edges(st.min, st.max, PAIR_BINS) for name, st in numeric_stats.items()}
    return Profile(rows=rows, numeric=numeric_stats, categorical=categorical_stats,
                   correlations=_correlations(frame, values, numeric_stats),
                   contingency=_contingency(frame, values, categorical_stats, cuts), pair_edges=cuts)


def _contingency(frame: pl.LazyFrame, values: dict[str, pl.Expr], categorical: dict[str, CategoricalStats],
                 cuts: dict[str, list[float]]) -> dict[str, dict[str, int]]:
    """Joint counts of every pair with at least one categorical column."""
    keys: dict[str, tuple[pl.Expr, int]] = {}
    for name, st in categorical.items():
        keys[name] = (pl.col(name).cast(pl.String).fill_null("<null>"), len(st.levels) + 1)
    for name, x in values.items():
        edges = cuts.get(name) or []
        if len(edges) < 2 or edges[-1] == edges[0]:
            continue
        inner = len(edges) - 1
        width = (edges[-1] - edges[0]) / inner
        bucket = pl.when(x < edges[0]).then(-1).when(x > edges[-1]).then(inner).otherwise(
            ((x - edges[0]) / width).floor().clip(0, inner - 1))
        keys[name] = (bucket.cast(pl.Int64).cast(pl.String).fill_null("<null>"), inner + 3)
    names = list(keys)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]
             if (a in categorical or b in categorical) and keys[a][1] * keys[b][1] <= MAX_PAIR_CELLS]
    queries = [
        frame.select(keys[a][0].alias("a"), keys[b][0].alias("b")).group_by("a", "b").len() for a, b in pairs
    ]
    out = {}
    for (a, b), table in zip(pairs, pl.collect_all(queries, engine=ENGINE) if queries else []):
        out[f"{a}|{b}"] = {f"{x}\x1f{y}": int(n) for x, y, n in table.iter_rows()}
    return out


def _edges(lo: float | None, hi: float | None, bins: int) -> list[float]:
    if lo is None or hi is None:
        return []
    if hi <= lo:
        return [lo, lo]
    step = (hi - lo) / bins
    return [lo + i * step for i in range(bins)] + [hi]


def _histogram(frame: pl.LazyFrame, x: pl.Expr, edges: list[float]) -> list[int]:
    """Counts per bin of ``edges`` with one bucket below and one above (len(edges) + 1)."""
    inner = len(edges) - 1
    if inner <= 0 or edges[-1] == edges[0]:
        bucket = pl.when(x < edges[0]).then(0).when(x > edges[-1]).then(2).otherwise(1)
        size = 3
    else:
        lo, width = edges[0], (edges[-1] - edges[0]) / inner
        inside = ((x - lo) / width).floor().clip(0, inner - 1) + 1
        bucket = pl.when(x < edges[0]).then(0).when(x > edges[-1]).then(inner + 1).otherwise(inside)
        size = inner + 2
    counts = (
        frame.select(bucket.cast(pl.Int64).alias("b")).drop_nulls().group_by("b").len().collect(engine=ENGINE)
    )
    out = [0] * size
    for b, c in counts.iter_rows():
        out[int(b)] = int(c)
    return out


def _correlations(frame: pl.LazyFrame, values: dict[str, pl.Expr], stats: dict[str, NumericStats]) -> dict[str, float]:
    names = [n for n in values if stats[n].std]  # a constant column has no correlation
    exprs = []
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    for k, (a, b) in enumerate(pairs):
        da, db = values[a] - stats[a].mean, values[b] - stats[b].mean
        both = values[a].is_not_null() & values[b].is_not_null()
        # centred on the whole-column means; re-centred below on the pairwise-complete rows
        exprs += [
            pl.when(both).then(da * db).sum().alias(f"{k}|ab"), pl.when(both).then(da).sum().alias(f"{k}|a"),
            pl.when(both).then(db).sum().alias(f"{k}|b"), pl.when(both).then(da * da).sum().alias(f"{k}|aa"),
            pl.when(both).then(db * db).sum().alias(f"{k}|bb"), both.sum().alias(f"{k}|n"),
        ]
    if not exprs:
        return {}
    sums = frame.select(exprs).collect(engine=ENGINE).row(0, named=True)
    out = {}
    for k, (a, b) in enumerate(pairs):
        n = sums[f"{k}|n"]
        if not n:
            continue
        sa, sb = sums[f"{k}|a"], sums[f"{k}|b"]
        cov = sums[f"{k}|ab"] - sa * sb / n
        var_a, var_b = sums[f"{k}|aa"] - sa * sa / n, sums[f"{k}|bb"] - sb * sb / n
        if var_a > 0 and var_b > 0:
            out[f"{a}|{b}"] = max(-1.0, min(1.0, cov / math.sqrt(var_a * var_b)))
    return out


def _ks_binned(real: NumericStats, synthetic: NumericStats) -> float:
    total_r, total_s = sum(real.counts), sum(synthetic.counts)
    if not total_r or not total_s:
        return 1.0 if total_r != total_s else 0.0
    cdf_r = cdf_s = 0.0
    worst = 0.0
    for r, s in zip(real.counts, synthetic.counts):
        cdf_r += r / total_r
        cdf_s += s / total_s
        worst = max(worst, abs(cdf_r - cdf_s))
    return worst


def _tv(real: CategoricalStats, synthetic: CategoricalStats) -> float:
    return _tv_counts(real.levels, synthetic.levels)


def _tv_counts(real: dict[str, int], synthetic: dict[str, int]) -> float:
    """Total variation distance between two count tables."""
    total_r, total_s = sum(real.values()), sum(synthetic.values())
    if not total_r or not total_s:
        return 1.0 if total_r != total_s else 0.0
    return 0.5 * sum(abs(real.get(k, 0) / total_r - synthetic.get(k, 0) / total_s) for k in set(real) | set(synthetic))


def compare(real: Any, synthetic: Any, *, schema=None, bins: int = DEFAULT_BINS) -> dict[str, Any]:
    """Column shapes and pair trends of two tables (paths, LazyFrames, DataFrames or Profiles)."""
    real_profile = real if isinstance(real, Profile) else profile(real, schema=schema, bins=bins)
    if isinstance(synthetic, Profile):
        synthetic_profile = synthetic
    else:
        columns = [*real_profile.numeric, *real_profile.categorical]
        synthetic_profile = profile(
            synthetic, schema=schema, columns=columns,
            edges={name: stats.edges for name, stats in real_profile.numeric.items()},
            pair_edges=real_profile.pair_edges,
        )
    shapes: dict[str, dict[str, Any]] = {}
    for name, stats in real_profile.numeric.items():
        other = synthetic_profile.numeric.get(name)
        if other is None:
            raise DataError(f"synthetic data: numeric column {name!r} is missing")
        ks = _ks_binned(stats, other)
        shapes[name] = {"metric": "KSComplement (binned)", "score": 1 - ks,
                        "null_rate_real": stats.null_rate, "null_rate_synthetic": other.null_rate}
    for name, stats in real_profile.categorical.items():
        other = synthetic_profile.categorical.get(name)
        if other is None:
            raise DataError(f"synthetic data: categorical column {name!r} is missing")
        shapes[name] = {"metric": "TVComplement", "score": 1 - _tv(stats, other),
                        "null_rate_real": stats.null_rate, "null_rate_synthetic": other.null_rate}
    pairs: dict[str, dict[str, Any]] = {
        key: {"metric": "CorrelationSimilarity", "real": r, "synthetic": synthetic_profile.correlations.get(key),
              "score": 1 - abs(r - synthetic_profile.correlations[key]) / 2 if key in synthetic_profile.correlations else 0.0}
        for key, r in real_profile.correlations.items()
    }
    for key, cells in real_profile.contingency.items():
        other = synthetic_profile.contingency.get(key, {})
        pairs[key] = {"metric": "ContingencySimilarity", "score": 1 - _tv_counts(cells, other)}
    shape_score = _mean([v["score"] for v in shapes.values()])
    pair_score = _mean([v["score"] for v in pairs.values()])
    parts = [s for s in (shape_score, pair_score) if s is not None]
    return {
        "rows": {"real": real_profile.rows, "synthetic": synthetic_profile.rows},
        "column_shapes": shapes,
        "column_pair_trends": pairs,
        "scores": {"column_shapes": shape_score, "column_pair_trends": pair_score, "overall": _mean(parts)},
    }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


__all__ = ["CategoricalStats", "NumericStats", "Profile", "compare", "profile", "scan"]
