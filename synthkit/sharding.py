"""Sharded sampling: any number of rows from fitted generators, in parallel, into a Parquet dataset.

The rows are cut into shards of at most ``shard_rows``. Shard ``i`` is sampled with seed
``child_seeds(seed, shards)[i]`` and ids offset by its first row's position, on whichever
worker picks it up, and written as ``part-<i>.parquet`` into a temporary folder beside the
target; the folder is renamed onto the target only when every part is there with the expected
number of rows. So:

* the same ``seed`` and ``shard_rows`` give the same rows on every backend and any number of
  workers (the shard plan does not depend on the cluster);
* a worker's memory is bounded by one shard, whatever the total; this side only keeps the
  plan and one small summary per shard — rows never travel back to it;
* a shard re-run after its worker died rewrites the same part under the same name (atomically),
  so a lost worker leaves no gap and no duplicate.

The workers write the parts themselves, so the output folder must be on a file system they
share with this process (one machine, NFS, a mounted bucket, …).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from synthkit._runtime import child_seeds
from synthkit.errors import ConfigError, DataError

#: rows per shard when none is given: ~tens of MB per worker for typical tables
DEFAULT_SHARD_ROWS = 250_000
#: the key-value metadata entry each part file carries (shard number, seed, rows, …)
PART_METADATA = "synthkit"
PARQUET_SUFFIXES = (".parquet", ".pq")

# Generators seed process-global RNGs (NumPy, torch) while sampling; a worker running several
# threads must not interleave two shards, or the rows would depend on timing.
_SAMPLE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Shard:
    """One unit of work: ``rows`` rows from generator ``segment``, ids from ``start``."""

    index: int
    segment: Any
    start: int
    rows: int
    seed: int
    file: str
    folder: str = ""
    conditions: dict[str, Any] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def plan_shards(counts: Mapping[Any, int], *, seed: int, shard_rows: int = DEFAULT_SHARD_ROWS) -> list[Shard]:
    """Cut ``{segment: rows}`` (in its order) into shards; seeds and id offsets are global."""
    if isinstance(shard_rows, bool) or not isinstance(shard_rows, int) or shard_rows <= 0:
        raise ConfigError(f"shard rows must be a positive integer, not {shard_rows!r}")
    spans: list[tuple[Any, int, int]] = []
    start = 0
    for segment, rows in counts.items():
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ConfigError(f"rows must be a non-negative integer, not {rows!r}")
        for offset in range(0, rows, shard_rows):
            size = min(shard_rows, rows - offset)
            spans.append((segment, start + offset, size))
        start += rows
    if not spans:
        raise ConfigError("nothing to sample: the number of rows is 0")
    seeds = child_seeds(seed, len(spans))
    width = max(5, len(str(len(spans) - 1)))
    return [
        Shard(index=i, segment=segment, start=first, rows=size, seed=seeds[i], file=f"part-{i:0{width}d}.parquet")
        for i, (segment, first, size) in enumerate(spans)
    ]


def sample_shard(generators: Mapping[Any, Any], shard: Shard) -> dict[str, Any]:
    """Sample one shard and write its part file atomically into ``shard.folder`` (on a worker)."""
    folder = Path(shard.folder)
    if not folder.is_dir():
        raise DataError(
            f"{folder}: the output folder is not visible on worker {socket.gethostname()} "
            "(the workers and the client must share a file system)"
        )
    generator = generators[shard.segment]
    started = time.perf_counter()
    with _SAMPLE_LOCK:
        frame = generator.sample(shard.rows, conditions=shard.conditions, seed=shard.seed, id_offset=shard.start)
    meta = {**shard.metadata, "shard": shard.index, "first_row": shard.start, "rows": frame.height, "seed": shard.seed}
    tmp = folder / f".{shard.file}.{uuid.uuid4().hex}.tmp"
    try:
        frame.write_parquet(tmp, metadata={PART_METADATA: json.dumps(meta)})
        os.replace(tmp, folder / shard.file)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return {
        "index": shard.index,
        "rows": frame.height,
        "bytes": (folder / shard.file).stat().st_size,
        "seconds": time.perf_counter() - started,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }


def check_dataset_target(out: str | os.PathLike) -> Path:
    """The sharded output is a folder named ``out`` (``NAME.parquet`` or a plain name)."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix and suffix not in PARQUET_SUFFIXES:
        raise ConfigError(
            f"{out}: sharded output is a Parquet dataset (a folder of part files); "
            "name it NAME.parquet or give a folder name without an extension"
        )
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is a file; sharded output is a folder — remove it or choose another name")
    if not out.parent.exists():
        raise DataError(f"{out}: the folder {out.parent} does not exist")
    return out


