"""Expectations (Great Expectations 1.x): the real data's profile, checked on synthetic data.

The suite is built from the real table: the column set, each column's type family, its share
of missing values, numeric and datetime ranges, category sets, numeric means, and the
uniqueness of id columns. Tolerances are set so that fresh real rows from the same source
pass: a rate seen as ``p`` in ``n`` real rows may be seen in ``m`` new rows within
``Z`` standard errors (with ``p`` taken as at least ``1/n``, so "never seen" still allows the
odd unseen value that a larger sample would show), ranges are widened by 5% of the span, and
a mean may move by 0.1 standard deviations plus ``Z`` standard errors.

Great Expectations runs in an ephemeral context (nothing written unless Data Docs are asked
for), with its analytics off; it gets pandas frames at this adapter, never polars.

What goes into the report from GX: each expectation, whether it passed and GX's aggregate
result (observed value, unexpected counts and percentages). Values are left out, except the
unexpected values of a category-set check — by definition values that never occur in the real
data. Range bounds are rounded outward to two significant digits of the range, so that the
report does not spell out the most extreme real record.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from synthkit.data.schema import Schema
from synthkit.validators._columns import numbers

Z = 4.0
RANGE_MARGIN = 0.05
MEAN_SLACK_SD = 0.1

_TYPE_FAMILIES = {
    "number": ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
               "float16", "float32", "float64", "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16",
               "UInt32", "UInt64", "Float32", "Float64"],
    "string": ["object", "str", "string", "StringDtype", "category", "CategoricalDtype"],
    "boolean": ["bool", "boolean", "BooleanDtype", "object"],
    "datetime": ["datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]", "DatetimeTZDtype"],
}
# Keys GX fills with row values or row positions: never copied into the report.
_ROW_LEVEL_KEYS = {"partial_unexpected_list", "partial_unexpected_index_list", "unexpected_list",
                   "unexpected_index_list", "unexpected_index_query", "unexpected_rows",
                   "partial_unexpected_counts"}


def _family(dtype: pl.DataType) -> str:
    if dtype == pl.Boolean:
        return "boolean"
    if dtype.is_numeric():
        return "number"
    if dtype.is_temporal():
        return "datetime"
    return "string"


def rate_bounds(p: float, n: int, m: int, z: float = Z) -> tuple[float, float]:
    """Bounds for a rate seen as ``p`` in ``n`` real rows, when measured on ``m`` new rows."""
    floor = 1.0 / max(n, 1)
    q = min(max(p, floor), 1 - floor) if n > 1 else 0.5
    half = z * math.sqrt(q * (1 - q) * (1 / max(n, 1) + 1 / max(m, 1)))
    return max(0.0, p - half), min(1.0, p + half)


def _round_out(lo: float, hi: float) -> tuple[float, float]:
    span = hi - lo
    if span <= 0 or not math.isfinite(span):
        return lo, hi
    step = 10 ** (math.floor(math.log10(span)) - 1)
    return math.floor(lo / step) * step, math.ceil(hi / step) * step


def _gx():
    # Analytics off before GX is imported (it reads the variable at import and context creation).
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    try:  # GX may ask PyPI whether it is the latest release; answer for it, offline.
        from great_expectations.data_context._version_checker import _VersionChecker
        from packaging import version

        _VersionChecker._LATEST_GX_VERSION_CACHE = version.Version(gx.__version__)
    except Exception:  # noqa: BLE001, S110 - the checker is private and may move; nothing to do then
        pass
    return gx


def build_suite(real: pl.DataFrame, schema: Schema, *, rows: int | None = None, name: str = "synthkit"):
    """A GX ExpectationSuite from the real data's profile; ``rows`` is the size it will check."""
    gx = _gx()
    import great_expectations.expectations as gxe

    n = real.height
    m = rows or n
    expectations = []
    expectations.append(gxe.ExpectTableColumnsToMatchSet(column_set=list(schema.columns), exact_match=True))
    for column, spec in schema.columns.items():
        if column not in real.columns:
            continue
        col = real.get_column(column)
        expectations.append(gxe.ExpectColumnValuesToBeInTypeList(column=column, type_list=_TYPE_FAMILIES[_family(col.dtype)]))
        present = 1.0 - col.null_count() / max(n, 1)
        lo, hi = rate_bounds(present, n, m)
        expectations.append(gxe.ExpectColumnProportionOfNonNullValuesToBeBetween(column=column, min_value=lo, max_value=hi))
        nonnull = col.drop_nulls()
        if nonnull.len() == 0:
            continue
        if spec.kind == "id":
            expectations.append(gxe.ExpectColumnValuesToBeUnique(column=column))
        elif spec.kind == "numeric" and nonnull.dtype.is_numeric():
            values = numbers(nonnull)
            vmin, vmax = float(values.min()), float(values.max())
            margin = RANGE_MARGIN * (vmax - vmin)
            lo_v, hi_v = _round_out(vmin - margin, vmax + margin)
            outside = rate_bounds(0.0, n, m)[1]
            expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=lo_v, max_value=hi_v,
                                                                    mostly=1.0 - outside))
            mean, sd = float(values.mean()), float(values.std()) if values.size > 1 else 0.0
            slack = MEAN_SLACK_SD * sd + Z * sd * math.sqrt(1 / values.size + 1 / m)
            if slack > 0:
                expectations.append(gxe.ExpectColumnMeanToBeBetween(column=column, min_value=mean - slack,
                                                                      max_value=mean + slack))
        elif spec.kind == "datetime" and nonnull.dtype.is_temporal():
            seconds = numbers(nonnull)
            vmin, vmax = float(seconds.min()), float(seconds.max())
            margin = RANGE_MARGIN * (vmax - vmin)
            lo_s, hi_s = _round_out(vmin - margin, vmax + margin)
            outside = rate_bounds(0.0, n, m)[1]
            expectations.append(gxe.ExpectColumnValuesToBeBetween(column=column, min_value=_iso(lo_s),
                                                                  max_value=_iso(hi_s), mostly=1.0 - outside))
        elif spec.kind in ("categorical", "boolean"):
            counts = nonnull.value_counts()
            levels = counts.get_column(column).to_list()
            # Good–Turing: the share of levels seen once estimates the mass of levels not yet seen.
            singletons = int((counts.get_column("count") == 1).sum())
            unseen = rate_bounds(singletons / max(nonnull.len(), 1), nonnull.len(), m)[1]
            expectations.append(gxe.ExpectColumnValuesToBeInSet(column=column, value_set=sorted(levels, key=str),
                                                                  mostly=1.0 - unseen))
    # Built with its expectations in one go: adding them one by one needs a live context.
    return gx.ExpectationSuite(name=name, expectations=expectations)


