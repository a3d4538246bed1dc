"""A real Dask cluster for tests: `dask scheduler` and `dask worker` processes on 127.0.0.1.

Started from the command-line entry points, as a user would, bound to the loopback interface
(random ports, dashboards on loopback too). The ``cluster`` fixture in conftest.py hands one
to a test module; tests that kill workers start their own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

DASK = str(Path(sys.executable).with_name("dask"))
LOOPBACK = "127.0.0.1"


class Cluster:
    """A scheduler and ``n`` workers (no nanny: a killed worker stays dead) as subprocesses."""

    def __init__(self, folder: Path, workers: int = 2):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.scheduler_file = folder / "scheduler.json"
        self.scheduler_log = folder / "scheduler.log"
        self.scheduler = self._spawn(
            [DASK, "scheduler", "--host", LOOPBACK, "--port", "0", "--dashboard-address", f"{LOOPBACK}:0",
             "--scheduler-file", str(self.scheduler_file)], self.scheduler_log)
        self.address = self._wait_address()
        self.workers = [
            self._spawn([DASK, "worker", self.address, "--host", LOOPBACK, "--dashboard-address", f"{LOOPBACK}:0",
                         "--nthreads", "1", "--no-nanny", "--name", f"w{i}", "--local-directory", str(folder / f"w{i}")],
                        folder / f"worker{i}.log")
            for i in range(workers)
        ]
        self._wait_workers(workers)

    @staticmethod
    def _spawn(argv: list[str], log: Path) -> subprocess.Popen:
        handle = open(log, "w")  # noqa: SIM115 - closed with the process
        return subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)

    def _wait_address(self) -> str:
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.scheduler_file.exists():
                try:
                    address = json.loads(self.scheduler_file.read_text())["address"]
                except (json.JSONDecodeError, KeyError):
                    address = None
                if address:
                    assert address.startswith(f"tcp://{LOOPBACK}:"), address
                    return address
            if self.scheduler.poll() is not None:
                break
            time.sleep(0.1)
        self.close()
        pytest.fail(f"the dask scheduler did not start: {self.scheduler_log.read_text()[-2000:]}")

    def _wait_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(n, timeout=120)
            assert all(addr.startswith(f"tcp://{LOOPBACK}:") for addr in client.scheduler_info()["workers"])

    def close(self) -> None:
        for process in [*getattr(self, "workers", []), self.scheduler]:
            if process.poll() is None:
                process.terminate()
        for process in [*getattr(self, "workers", []), self.scheduler]:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
