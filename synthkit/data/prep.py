"""The table a generator learns, and the way back to the user's table.

Every generator sees the same *model frame*: numeric columns as ``Float64`` and categorical
columns as ``String``, without missing values. :class:`TablePrep` builds it and undoes it:

* datetimes become numbers (days or seconds since 1970) and come back inside the real range;
* a missing numeric value becomes a ``<col>__isnull`` indicator column learned jointly with
  the rest (so missingness keeps its correlations), a missing category the ``__missing__`` level;
* numbers come back rounded to the real column's resolution and clipped to its range, in
  its original dtype;
* ``id`` columns are never learned: they are regenerated unique;
* ``pii`` columns are never learned: fake values are drawn and any value whose keyed hash
  falls into a bucket used by a real value is redrawn, so no real value can come out.
  The bucket set is coarse on purpose (about 1 in 20 of all possible values share a bucket
  with a real one), so a saved model cannot be used to test whether a value was in the data.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import secrets
import uuid
from typing import Any

import numpy as np
import polars as pl

from synthkit.data.schema import Schema, parse_dtype
from synthkit.errors import ConditionError, SchemaError

MISSING = "__missing__"
NULL_SUFFIX = "__isnull"
_PII_FALSE_POSITIVE = 0.05
_DATETIME_STEPS = (86_400.0, 3_600.0, 60.0, 1.0, 1e-3, 1e-6)


def _resolution(values: np.ndarray, candidates: tuple[float, ...]) -> float | None:
    """The coarsest step in ``candidates`` that every value is a multiple of."""
    if values.size == 0:
        return None
    sample = values[: 20_000]
    for step in candidates:
        scaled = sample / step
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return step
    return None


def _numeric_steps() -> tuple[float, ...]:
    return tuple(10.0**-d for d in range(7))


def _normalise_pii(value: str, pii_type: str) -> str:
    text = " ".join(str(value).split()).casefold()
    if pii_type == "phone":
        return re.sub(r"\D", "", text)
    return text


def _bucket(value: str, key: bytes, bits: int) -> int:
    digest = hashlib.blake2b(value.encode(), key=key, digest_size=8).digest()
    return int.from_bytes(digest, "big") & ((1 << bits) - 1)


class TablePrep:
    """Fitted conversion between a user's table and the model frame; its state is JSON."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.columns: dict[str, dict[str, Any]] = {}

    # -- fitting --------------------------------------------------------------------
    def fit(self, frame: pl.DataFrame, *, seed: int | None = None) -> TablePrep:
        """Learn the conversion. ``seed`` fixes the PII filter's key, so a refit with the same
        seed draws the same fake values (the key is stored with the model either way)."""
        frame = self.schema.conform(frame)
        taken = set(frame.columns)
        self.columns = {}
        for name, spec in self.schema.columns.items():
            col = frame.get_column(name)
            state: dict[str, Any] = {
                "kind": spec.kind,
                "dtype": spec.dtype,
                "null_rate": col.null_count() / max(len(col), 1),
            }
            if spec.kind == "id":
                state["id"] = self._fit_id(col)
            elif spec.kind == "pii":
                state["pii"] = self._fit_pii(col, spec.pii_type or "other", seed)
            elif spec.kind in ("numeric", "datetime"):
                values = self._to_number(col).drop_nulls().to_numpy().astype(float)
                distinct = np.unique(values[: 200_000]).size if values.size else 0
                state.update(
                    model="numeric",
                    unit=self._unit(col.dtype) if spec.kind == "datetime" else None,
                    min=float(values.min()) if values.size else None,
                    max=float(values.max()) if values.size else None,
                    step=_resolution(values, _DATETIME_STEPS if spec.kind == "datetime" else _numeric_steps()),
                    constant=float(values[0]) if distinct == 1 else None,
                    learn_value=distinct > 1,
                    learn_nulls=0 < col.null_count() < len(col),
                )
                if state["learn_nulls"]:
                    indicator = f"{name}{NULL_SUFFIX}"
                    if indicator in taken:
                        raise SchemaError(f"column {indicator!r} clashes with synthkit's missing-value indicator")
                    taken.add(indicator)
            else:  # categorical, boolean
                levels = self._to_category(col).unique(maintain_order=True).sort().to_list()
                state.update(
                    model="categorical",
                    levels=levels,
                    constant=levels[0] if len(levels) == 1 else None,
                    learn_value=len(levels) > 1,
                )
            self.columns[name] = state
        return self

    @staticmethod
    def _unit(dtype: pl.DataType) -> str:
        return "days" if dtype == pl.Date else "seconds"

    @staticmethod
    def _to_number(col: pl.Series) -> pl.Series:
        if col.dtype == pl.Date:
            return col.cast(pl.Int32).cast(pl.Float64)
        if isinstance(col.dtype, pl.Datetime):
            return col.dt.epoch("us").cast(pl.Float64) / 1e6
        if col.dtype == pl.Boolean:
            return col.cast(pl.Float64)
        return col.cast(pl.Float64)

    @staticmethod
    def _to_category(col: pl.Series) -> pl.Series:
        if col.dtype == pl.Boolean:
            text = col.cast(pl.String).str.to_lowercase()
        else:
            text = col.cast(pl.String)
        return text.fill_null(MISSING)

    @staticmethod
    def _fit_id(col: pl.Series) -> dict[str, Any]:
        if col.dtype.is_integer():
            top = col.max()
            return {"format": "int", "start": int(top) + 1 if top is not None else 1}
        values = col.drop_nulls().cast(pl.String)
        sample = values.head(1000).to_list()
        if sample and all(re.fullmatch(r"[0-9a-fA-F-]{32,36}", v) for v in sample):
            return {"format": "uuid", "hyphens": "-" in sample[0], "upper": sample[0].isupper()}
        prefix = "syn-"
        while values.str.starts_with(prefix).any():
            prefix = "x" + prefix
        return {"format": "string", "prefix": prefix}

    @staticmethod
    def _fit_pii(col: pl.Series, pii_type: str, seed: int | None) -> dict[str, Any]:
        real = {_normalise_pii(v, pii_type) for v in col.drop_nulls().cast(pl.String).to_list()}
        # Buckets are few enough that ~5% of arbitrary values collide with a real one.
        bits = max(4, int(math.floor(math.log2(max(len(real), 1) / _PII_FALSE_POSITIVE))))
        key = (
            secrets.token_bytes(16)
            if seed is None
            else hashlib.blake2b(f"synthkit-pii:{seed}:{col.name}".encode(), digest_size=16).digest()
        )
        buckets = np.unique(np.array([_bucket(v, key, bits) for v in real], dtype=np.uint32))
        return {
            "type": pii_type,
            "key": key.hex(),
            "bits": bits,
            "buckets": base64.b64encode(buckets.astype("<u4").tobytes()).decode(),
        }

    # -- the model frame ------------------------------------------------------------
    def model_kinds(self) -> dict[str, str]:
        """Model-frame column -> ``"numeric"`` or ``"categorical"``."""
        kinds: dict[str, str] = {}
        for name, st in self.columns.items():
            if st.get("model") == "numeric":
                if st["learn_value"]:
                    kinds[name] = "numeric"
                if st["learn_nulls"]:
                    kinds[f"{name}{NULL_SUFFIX}"] = "categorical"
            elif st.get("model") == "categorical" and st["learn_value"]:
                kinds[name] = "categorical"
        return kinds

    def to_model(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The model frame: learnable columns only, no missing values."""
        frame = self.schema.conform(frame)
        rng = np.random.default_rng(0)
        out: list[pl.Series] = []
        for name, st in self.columns.items():
            if st.get("model") == "numeric":
                values = self._to_number(frame.get_column(name))
                isnull = values.is_null()
                if st["learn_value"]:
                    if isnull.any():
                        # Fill from observed values (a fixed-seed hot deck) so no spike appears.
                        observed = values.drop_nulls().to_numpy()
                        fill = rng.choice(observed, size=int(isnull.sum()))
                        arr = values.to_numpy().copy()
                        arr[isnull.to_numpy()] = fill
                        values = pl.Series(name, arr, dtype=pl.Float64)
                    out.append(values.alias(name))
                if st["learn_nulls"]:
                    out.append(isnull.cast(pl.Int8).cast(pl.String).alias(f"{name}{NULL_SUFFIX}"))
            elif st.get("model") == "categorical" and st["learn_value"]:
                out.append(self._to_category(frame.get_column(name)).alias(name))
        return pl.DataFrame(out) if out else pl.DataFrame()

    def from_model(
        self, model: pl.DataFrame, n: int, *, seed: int | None = None, id_offset: int = 0
    ) -> pl.DataFrame:
        """The user's table from ``n`` rows of the model frame (which may have no columns)."""
        rng = np.random.default_rng(seed)
        out: list[pl.Series] = []
        for name, st in self.columns.items():
            dtype = parse_dtype(st["dtype"])
            if st["kind"] == "id":
                col = self._make_ids(name, st["id"], n, rng, id_offset, dtype)
            elif st["kind"] == "pii":
                col = self._make_pii(name, st, n, rng)
            elif st["model"] == "numeric":
                col = self._restore_numeric(name, st, model, n, dtype)
            else:
                col = self._restore_category(name, st, model, n, dtype)
            out.append(col)
        return pl.DataFrame(out)

    def _restore_numeric(self, name: str, st: dict, model: pl.DataFrame, n: int, dtype: pl.DataType) -> pl.Series:
        if st["learn_value"]:
            arr = model.get_column(name).cast(pl.Float64).to_numpy().copy()
            arr = np.clip(arr, st["min"], st["max"])
            if st["step"]:
                arr = np.round(arr / st["step"]) * st["step"]
                arr = np.clip(arr, st["min"], st["max"])
        elif st["constant"] is not None:
            arr = np.full(n, st["constant"], dtype=float)
        else:
            arr = np.full(n, np.nan)
        mask = np.isnan(arr)
        if st["learn_nulls"]:
            mask |= model.get_column(f"{name}{NULL_SUFFIX}").to_numpy() == "1"
        values = pl.Series(name, np.where(mask, np.nan, arr), dtype=pl.Float64).fill_nan(None)
        if st["unit"] == "days":
            return values.round(0).cast(pl.Int32).cast(pl.Date).alias(name)
        if st["unit"] == "seconds":
            micro = (values * 1e6).round(0).cast(pl.Int64)
            stamp = micro.cast(pl.Datetime("us"))
            zone = getattr(dtype, "time_zone", None)
            if zone:
                stamp = stamp.dt.replace_time_zone("UTC").dt.convert_time_zone(zone)
            return stamp.cast(dtype).alias(name)
        if dtype.is_integer():
            return values.round(0).cast(dtype, strict=False).alias(name)
        return values.cast(dtype).alias(name)

    def _restore_category(self, name: str, st: dict, model: pl.DataFrame, n: int, dtype: pl.DataType) -> pl.Series:
        if st["learn_value"]:
            text = model.get_column(name).cast(pl.String)
        else:
            text = pl.Series(name, [st["constant"]] * n, dtype=pl.String)
        text = pl.Series(name, text).replace(MISSING, None)
        if dtype == pl.Boolean:
            return text.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean)
        if dtype == pl.String:
            return text.alias(name)
        return text.cast(dtype, strict=False).alias(name)

    @staticmethod
    def _make_ids(name: str, st: dict, n: int, rng: np.random.Generator, offset: int, dtype: pl.DataType) -> pl.Series:
        if st["format"] == "int":
            return pl.Series(name, np.arange(n, dtype=np.int64) + st["start"] + offset).cast(dtype)
        if st["format"] == "uuid":
            words = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64, endpoint=False)
            ids = [str(uuid.UUID(int=(int(a) << 64 | int(b)) & ((1 << 128) - 1), version=4)) for a, b in words]
            if not st["hyphens"]:
                ids = [i.replace("-", "") for i in ids]
            if st["upper"]:
                ids = [i.upper() for i in ids]
            return pl.Series(name, ids, dtype=pl.String)
        width = max(6, len(str(n + offset)))
        return pl.Series(name, [f"{st['prefix']}{i + offset + 1:0{width}d}" for i in range(n)], dtype=pl.String)

    def _make_pii(self, name: str, st: dict, n: int, rng: np.random.Generator) -> pl.Series:
        from faker import Faker

        pii = st["pii"]
        key = bytes.fromhex(pii["key"])
        bits = pii["bits"]
        taken = set(np.frombuffer(base64.b64decode(pii["buckets"]), dtype="<u4").tolist())
        fake = Faker("en_US")
        fake.seed_instance(int(rng.integers(0, 2**31)))
        draw = {
            "email": lambda: f"{fake.user_name()}{fake.random_int(1, 9999)}@{fake.random_element(('example.com', 'example.org', 'example.net'))}",
            "phone": fake.phone_number,
            "name": fake.name,
            "first_name": fake.first_name,
            "last_name": fake.last_name,
        }.get(pii["type"], lambda: fake.bothify("????-########"))
        values: list[str | None] = []
        nulls = rng.random(n) < st["null_rate"]
        for is_null in nulls:
            if is_null:
                values.append(None)
                continue
            for _ in range(100):
                candidate = draw()
                if _bucket(_normalise_pii(candidate, pii["type"]), key, bits) not in taken:
                    break
            else:  # pragma: no cover - needs ~0.05**100 bad luck
                raise ConditionError(f"could not draw a fake value for pii column {name!r}")
            values.append(candidate)
        return pl.Series(name, values, dtype=pl.String)

    # -- conditions -----------------------------------------------------------------
    def model_conditions(self, conditions: dict[str, Any] | None) -> dict[str, Any]:
        """Check ``{column: value}`` against what was learned; return it in model-frame terms."""
        if not conditions:
            return {}
        out: dict[str, Any] = {}
        for column, value in conditions.items():
            if column not in self.columns:
                known = ", ".join(self.columns)
                raise ConditionError(f"condition on unknown column {column!r} (columns: {known})")
            st = self.columns[column]
            if st["kind"] in ("id", "pii"):
                raise ConditionError(f"cannot condition on {st['kind']} column {column!r}: it is not learned")
            if st["model"] == "categorical":
                text = self._category_text(value, st)
                if text not in st["levels"]:
                    shown = ", ".join(map(repr, st["levels"][:10])) + (" …" if len(st["levels"]) > 10 else "")
                    raise ConditionError(f"condition {column}={value!r}: value never occurs in the data (values: {shown})")
                if st["learn_value"]:
                    out[column] = text
            else:
                number = self._condition_number(column, value, st)
                if st["min"] is None or not (st["min"] <= number <= st["max"]):
                    raise ConditionError(
                        f"condition {column}={value!r}: outside the data's range [{self._show(st, st['min'])}, {self._show(st, st['max'])}]"
                    )
                if st["learn_value"]:
                    out[column] = number
        return out

    @staticmethod
    def _category_text(value: Any, st: dict) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        text = str(value)
        dtype = parse_dtype(st["dtype"])
        if dtype == pl.Boolean:
            return text.strip().lower()
        if dtype.is_integer():
            try:
                return str(int(float(text)))
            except ValueError:
                return text
        return text

    @staticmethod
    def _condition_number(column: str, value: Any, st: dict) -> float:
        if st["unit"]:
            series = pl.Series([value]) if not isinstance(value, str) else pl.Series([value]).str.to_datetime(strict=False)
            if series.null_count():
                raise ConditionError(f"condition {column}={value!r}: not a date or timestamp")
            series = series.cast(pl.Date) if st["unit"] == "days" else series
            return float(TablePrep._to_number(series)[0])
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConditionError(f"condition {column}={value!r}: {column} is numeric, give a number") from None

    @staticmethod
    def _show(st: dict, number: float | None) -> str:
        if number is None:
            return "none"
        if st["unit"] == "days":
            return str(pl.Series([int(number)]).cast(pl.Date)[0])
        if st["unit"] == "seconds":
            return str(pl.Series([int(number * 1e6)]).cast(pl.Datetime("us"))[0])
        return f"{number:g}"

    def condition_tolerance(self, column: str) -> float:
        """How close a sampled number must be to a numeric condition to count as meeting it."""
        st = self.columns[column]
        span = (st["max"] - st["min"]) if st["min"] is not None else 0.0
        return max(span * 0.01, (st["step"] or 0.0) / 2)

    # -- persistence ----------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        return {"columns": self.columns}

    @classmethod
    def from_state(cls, schema: Schema, state: dict[str, Any]) -> TablePrep:
        prep = cls(schema)
        prep.columns = state["columns"]
        return prep
