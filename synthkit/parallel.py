"""Local and distributed (Dask) execution behind one small interface.

    from synthkit.parallel import get_backend

    with get_backend("dask", address="tcp://10.0.0.5:8786") as backend:
        results = backend.map(fit_one, seeds, shared=training_table)

``map(fn, items)`` calls ``fn(item)`` for every item — ``fn(shared, item)`` when ``shared`` is
given — in parallel and returns the results in the order of ``items``. ``shared`` travels to
each worker once, not once per item, so a fitted model or a training table can be handed to
thousands of small tasks. ``fn`` must be importable on the workers (a module-level function of
an installed package); ``items``, ``shared`` and the results must be picklable.

Backends:

* ``serial`` — in this process, one item after another (debugging, tiny jobs);
* ``local`` — a pool of worker processes on this machine (``spawn``ed: no state leaks in from
  the parent, and libraries that hold threads, such as polars and torch, stay safe);
* ``dask`` — a ``dask.distributed`` cluster: ``address`` of a running scheduler
  (``dask scheduler`` + ``dask worker``), or a ``LocalCluster`` of ``workers`` processes bound
  to 127.0.0.1 when no address is given.

A task whose worker dies (killed, out of memory, machine lost) is run again on another worker,
up to ``retries`` times; an exception raised by ``fn`` itself is never retried, it stops the
whole map and reaches the caller. Tasks must therefore be idempotent: running one twice must
leave the same result (sharded sampling writes each part file under a fixed name, atomically).
"""

from __future__ import annotations

import os
import pickle
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from synthkit.errors import ConfigError, ParallelError

BACKENDS = ("serial", "local", "dask")

_NOTHING = object()

# What a local pool's initializer installs in each worker process: (fn, shared, has_shared).
_INSTALLED: tuple[Callable, Any, bool] | None = None


