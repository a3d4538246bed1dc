"""Column kinds: inferred from the data, shown by ``synthkit inspect``, editable as YAML.

Kinds decide how a column is treated:

* ``numeric`` and ``categorical`` are learned by the generators;
* ``boolean`` and ``datetime`` are learned too (as categories and as numbers);
* ``id`` is regenerated unique and never learned;
* ``pii`` (e-mail, phone, name) is replaced by fake values that never equal a real one.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from synthkit.errors import SchemaError

Kind = Literal["numeric", "categorical", "boolean", "datetime", "id", "pii"]
PiiType = Literal["email", "phone", "name", "first_name", "last_name", "other"]
KINDS: tuple[str, ...] = ("numeric", "categorical", "boolean", "datetime", "id", "pii")

# Integer columns with at most this many distinct values are codes (SEX=1/2, PAY_0=-2..8),
# learned as categories rather than as a continuous quantity.
MAX_INTEGER_CODES = 20

_EMAIL = re.compile(r"^[\w.+'-]+@[\w-]+(\.[\w-]+)+$")
_PHONE = re.compile(r"^\+?[\d\s().-]{7,20}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_NAME_COLUMNS = {
    "name": "name", "full_name": "name", "fullname": "name", "person_name": "name",
    "customer_name": "name", "contact_name": "name", "patient_name": "name",
    "first_name": "first_name", "firstname": "first_name", "given_name": "first_name",
    "forename": "first_name", "last_name": "last_name", "lastname": "last_name",
    "surname": "last_name", "family_name": "last_name",
}
_EMAIL_WORDS = {"email", "e_mail", "mail", "email_address"}
_PHONE_WORDS = {"phone", "telephone", "tel", "mobile", "cell", "phone_number", "fax", "msisdn"}
_ID_WORDS = {"id", "uuid", "guid", "key", "identifier"}


def _norm(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def dtype_to_str(dtype: pl.DataType) -> str:
    return str(dtype)


_DATETIME = re.compile(r"^Datetime\(time_unit='(ns|us|ms)', time_zone=(None|'[^']*')\)$")


def parse_dtype(text: str) -> pl.DataType:
    """Inverse of :func:`dtype_to_str` for the types synthkit handles."""
    match = _DATETIME.match(text.strip())
    if match:
        zone = None if match.group(2) == "None" else match.group(2).strip("'")
        return pl.Datetime(match.group(1), zone)
    simple = {
        name: getattr(pl, name)
        for name in (
            "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64",
            "Float32", "Float64", "String", "Boolean", "Date", "Categorical",
        )
    }
    simple["Utf8"] = pl.String
    simple["Datetime"] = pl.Datetime("us")
    if text.strip() in simple:
        return simple[text.strip()]()
    raise SchemaError(f"unknown dtype {text!r} (use one of {', '.join(sorted(simple))} or Datetime(...))")


class ColumnSpec(BaseModel):
    """How one column is read, learned and written."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    dtype: str = Field(description="polars dtype of the column in the data and in synthetic output")
    pii_type: PiiType | None = Field(default=None, description="for kind=pii: what fake values to write")
    sensitive: bool = Field(default=False, description="attribute-inference attacks target this column")

    @field_validator("dtype")
    @classmethod
    def _known_dtype(cls, value: str) -> str:
        parse_dtype(value)
        return value


