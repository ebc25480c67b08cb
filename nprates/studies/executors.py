"""Where tasks run: in this process, a process pool, any concurrent.futures.Executor, Dask.

Workers only compute: they get a task (the study spec and which cells), rebuild the
target, draw the data from the seeds and return rows. The parent writes the rows.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from contextlib import contextmanager
from typing import Iterator

from nprates.studies.cells import Task, run_task
from nprates.studies.errors import StudyError

EXECUTORS = ("serial", "process", "dask")


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _is_client(obj) -> bool:
    """A dask.distributed Client (duck-typed, so dask stays an optional import)."""
    return callable(getattr(obj, "get_executor", None)) and callable(getattr(obj, "submit", None))


def _count(workers: int) -> str:
    return f"{workers} worker" + ("s" if workers != 1 else "")


def resolve_executor(executor=None, workers: int | None = None, scheduler: str | None = None):
    """Check the executor options; return the executor name or the object given.

    ``None`` means dask if a scheduler is given, else a process pool of one
    single-threaded worker per core (serial with ``workers=1`` or on one core).
    Contradictory options raise StudyError naming the option.
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise StudyError("--workers", f"must be an integer >= 1, got {workers!r}")
    if executor is None:
        serial = workers == 1 or (workers is None and cpu_count() == 1)
        executor = "dask" if scheduler else ("serial" if serial else "process")
    if isinstance(executor, str):
        if executor not in EXECUTORS:
            raise StudyError("--executor", f"must be one of {', '.join(EXECUTORS)}, got "
                             f"{executor!r}")
        if scheduler and executor != "dask":
            raise StudyError("--scheduler", "only with --executor dask")
        if executor == "serial" and workers not in (None, 1):
            raise StudyError("--workers", "only with --executor process or dask")
        if executor == "dask":
            try:
                import distributed  # noqa: F401
            except ImportError:
                raise StudyError("--executor", "dask is not installed; install it with "
                                 "pip install 'nprates[dask]'") from None
        return executor
    if isinstance(executor, cf.Executor) or _is_client(executor):
        if scheduler or workers:
            raise StudyError("--workers", "workers and scheduler only apply to the "
                             "'process' and 'dask' executors, not to an executor object")
        return executor
    raise StudyError("--executor", f"must be 'serial', 'process', 'dask', a "
                     f"concurrent.futures.Executor or a dask Client, got {executor!r}")


def is_remote(executor, scheduler: str | None) -> bool:
    """Whether tasks may run on other machines (so this one's devices say nothing)."""
    return bool(scheduler) or not isinstance(executor, str)


@contextmanager
def open_executor(executor, workers: int | None = None,
                  scheduler: str | None = None) -> Iterator[tuple[object, int | None, str]]:
    """Yield ``(pool, threads, description)``; pool None means run in this process.

    ``threads`` is the torch/BLAS thread count each task sets (cores // workers for
    pools on this machine; None leaves the worker as it is).
    """
    cores = cpu_count()
    if executor == "serial":
        yield None, None, "serial"
    elif executor == "process":
        workers = workers or cores
        pool = cf.ProcessPoolExecutor(max_workers=workers,
                                      mp_context=multiprocessing.get_context("spawn"))
        try:
            yield pool, max(1, cores // workers), f"process pool of {_count(workers)}"
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    elif executor == "dask":
        from distributed import Client, LocalCluster

        if scheduler:
            try:
                client = Client(scheduler)
            except (OSError, TimeoutError, ValueError) as exc:
                raise StudyError("--scheduler", f"cannot connect to the Dask scheduler at "
                                 f"{scheduler!r}: {exc}") from None
            try:
                yield client.get_executor(pure=False), None, f"dask scheduler {scheduler}"
            finally:
                client.close()
        else:
            workers = workers or cores
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
            try:
                yield (client.get_executor(pure=False), max(1, cores // workers),
                       f"dask LocalCluster of {_count(workers)} at {cluster.scheduler_address}")
            finally:
                client.close()
                cluster.close()
    elif _is_client(executor):
        yield executor.get_executor(pure=False), None, "dask client"
    else:
        yield executor, None, type(executor).__name__


def execute(tasks: list[Task], pool) -> Iterator[tuple[Task, object]]:
    """Run tasks; yield ``(task, rows)`` as each finishes, or ``(task, exception)``
    when the task itself could not run (a worker died, a task could not be sent)."""
    if pool is None:
        for task in tasks:
            try:
                rows = run_task(task)
            except Exception as exc:
                yield task, exc
            else:
                yield task, rows
        return
    futures = {}
    try:
        for task in tasks:
            futures[pool.submit(run_task, task)] = task
        for future in cf.as_completed(futures):
            try:
                rows = future.result()
            except Exception as exc:
                yield futures[future], exc
            else:
                yield futures[future], rows
    finally:
        for future in futures:
            future.cancel()
