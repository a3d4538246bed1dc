"""Fidelity metrics: how closely synthetic data follows the real distribution."""

from __future__ import annotations

import polars as pl

from synthkit.data.schema import Schema

_SDTYPE = {"numeric": "numerical", "datetime": "datetime", "categorical": "categorical", "boolean": "categorical"}


def sdmetrics_metadata(schema: Schema) -> dict:
    """SDMetrics' single-table metadata for the learnable columns (ids and PII are left out)."""
    return {"columns": {n: {"sdtype": _SDTYPE[s.kind]} for n, s in schema.columns.items() if s.kind in _SDTYPE}}


def sdmetrics_quality(real: pl.DataFrame, synthetic: pl.DataFrame, schema: Schema) -> float:
    """SDMetrics' QualityReport score (mean of Column Shapes and Column Pair Trends), 0–1."""
    import warnings

    from sdmetrics.reports import QualityReport

    metadata = sdmetrics_metadata(schema)
    columns = list(metadata["columns"])
    report = QualityReport()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report.generate(
            {"table": real.select(columns).to_pandas()},
            {"table": synthetic.select(columns).to_pandas()},
            {"tables": {"table": metadata}},
            verbose=False,
        )
    return float(report.get_score())