class Schema(BaseModel):
    """Column name -> :class:`ColumnSpec`, in table order."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[str, ColumnSpec]

    # -- construction ---------------------------------------------------------------
    @classmethod
    def infer(cls, frame: pl.DataFrame) -> Schema:
        """Infer each column's kind from its name, type and values."""
        return cls(columns={name: _infer_column(frame.get_column(name)) for name in frame.columns})

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> Schema:
        import yaml

        path = Path(path)
        try:
            raw = yaml.safe_load(path.read_text())
        except FileNotFoundError:
            raise SchemaError(f"{path}: no such schema file") from None
        except yaml.YAMLError as error:
            raise SchemaError(f"{path}: not valid YAML: {str(error).splitlines()[0]}") from None
        return cls.from_dict(raw, source=str(path))

    @classmethod
    def from_dict(cls, raw: object, *, source: str = "schema") -> Schema:
        if not isinstance(raw, dict) or "columns" not in raw:
            raise SchemaError(f"{source}: expected a mapping with a 'columns' key")
        try:
            return cls.model_validate(raw)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise SchemaError(f"{source}: {where}: {first['msg']}") from None

    def to_yaml(self) -> str:
        import yaml

        body = {"columns": {n: s.model_dump(exclude_defaults=True) | {"kind": s.kind, "dtype": s.dtype}
                            for n, s in self.columns.items()}}
        header = (
            "# synthkit schema: edit a column's kind (numeric, categorical, boolean, datetime, id, pii),\n"
            "# pii_type (email, phone, name, first_name, last_name, other) or sensitive: true,\n"
            "# then pass this file back with --schema.\n"
        )
        return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True)

    def write_yaml(self, path: str | os.PathLike) -> Path:
        from synthkit.data.io import atomic_path

        with atomic_path(path) as tmp:
            tmp.write_text(self.to_yaml())
        return Path(path)

    # -- queries --------------------------------------------------------------------
    def names(self, *kinds: str) -> list[str]:
        return [n for n, s in self.columns.items() if not kinds or s.kind in kinds]

    def check(self, frame: pl.DataFrame, *, source: str = "data") -> None:
        """Raise :class:`SchemaError` if ``frame``'s columns differ from the schema's."""
        missing = [n for n in self.columns if n not in frame.columns]
        extra = [n for n in frame.columns if n not in self.columns]
        if missing:
            raise SchemaError(f"{source}: column(s) {', '.join(map(repr, missing))} are in the schema but not in the data")
        if extra:
            raise SchemaError(f"{source}: column(s) {', '.join(map(repr, extra))} are in the data but not in the schema")

    def conform(self, frame: pl.DataFrame, *, source: str = "data") -> pl.DataFrame:
        """Cast ``frame``'s columns to the schema's dtypes (strings to datetimes, ints to strings…)."""
        self.check(frame, source=source)
        out = []
        for name, spec in self.columns.items():
            col = frame.get_column(name)
            target = parse_dtype(spec.dtype)
            if col.dtype == target:
                out.append(col)
                continue
            try:
                if col.dtype == pl.String and isinstance(target, (pl.Datetime, pl.Date)):
                    cast = col.str.to_datetime(strict=True) if isinstance(target, pl.Datetime) else col.str.to_date()
                    cast = cast.cast(target)
                else:
                    cast = col.cast(target, strict=True)
            except (pl.exceptions.PolarsError, ValueError):
                raise SchemaError(
                    f"{source}: column {name!r} cannot be read as {spec.dtype} (it holds {col.dtype})"
                ) from None
            out.append(cast)
        return pl.DataFrame(out)

    def kind_table(self, frame: pl.DataFrame | None = None) -> list[dict[str, object]]:
        """Rows for display: name, kind, dtype, distinct values, missing share."""
        rows = []
        for name, spec in self.columns.items():
            row: dict[str, object] = {"column": name, "kind": spec.kind, "dtype": spec.dtype}
            if spec.pii_type:
                row["kind"] = f"pii ({spec.pii_type})"
            if frame is not None and name in frame.columns:
                col = frame.get_column(name)
                row["distinct"] = col.n_unique()
                row["missing"] = col.null_count() / max(len(col), 1)
            rows.append(row)
        return rows


def _share(series: pl.Series, pattern: re.Pattern[str]) -> float:
    values = series.drop_nulls().head(2000).cast(pl.String).str.strip_chars()
    if len(values) == 0:
        return 0.0
    return sum(bool(pattern.match(v)) for v in values.to_list()) / len(values)