def sample_dataset(
    generators: Mapping[Any, Any],
    counts: Mapping[Any, int],
    out: str | os.PathLike,
    *,
    backend,
    seed: int,
    shard_rows: int = DEFAULT_SHARD_ROWS,
    conditions: dict[str, Any] | None = None,
    on_rows: Callable[[int], None] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Sample ``counts[segment]`` rows from ``generators[segment]`` into the Parquet folder ``out``.

    One generator: ``generators={None: g}``, ``counts={None: rows}``. ``backend`` is a
    :mod:`synthkit.parallel` backend. Returns a summary (rows, parts, bytes, per-worker shard
    counts, seconds). On any failure nothing is left at ``out`` (an old folder stays as it was).
    """
    from synthkit.data.io import atomic_path

    out = check_dataset_target(out)
    missing = [key for key, rows in counts.items() if rows and key not in generators]
    if missing:
        raise ConfigError(f"no generator for segment(s) {', '.join(map(repr, missing))}")
    plan = plan_shards(counts, seed=seed, shard_rows=shard_rows)
    needed = {shard.segment for shard in plan}
    shared = {key: generators[key] for key in needed}
    started = time.perf_counter()
    with atomic_path(out, directory=True) as tmp:
        base = {"seed": seed, "shard_rows": shard_rows, "shards": len(plan), "total_rows": sum(counts.values()),
                **(metadata or {})}
        tasks = [
            Shard(**{**asdict(shard), "folder": str(tmp.resolve()), "conditions": conditions,
                     "metadata": {**base, **({"segment": _jsonable(shard.segment)} if len(counts) > 1 else {})}})
            for shard in plan
        ]

        def done(index: int, result: dict[str, Any]) -> None:
            if on_rows is not None:
                on_rows(result["rows"])

        results = backend.map(sample_shard, tasks, shared=shared, on_result=done)
        _verify_parts(tmp, tasks)
    workers: dict[str, int] = {}
    for result in results:
        workers[result["worker"]] = workers.get(result["worker"], 0) + 1
    return {
        "path": str(out),
        "rows": sum(r["rows"] for r in results),
        "parts": len(results),
        "bytes": sum(r["bytes"] for r in results),
        "seconds": time.perf_counter() - started,
        "workers": workers,
    }


def _verify_parts(folder: Path, tasks: list[Shard]) -> None:
    """Every planned part is there with its row count; leftovers of killed workers go."""
    import pyarrow.parquet as pq

    for stray in folder.glob(".*.tmp"):
        if stray.is_dir():
            shutil.rmtree(stray, ignore_errors=True)
        else:
            stray.unlink(missing_ok=True)
    expected = {task.file: task.rows for task in tasks}
    present = {p.name for p in folder.iterdir()}
    if present != set(expected):
        lost, extra = sorted(set(expected) - present), sorted(present - set(expected))
        raise DataError(f"{folder}: part files do not match the plan (missing {lost[:3]}, unexpected {extra[:3]})")
    for name, rows in expected.items():
        got = pq.read_metadata(folder / name).num_rows
        if got != rows:
            raise DataError(f"{folder / name}: has {got} rows, expected {rows}")


def _jsonable(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


__all__ = ["DEFAULT_SHARD_ROWS", "Shard", "check_dataset_target", "plan_shards", "sample_dataset", "sample_shard"]