def _iso(seconds: float) -> str:
    import datetime as dt

    stamp = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=seconds)
    return stamp.isoformat()


def _pandas(frame: pl.DataFrame):
    import pandas as pd

    out = frame.to_pandas()
    # GX compares datetime bounds given as ISO strings; make the column timezone-naive UTC.
    for name in out.columns:
        if isinstance(out[name].dtype, pd.DatetimeTZDtype):
            out[name] = out[name].dt.tz_convert("UTC").dt.tz_localize(None)
    return out


@dataclass
class ExpectationOutcome:
    """GX's verdict on one table, in report-safe form."""

    success: bool
    evaluated: int
    failed: int
    results: list[dict[str, Any]] = field(default_factory=list)
    data_docs: str | None = None

    @property
    def failed_results(self) -> list[dict[str, Any]]:
        return [r for r in self.results if not r["success"]]


def _safe_result(raw: dict[str, Any]) -> dict[str, Any]:
    config = raw.get("expectation_config", {})
    kind = config.get("type", "")
    kwargs = {k: v for k, v in config.get("kwargs", {}).items() if k != "batch_id"}
    if "value_set" in kwargs:
        kwargs["value_set_size"] = len(kwargs.pop("value_set"))
    if "column_set" in kwargs:
        kwargs["column_set"] = list(kwargs["column_set"])
    result = {k: v for k, v in (raw.get("result") or {}).items() if k not in _ROW_LEVEL_KEYS}
    if kind == "expect_column_values_to_be_in_set":
        # Values outside the real category set cannot be real training values: show them.
        result["unexpected_examples"] = [
            item.get("value") for item in (raw.get("result") or {}).get("partial_unexpected_counts", [])
        ]
    exception = raw.get("exception_info") or {}
    out = {"expectation": kind, "column": kwargs.pop("column", None), "kwargs": kwargs,
           "success": bool(raw.get("success")), "result": result}
    if exception.get("raised_exception"):
        out["error"] = str(exception.get("exception_message"))
    return out


def run_suite(suite, frame: pl.DataFrame, *, data_docs_dir: str | os.PathLike | None = None) -> ExpectationOutcome:
    """Run ``suite`` on ``frame`` (polars, converted here) in an ephemeral GX context."""
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(), analytics_enabled=False,
                               progress_bars=ProgressBarsConfig(globally=False))
    context = gx.get_context(mode="ephemeral", project_config=config)
    source = context.data_sources.add_pandas("synthkit")
    asset = source.add_dataframe_asset("synthetic")
    batch = asset.add_batch_definition_whole_dataframe("all rows")
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="synthkit", data=batch, suite=suite))
    data = {"dataframe": _pandas(frame)}
    docs = None
    if data_docs_dir is None:
        result = definition.run(batch_parameters=data, result_format="SUMMARY")
    else:
        docs = _docs_site(context, Path(data_docs_dir))
        from great_expectations.checkpoint import UpdateDataDocsAction

        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name="synthkit", validation_definitions=[definition],
            actions=[UpdateDataDocsAction(name="docs", site_names=[docs])], result_format="SUMMARY"))
        run = checkpoint.run(batch_parameters=data)
        result = next(iter(run.run_results.values()))
    raw = result.to_json_dict()
    results = [_safe_result(r) for r in raw.get("results", [])]
    failed = sum(not r["success"] for r in results)
    index = Path(data_docs_dir) / "index.html" if data_docs_dir is not None else None
    return ExpectationOutcome(success=bool(raw.get("success")), evaluated=len(results), failed=failed,
                              results=results, data_docs=str(index) if index and index.exists() else None)


def _docs_site(context, folder: Path) -> str:
    # The ephemeral context already has a site called "local_site" (an in-memory one): add ours.
    name = "synthkit_docs"
    folder.mkdir(parents=True, exist_ok=True)
    context.add_data_docs_site(site_name=name, site_config={
        "class_name": "SiteBuilder",
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder.resolve())},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    })
    return name


def check_expectations(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema, *,
                       data_docs_dir: str | os.PathLike | None = None) -> ExpectationOutcome:
    """Build the suite from ``real`` and run it on ``synthetic``."""
    return run_suite(build_suite(real, schema, rows=synthetic.height), synthetic, data_docs_dir=data_docs_dir)
