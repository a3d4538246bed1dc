"""Reading and writing tables with polars; the format follows the file extension.

Every write is atomic: the table goes to a temporary file beside the target, which is
then renamed over it, so a crash never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import polars as pl

from synthkit.errors import DataError

# extension -> format name; the longest matching suffix wins (".csv.gz" before ".gz")
FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "tsv",
    ".tsv.gz": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "ndjson",
    ".ndjson": "ndjson",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
}

# How many rows polars looks at to infer a CSV column's type. A column whose first
# values are all integers and later turns float must not fail, so look at many.
_INFER_ROWS = 100_000


def table_format(path: str | os.PathLike) -> str:
    """The format name for ``path``'s extension, or a :class:`DataError` naming the known ones."""
    name = Path(path).name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return FORMATS[suffix]
    known = ", ".join(sorted(FORMATS))
    raise DataError(f"{path}: unknown table format (known extensions: {known})")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def read_table(
    path: str | os.PathLike,
    *,
    na_values: Sequence[str] | None = None,
    allow_empty: bool = False,
) -> pl.DataFrame:
    """Read a CSV (also gzip), TSV, Parquet, JSON-lines or Arrow IPC file into polars.

    ``na_values`` are extra strings read as missing (CSV/TSV only; empty cells always are).
    An unreadable, empty or header-only file is a :class:`DataError` with a one-line reason.
    A folder of Parquet part files (what sharded sampling writes) is read as one table.
    """
    path = Path(path)
    if path.is_dir():
        parts = sorted(path.glob("*.parquet"))
        if not parts:
            raise DataError(f"{path}: is a folder without .parquet part files")
        fmt = "parquet"
    else:
        fmt = table_format(path)
        if not path.exists():
            raise DataError(f"{path}: no such file")
        if path.stat().st_size == 0:
            raise DataError(f"{path}: the file is empty")
    nulls = list(na_values) if na_values else None
    try:
        if fmt in ("csv", "tsv"):
            frame = pl.read_csv(
                path,
                separator="\t" if fmt == "tsv" else ",",
                null_values=nulls,
                infer_schema_length=_INFER_ROWS,
                try_parse_dates=True,
            )
        elif fmt == "parquet":
            frame = pl.read_parquet(parts if path.is_dir() else path)
        elif fmt == "ndjson":
            frame = pl.read_ndjson(path, infer_schema_length=_INFER_ROWS)
        else:
            frame = pl.read_ipc(path)
    except pl.exceptions.NoDataError:
        raise DataError(f"{path}: the file is empty") from None
    except (OSError, pl.exceptions.PolarsError, ValueError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot be read as {fmt}: {_first_line(error)}") from None
    if fmt in ("csv", "tsv") and nulls:
        frame = _apply_na_values(frame, nulls)
    if frame.width == 0:
        raise DataError(f"{path}: the file has no columns")
    if frame.height == 0 and not allow_empty:
        raise DataError(f"{path}: the file has a header but no rows")
    _check_column_names(frame, path)
    return frame


def _apply_na_values(frame: pl.DataFrame, nulls: list[str]) -> pl.DataFrame:
    """polars matches ``null_values`` exactly; real files pad markers (``" ?"``), so strip too."""
    stripped = set(nulls)
    exprs = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            col = pl.col(name)
            exprs.append(pl.when(col.str.strip_chars().is_in(stripped)).then(None).otherwise(col).alias(name))
    return frame.with_columns(exprs) if exprs else frame


def _check_column_names(frame: pl.DataFrame, path: Path) -> None:
    blank = [i for i, name in enumerate(frame.columns) if not name.strip()]
    if blank:
        raise DataError(f"{path}: column {blank[0] + 1} has an empty name in the header")


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it onto ``target``.

    On any error the temporary file (or folder) is removed and ``target`` is untouched.
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.exists():
        raise DataError(f"{target}: the folder {parent} does not exist")
    if directory:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        # mkstemp/mkdtemp create private files; give the result the usual permissions
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, (0o777 if directory else 0o666) & ~umask)
        if directory:
            if target.exists():
                old = target.with_name(f".{target.name}.old")
                _remove(old)
                target.rename(old)
                tmp.rename(target)
                _remove(old)
            else:
                tmp.rename(target)
        else:
            os.replace(tmp, target)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def write_table(frame: pl.DataFrame, path: str | os.PathLike) -> Path:
    """Write ``frame`` atomically in the format of ``path``'s extension."""
    path = Path(path)
    fmt = table_format(path)
    with atomic_path(path) as tmp:
        try:
            if fmt in ("csv", "tsv"):
                sep = "\t" if fmt == "tsv" else ","
                if path.name.lower().endswith(".gz"):
                    import gzip

                    # mtime=0: the same table gives the same bytes
                    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle:
                        frame.write_csv(handle, separator=sep)
                else:
                    frame.write_csv(tmp, separator=sep)
            elif fmt == "parquet":
                frame.write_parquet(tmp)
            elif fmt == "ndjson":
                frame.write_ndjson(tmp)
            else:
                frame.write_ipc(tmp)
        except (OSError, pl.exceptions.PolarsError) as error:
            raise DataError(f"{path}: cannot be written as {fmt}: {_first_line(error)}") from None
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes (of every part file, in name order, for a folder)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def frame_fingerprint(frame: pl.DataFrame) -> str:
    """A stable SHA-256 of a table's content (columns, types and values, in order).

    It identifies the training data in a saved model without storing any of it.
    """
    digest = hashlib.sha256()
    digest.update(repr(list(frame.schema.items())).encode())
    for start in range(0, frame.height, 50_000):
        digest.update(frame.slice(start, 50_000).write_csv().encode())
    return digest.hexdigest()