class Backend:
    """Runs ``fn`` over items in parallel; see the module docstring."""

    name = ""

    def __init__(self, *, retries: int = 3):
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
            raise ConfigError(f"retries must be a non-negative integer, not {retries!r}")
        self.retries = retries

    @property
    def workers(self) -> int:
        """How many tasks can run at once."""
        raise NotImplementedError

    def map(
        self,
        fn: Callable,
        items: Iterable,
        *,
        shared: Any = _NOTHING,
        on_result: Callable[[int, Any], None] | None = None,
    ) -> list:
        """``[fn(item) for item in items]`` (``fn(shared, item)`` with ``shared``), in parallel.

        ``on_result(index, result)`` is called on this side as each task finishes, in
        completion order (for progress bars); the returned list is in the order of ``items``.
        """
        raise NotImplementedError

    def describe(self) -> str:
        """A few words for messages: the backend and its size."""
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"

    def close(self) -> None:
        """Release the workers (and a cluster this backend started). Safe to call twice."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialBackend(Backend):
    """Everything in the calling process, in order."""

    name = "serial"

    @property
    def workers(self) -> int:
        return 1

    def map(self, fn, items, *, shared=_NOTHING, on_result=None) -> list:
        results = []
        for index, item in enumerate(items):
            result = fn(item) if shared is _NOTHING else fn(shared, item)
            if on_result is not None:
                on_result(index, result)
            results.append(result)
        return results


def _install(payload: bytes) -> None:
    global _INSTALLED
    _INSTALLED = pickle.loads(payload)


def _run_installed(item: Any) -> Any:
    fn, shared, has_shared = _INSTALLED
    return fn(shared, item) if has_shared else fn(item)


class LocalBackend(Backend):
    """A pool of ``workers`` processes on this machine (default: one per CPU core)."""

    name = "local"

    def __init__(self, workers: int | None = None, *, retries: int = 3):
        super().__init__(retries=retries)
        self._workers = _check_workers(workers) or os.cpu_count() or 1

    @property
    def workers(self) -> int:
        return self._workers

    def map(self, fn, items, *, shared=_NOTHING, on_result=None) -> list:
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
        from concurrent.futures.process import BrokenProcessPool

        import cloudpickle

        pending = dict(enumerate(items))
        results: dict[int, Any] = {}
        # fn and shared are pickled once and installed by each process's initializer, so a large
        # shared object is not copied into every task; cloudpickle also carries closures.
        payload = cloudpickle.dumps((fn, None if shared is _NOTHING else shared, shared is not _NOTHING))
        context = multiprocessing.get_context("spawn")
        crashes = 0
        while pending:
            pool = ProcessPoolExecutor(
                max_workers=min(self._workers, len(pending)), mp_context=context,
                initializer=_install, initargs=(payload,),
            )
            futures = {pool.submit(_run_installed, item): index for index, item in pending.items()}
            try:
                remaining = set(futures)
                while remaining:
                    done, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                    for future in done:
                        index = futures[future]
                        results[index] = future.result()  # BrokenProcessPool when a worker died
                        del pending[index]
                        if on_result is not None:
                            on_result(index, results[index])
            except BrokenProcessPool:
                # Keep what finished before the crash; run the rest again in a fresh pool.
                for future, index in futures.items():
                    if index in pending and future.done() and not future.cancelled() and future.exception() is None:
                        results[index] = future.result()
                        del pending[index]
                        if on_result is not None:
                            on_result(index, results[index])
                crashes += 1
                if crashes > self.retries:
                    raise ParallelError(
                        f"local pool: worker processes died {crashes} times ({len(pending)} of "
                        f"{len(results) + len(pending)} tasks unfinished); out of memory? try fewer workers "
                        "or smaller tasks (--shard-rows)"
                    ) from None
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
        return [results[index] for index in range(len(results))]


def _unpickle(blob: bytes) -> Any:
    return pickle.loads(blob)


class DaskBackend(Backend):
    """A ``dask.distributed`` client: to ``address``, or to a new ``LocalCluster`` on 127.0.0.1."""

    name = "dask"

    def __init__(self, address: str | None = None, workers: int | None = None, *, retries: int = 3,
                 timeout: float = 15.0):
        super().__init__(retries=retries)
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ConfigError(
                "the dask backend needs dask.distributed: pip install 'synthkit[dask]'"
            ) from None
        self.address = address
        self.cluster = None
        self.client = None
        if address is not None:
            if workers is not None:
                raise ConfigError("workers: a running cluster has its own workers; give workers only without an address")
            try:
                self.client = Client(address, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError) as error:
                raise ParallelError(
                    f"cannot reach the Dask scheduler at {address}: {error} "
                    "(start one with `dask scheduler`, then `dask worker ADDRESS`)"
                ) from None
            try:
                self.client.wait_for_workers(1, timeout=timeout)
            except (OSError, TimeoutError):
                self.close()
                raise ParallelError(
                    f"the Dask scheduler at {address} has no workers after {timeout:.0f} s "
                    f"(start some with `dask worker {address}`)"
                ) from None
        else:
            import logging

            # One thread per worker process: generators seed global RNGs while they sample.
            self.cluster = LocalCluster(
                n_workers=_check_workers(workers) or os.cpu_count() or 1, threads_per_worker=1,
                processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster, set_as_default=False)

    @property
    def workers(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def describe(self) -> str:
        where = self.address or f"LocalCluster {self.cluster.scheduler_address}"
        return f"dask at {where} ({self.workers} worker thread{'s' if self.workers != 1 else ''})"

    def map(self, fn, items, *, shared=_NOTHING, on_result=None) -> list:
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        items = list(items)
        if not items:
            return []
        client = self.client
        token = uuid.uuid4().hex[:10]
        label = getattr(fn, "__name__", "task").strip("_") or "task"
        # ``shared`` becomes the result of a tiny task rather than scattered data: if the worker
        # holding it dies, the scheduler recomputes it from the task instead of failing the map.
        # It travels as pickled bytes so the scheduler never unpickles it (nor imports its libraries).
        head: tuple = ()
        if shared is not _NOTHING:
            import cloudpickle

            blob = cloudpickle.dumps(shared)
            head = (client.submit(_unpickle, blob, key=f"{label}-shared-{token}", pure=False),)

        def submit(index: int, attempt: int):
            return client.submit(fn, *head, items[index], key=f"{label}-{token}-{index}-{attempt}", pure=False)

        futures = {submit(index, 0): index for index in range(len(items))}
        attempts = [0] * len(items)
        results: dict[int, Any] = {}
        stream = as_completed(list(futures), loop=client.loop)
        try:
            for future in stream:
                index = futures.pop(future)
                try:
                    result = future.result()
                except KilledWorker:
                    # The scheduler already re-ran it on other workers (allowed-failures times);
                    # give it fresh attempts before giving up.
                    attempts[index] += 1
                    if attempts[index] > self.retries:
                        raise ParallelError(
                            f"dask: task {index} of {label} was running on a worker that died, "
                            f"{attempts[index]} times in a row; out of memory? try smaller tasks (--shard-rows)"
                        ) from None
                    retry = submit(index, attempts[index])
                    futures[retry] = index
                    stream.add(retry)
                    continue
                future.release()
                results[index] = result
                if on_result is not None:
                    on_result(index, result)
        except BaseException:
            client.cancel(list(futures))
            raise
        finally:
            for future in head:
                future.release()
        return [results[index] for index in range(len(items))]

    def close(self) -> None:
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _check_workers(workers: int | None) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers <= 0:
        raise ConfigError(f"workers must be a positive integer, not {workers!r}")
    return workers


def get_backend(name: str = "local", *, address: str | None = None, workers: int | None = None,
                retries: int = 3, timeout: float = 15.0) -> Backend:
    """A backend by name: ``serial``, ``local`` (process pool) or ``dask``.

    ``address`` (dask only) is a running scheduler, e.g. ``tcp://10.0.0.5:8786``; without it,
    ``dask`` starts a ``LocalCluster`` of ``workers`` processes on 127.0.0.1. ``workers`` is
    the pool size for ``local`` and for that ``LocalCluster`` (default: the CPU count).
    """
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r} (backends: {', '.join(BACKENDS)})")
    if address is not None and name != "dask":
        raise ConfigError(f"address is for the dask backend, not {name!r}")
    if name == "serial":
        if workers not in (None, 1):
            raise ConfigError("the serial backend has exactly one worker")
        return SerialBackend(retries=retries)
    if name == "local":
        return LocalBackend(workers, retries=retries)
    return DaskBackend(address, workers, retries=retries, timeout=timeout)


__all__ = ["BACKENDS", "Backend", "DaskBackend", "LocalBackend", "SerialBackend", "get_backend"]
