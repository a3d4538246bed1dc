"""synthkit.parallel: one interface, three backends; order, shared data, lost workers, errors."""

from __future__ import annotations

import os

import pytest

from synthkit.errors import ConfigError
from synthkit.parallel import get_backend


def square(x):
    return x * x


def add_shared(shared, x):
    return shared["base"] + x


def die_once(marker, x):
    """The task for item 3 kills its own worker process the first time it runs."""
    if x == 3 and not os.path.exists(marker):
        open(marker, "w").close()
        os._exit(1)
    return x * 10


def fail_on_two(x):
    if x == 2:
        raise ValueError("item 2 is bad")
    return x


@pytest.mark.parametrize("name", ["serial", "local"])
def test_map_keeps_order_and_hands_shared_data_to_every_task(name):
    with get_backend(name, workers=None if name == "serial" else 2) as backend:
        assert backend.map(square, range(7)) == [0, 1, 4, 9, 16, 25, 36]
        assert backend.map(add_shared, [1, 2, 3], shared={"base": 100}) == [101, 102, 103]
        seen = []
        backend.map(square, range(4), on_result=lambda i, r: seen.append((i, r)))
        assert sorted(seen) == [(0, 0), (1, 1), (2, 4), (3, 9)]


def test_local_pool_reruns_the_tasks_of_a_worker_that_died(tmp_path):
    marker = tmp_path / "died"
    with get_backend("local", workers=2) as backend:
        assert backend.map(die_once, range(6), shared=str(marker)) == [0, 10, 20, 30, 40, 50]
    assert marker.exists(), "the worker really died once"


def test_a_task_error_is_raised_not_retried():
    with get_backend("local", workers=2) as backend, pytest.raises(ValueError, match="item 2 is bad"):
        backend.map(fail_on_two, range(4))


def test_dask_local_cluster_reruns_the_task_of_a_killed_worker(tmp_path):
    """With allowed-failures=0 the scheduler gives up at the first lost worker (KilledWorker):
    the backend's own resubmission must carry the task (Dask's re-run is tested on the
    real cluster in test_dask_cluster.py)."""
    import dask
    import distributed  # noqa: F401 - loads its config defaults before they are overridden below

    marker = tmp_path / "died"
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), get_backend("dask", workers=2) as backend:
        assert backend.workers == 2
        assert backend.map(square, range(5)) == [0, 1, 4, 9, 16]
        assert backend.map(die_once, range(6), shared=str(marker)) == [0, 10, 20, 30, 40, 50]
        with pytest.raises(ValueError, match="item 2 is bad"):
            backend.map(fail_on_two, range(4))
    assert marker.exists()


def test_bad_backend_options_are_clear_errors():
    with pytest.raises(ConfigError, match="unknown backend 'spark'"):
        get_backend("spark")
    with pytest.raises(ConfigError, match="address is for the dask backend"):
        get_backend("local", address="tcp://127.0.0.1:1")
    with pytest.raises(ConfigError, match="workers must be a positive integer"):
        get_backend("local", workers=0)


def test_an_unreachable_scheduler_is_a_clear_error():
    from synthkit.errors import ParallelError

    with pytest.raises(ParallelError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        get_backend("dask", address="tcp://127.0.0.1:9", timeout=1).close()
