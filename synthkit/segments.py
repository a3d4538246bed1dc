"""Per-segment generators: one generator per value of a column, fitted in parallel.

The multi-tenant case: each business unit's rows train their own generator, so one unit's
data never shapes another's synthetic rows. Only two things are shared across segments, and
neither is learned: the column kinds (one schema for the whole table, so every segment's
output has the same columns and types) and the identity guards — regenerated ids continue
after the largest real id of the *whole* table, and fake PII is checked against the real
values of the whole table — so a synthetic id or e-mail never equals a real one from another
segment either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from synthkit.data.prep import TablePrep
from synthkit.data.schema import Schema
from synthkit.errors import ConfigError, SynthkitError

#: more distinct values than this is not a segment column but a mistake (an id, a measure)
MAX_SEGMENTS = 1000
#: how a missing segment value is spelled in ``--segment-rows``
NULL_KEY = "null"


def segment_text(value: Any) -> str:
    """How a segment value is written in messages and in ``--segment-rows``."""
    return NULL_KEY if value is None else str(value)


def split_segments(frame: pl.DataFrame, column: str, schema: Schema) -> dict[Any, pl.DataFrame]:
    """``{value: rows with that value}`` in sorted value order (missing values last)."""
    if column not in frame.columns:
        raise ConfigError(f"segment column {column!r} is not in the data (columns: {', '.join(frame.columns)})")
    kind = schema.columns[column].kind
    if kind in ("id", "pii"):
        raise ConfigError(f"segment column {column!r} is an {kind} column; segment by a category such as a business unit")
    values = frame.get_column(column).unique()
    if values.len() > MAX_SEGMENTS:
        raise ConfigError(
            f"segment column {column!r} has {values.len():,} distinct values (at most {MAX_SEGMENTS}); "
            "segment by a category such as a business unit"
        )
    ordered = sorted(values.to_list(), key=lambda v: (v is None, v if v is not None else 0))
    out: dict[Any, pl.DataFrame] = {}
    for value in ordered:
        selector = pl.col(column).is_null() if value is None else pl.col(column) == value
        out[value] = frame.filter(selector)
    return out


def allocate_rows(sizes: Mapping[Any, int], total: int) -> dict[Any, int]:
    """Split ``total`` rows in proportion to ``sizes`` (largest remainder: sums exactly)."""
    whole = sum(sizes.values())
    if whole <= 0:
        raise ConfigError("no rows to take proportions from")
    exact = {key: total * size / whole for key, size in sizes.items()}
    out = {key: int(share) for key, share in exact.items()}
    left = total - sum(out.values())
    by_remainder = sorted(exact, key=lambda key: exact[key] - out[key], reverse=True)
    for key in by_remainder[:left]:
        out[key] += 1
    return out


def parse_segment_rows(asked: Mapping[str, Any], segments: Mapping[Any, Any], column: str) -> dict[Any, int]:
    """``{"A": 1000, "B": 500}`` (from ``--segment-rows``) matched to the real segment values."""
    by_text = {segment_text(value): value for value in segments}
    out: dict[Any, int] = {}
    for text, rows in asked.items():
        if text not in by_text:
            shown = ", ".join(list(by_text)[:20])
            raise ConfigError(f"--segment-rows: {column}={text!r} is not a segment (segments: {shown})")
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ConfigError(f"--segment-rows: {text}={rows!r} is not a number of rows")
        out[by_text[text]] = rows
    # keep the data's segment order: it fixes the shard plan, hence the rows
    return {value: out[value] for value in segments if value in out}


def identity_state(frame: pl.DataFrame, schema: Schema) -> dict[str, dict[str, Any]]:
    """The id and PII guards fitted on the whole table (see the module docstring)."""
    names = schema.names("id", "pii")
    if not names:
        return {}
    sub = Schema(columns={name: schema.columns[name] for name in names})
    prep = TablePrep(sub).fit(frame.select(names))
    return {name: {key: prep.columns[name][key] for key in ("id", "pii") if key in prep.columns[name]} for name in names}


@dataclass(frozen=True)
class SegmentFit:
    """What every segment's fit needs besides its own rows."""

    generator: str
    params: dict[str, Any]
    schema: Schema
    column: str
    identity: dict[str, dict[str, Any]]


def fit_segment(spec: SegmentFit, item: tuple[Any, pl.DataFrame]):
    """Fit one segment's generator on its own rows (runs on a worker)."""
    from synthkit import generators

    value, rows = item
    generator = generators.create(spec.generator, **spec.params)
    try:
        generator.fit(rows, schema=spec.schema)
    except SynthkitError as error:
        raise type(error)(f"segment {spec.column}={segment_text(value)!r} ({rows.height:,} rows): {error}") from None
    for name, state in spec.identity.items():
        generator.prep_.columns[name].update(state)
    return generator


def fit_segments(
    segments: Mapping[Any, pl.DataFrame],
    spec: SegmentFit,
    *,
    backend,
) -> dict[Any, Any]:
    """``{value: fitted generator}``: one fit per segment, in parallel on ``backend``."""
    items = list(segments.items())
    fitted = backend.map(fit_segment, items, shared=spec)
    return {value: generator for (value, _), generator in zip(items, fitted)}


__all__ = [
    "MAX_SEGMENTS", "SegmentFit", "allocate_rows", "fit_segment", "fit_segments", "identity_state",
    "parse_segment_rows", "segment_text", "split_segments",
]
