"""Shared pieces of the benchmark scripts: datasets, the split, SDMetrics' score, result files."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

DATASETS = {
    "adult": ("adult.csv.gz", "income", ["?"]),
    "bank": ("bank-full.csv.gz", "y", None),
    "credit": ("credit_default_taiwan.csv.gz", "default_payment_next_month", None),
    "mammography": ("mammography.csv", "class", None),
}


def datasets_dir() -> Path:
    env = os.environ.get("SYNTHKIT_DATASETS")
    candidates = [Path(env)] if env else []
    candidates += [p / "shared" / "datasets" for p in HERE.parents] + [Path("/work/shared/datasets")]
    for candidate in candidates:
        if (candidate / "adult.csv.gz").is_file():
            return candidate
    sys.exit("datasets not found: set SYNTHKIT_DATASETS to the shared/datasets folder")


def load(name: str) -> tuple[pl.DataFrame, str]:
    from synthkit.data import read_table

    file, target, na = DATASETS[name]
    return read_table(datasets_dir() / file, na_values=na), target


def stratified_split(frame: pl.DataFrame, target: str, *, test_size: float = 0.25, seed: int = 0):
    """75/25 stratified split (scikit-learn's), as the issues' reference numbers use."""
    from sklearn.model_selection import train_test_split

    index = list(range(frame.height))
    train_idx, test_idx = train_test_split(
        index, test_size=test_size, random_state=seed, stratify=frame.get_column(target).to_list()
    )
    return frame[sorted(train_idx)], frame[sorted(test_idx)]


def sdmetrics_quality(real: pl.DataFrame, synthetic: pl.DataFrame, schema) -> float:
    """SDMetrics' QualityReport overall score (column shapes + pair trends), for comparability."""
    from synthkit.validators.fidelity import sdmetrics_quality as quality

    return quality(real, synthetic, schema)


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def write_results(name: str, rows: list[dict], markdown: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M")
    (RESULTS / f"{name}.json").write_text(json.dumps({"when": stamp, "machine": machine(), "rows": rows}, indent=2))
    path = RESULTS / f"{name}.md"
    path.write_text(f"<!-- written by benchmarks/{name}.py on {stamp}, {machine()} -->\n{markdown}\n")
    return path


def markdown_table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """``columns``: (key, header, format) -> a Markdown table."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    rule = "| " + " | ".join("---" if f == "s" else "---:" for _, _, f in columns) + " |"
    body = []
    for row in rows:
        cells = []
        for key, _, fmt in columns:
            value = row.get(key)
            cells.append("–" if value is None else (format(value, fmt) if fmt != "s" else str(value)))
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *body])
