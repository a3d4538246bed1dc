"""Sharded sampling on a Dask cluster: rows/s and peak memory per process, 1 vs 2 workers.

    python benchmarks/scale.py                              # 10M rows, 1 and 2 workers, + client check at 1M
    python benchmarks/scale.py --rows 2000000 --workers 2 --client-rows

For each worker count it starts `dask scheduler` and N `dask worker` processes (one thread
each, no nanny) on 127.0.0.1, runs `synthkit generate --backend dask --address …` as a separate
client process (Gaussian copula fitted on the full UCI Adult table, 250,000-row shards), and
reads each process's peak resident memory (VmHWM for the scheduler and workers, wait4's
ru_maxrss for the client). The output folder is checked to hold exactly the asked rows.
`--client-rows` adds a run with a tenth of the rows on the largest cluster: the client's peak
should not grow with rows. Results: benchmarks/results/scale.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import HERE, datasets_dir, markdown_table, write_results

BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class Cluster:
    def __init__(self, workers: int, folder: Path):
        self.folder = folder
        scheduler_file = folder / "scheduler.json"
        self.logs = []
        self.scheduler = self._spawn([str(BIN / "dask"), "scheduler", "--host", LOOPBACK, "--port", "0",
                                      "--dashboard-address", f"{LOOPBACK}:0", "--scheduler-file", str(scheduler_file)],
                                     "scheduler")
        deadline = time.time() + 60
        while not scheduler_file.exists() and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.2)
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.workers = [
            self._spawn([str(BIN / "dask"), "worker", self.address, "--host", LOOPBACK, "--nthreads", "1", "--no-nanny",
                         "--dashboard-address", f"{LOOPBACK}:0", "--local-directory", str(folder / f"w{i}"),
                         "--memory-limit", "0"], f"worker{i}")
            for i in range(workers)
        ]
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(workers, timeout=120)

    def _spawn(self, argv, name):
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115
        self.logs.append(log)
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def peaks(self) -> dict[str, float | None]:
        out = {"scheduler": peak_rss_mb(self.scheduler.pid)}
        for i, worker in enumerate(self.workers):
            out[f"worker{i}"] = peak_rss_mb(worker.pid)
        return out

    def close(self):
        for process in [*self.workers, self.scheduler]:
            process.terminate()
        for process in [*self.workers, self.scheduler]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs:
            log.close()


def run(rows: int, workers: int, data: Path, out_dir: Path, shard_rows: int, seed: int) -> dict:
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="synthkit-scale-") as scratch:
        cluster = Cluster(workers, Path(scratch))
        try:
            out = out_dir / f"scale-{workers}w-{rows}.parquet"
            argv = [str(BIN / "synthkit"), "generate", "--data", str(data), "--na-values", "?", "--rows", str(rows),
                    "--shard-rows", str(shard_rows), "--seed", str(seed), "--address", cluster.address, "--out", str(out)]
            log = Path(scratch) / "client.log"
            started = time.perf_counter()
            with open(log, "w") as handle:
                client = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "250"})
                # wait4 (not Popen.wait) to get this one child's peak memory
                _, status, usage = os.wait4(client.pid, 0)
                client.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - started
            output = log.read_text()
            if client.returncode != 0:
                raise SystemExit(f"synthkit generate failed:\n{output}")
            peaks = cluster.peaks()
        finally:
            cluster.close()
    timing = re.search(r"fit ([\d.]+) s, sample ([\d.]+) s", output)
    fit_s, sample_s = float(timing.group(1)), float(timing.group(2))
    written = sum(pq.read_metadata(p).num_rows for p in out.glob("*.parquet"))
    if written != rows:
        raise SystemExit(f"{out}: {written} rows written, {rows} asked")
    size_mb = sum(p.stat().st_size for p in out.glob("*.parquet")) / 2**20
    shutil.rmtree(out)
    return {
        "rows": rows, "workers": workers, "rows_written": written, "fit_s": fit_s, "sample_s": sample_s, "wall_s": wall,
        "rows_per_s": rows / sample_s, "client_mb": usage.ru_maxrss / 1024, "scheduler_mb": peaks["scheduler"],
        "worker_mb": " / ".join(f"{v:.0f}" for k, v in peaks.items() if k.startswith("worker") and v is not None),
        "output_mb": size_mb, "load": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--shard-rows", type=int, default=250_000)
    parser.add_argument("--client-rows", action="store_true", default=None,
                        help="also run a tenth of the rows on the largest cluster (default: on)")
    parser.add_argument("--no-client-rows", dest="client_rows", action="store_false")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data = datasets_dir() / "adult.csv.gz"
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    plan = [(args.rows, w) for w in args.workers]
    if args.client_rows is not False:
        plan.append((max(args.rows // 10, 1), max(args.workers)))
    results = []
    for rows, workers in plan:
        print(f"{rows:,} rows on {workers} worker(s) … (load {os.getloadavg()[0]:.1f})", flush=True)
        results.append(run(rows, workers, data, out_dir, args.shard_rows, args.seed))
        print(json.dumps(results[-1]), flush=True)
    table = markdown_table(results, [
        ("rows", "rows", ",d"), ("workers", "workers", "d"), ("sample_s", "sample s", ".1f"),
        ("rows_per_s", "rows/s", ",.0f"), ("client_mb", "client peak MB", ".0f"),
        ("scheduler_mb", "scheduler peak MB", ".0f"), ("worker_mb", "worker peak MB (each)", "s"),
        ("output_mb", "Parquet MB", ".0f"), ("load", "load avg", ".1f"),
    ])
    md = (f"### Sharded sampling on Dask (gaussian_copula fitted on Adult, {args.shard_rows:,}-row shards)\n\n"
          f"{table}\n\nEvery run wrote exactly the asked rows (checked from the Parquet footers). "
          "`load avg` is the machine's 1-minute load when the run ended.\n")
    print(md)
    print(f"results written to {write_results('scale', results, md)}")


if __name__ == "__main__":
    main()