def _looks_like_id_name(name: str) -> bool:
    tokens = _norm(name).split("_")
    # "customer_id", "uuid", and camel case "CustomerID"/"userId" (not "paid" or "valid")
    return tokens[-1] in _ID_WORDS or re.search(r"[a-z0-9_](ID|Id)$", name.strip()) is not None


def _infer_column(col: pl.Series) -> ColumnSpec:
    dtype = col.dtype
    dstr = dtype_to_str(dtype)
    name = _norm(col.name)
    nonnull = col.drop_nulls()
    n = len(nonnull)
    all_unique = n > 0 and col.null_count() == 0 and nonnull.n_unique() == n

    if dtype == pl.Boolean:
        return ColumnSpec(kind="boolean", dtype=dstr)
    if dtype in (pl.Date,) or isinstance(dtype, pl.Datetime):
        return ColumnSpec(kind="datetime", dtype=dstr)
    if dtype == pl.Categorical or isinstance(dtype, pl.Enum):
        return ColumnSpec(kind="categorical", dtype="String")
    if dtype == pl.String:
        if name in _EMAIL_WORDS or _share(col, _EMAIL) >= 0.9:
            return ColumnSpec(kind="pii", dtype=dstr, pii_type="email")
        if name in _NAME_COLUMNS:
            return ColumnSpec(kind="pii", dtype=dstr, pii_type=_NAME_COLUMNS[name])  # type: ignore[arg-type]
        if name in _PHONE_WORDS or (_share(col, _PHONE) >= 0.9 and nonnull.n_unique() > 0.5 * n):
            return ColumnSpec(kind="pii", dtype=dstr, pii_type="phone")
        parsed = _parse_datetimes(nonnull)
        if parsed is not None:
            return ColumnSpec(kind="datetime", dtype=dtype_to_str(parsed))
        if all_unique and n >= 2 and (_looks_like_id_name(col.name) or _share(col, _UUID) >= 0.9 or n >= 50):
            return ColumnSpec(kind="id", dtype=dstr)
        return ColumnSpec(kind="categorical", dtype=dstr)
    if dtype.is_integer():
        if all_unique and n >= 2 and _looks_like_id_name(col.name):
            return ColumnSpec(kind="id", dtype=dstr)
        if all_unique and n >= 50 and int(nonnull.max()) - int(nonnull.min()) + 1 == n:
            return ColumnSpec(kind="id", dtype=dstr)  # a row number: 1..n in some order
        distinct = nonnull.n_unique()
        if set(nonnull.unique().to_list()) <= {0, 1} and distinct == 2 and name.startswith(("is_", "has_")):
            return ColumnSpec(kind="boolean", dtype=dstr)
        if distinct <= MAX_INTEGER_CODES and distinct <= max(2, math.sqrt(max(n, 1)) * 2):
            return ColumnSpec(kind="categorical", dtype=dstr)
        return ColumnSpec(kind="numeric", dtype=dstr)
    if dtype.is_float():
        return ColumnSpec(kind="numeric", dtype=dstr)
    if dtype == pl.Null:
        return ColumnSpec(kind="categorical", dtype="String")
    raise SchemaError(
        f"column {col.name!r} has type {dstr}, which synthkit cannot learn; drop it or convert it "
        "to numbers, strings, booleans or datetimes"
    )


def _parse_datetimes(values: pl.Series) -> pl.DataType | None:
    """The datetime type if (almost) every string parses as a date or timestamp, else None."""
    sample = values.head(2000)
    if len(sample) == 0 or not sample.str.contains(r"\d{4}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}").all():
        return None
    try:
        parsed = sample.str.to_datetime(strict=False)
    except pl.exceptions.PolarsError:
        return None
    if parsed.null_count() > 0.05 * len(sample):
        return None
    if (parsed.dt.hour() == 0).all() and (parsed.dt.minute() == 0).all() and (parsed.dt.second() == 0).all():
        return pl.Date()
    return parsed.dtype
