"""Where tasks run: in this process, worker processes, any concurrent.futures.Executor, Dask.

Workers only compute: they get a task (the study spec and which cells), rebuild the
target, draw the data from the seeds and return rows. The parent writes the rows.

Every task trains with ``CELL_THREADS`` torch and BLAS threads, whatever the executor,
so that serial, process and Dask runs give bit-identical risks (several intra-op threads
change the order of floating-point sums).

The "process" executor is ``WorkerProcesses``: spawned processes that each run one task
at a time. A worker that dies in a task (``os._exit`` in an estimator, a segfault, the
OOM killer) fails that task's cells with its exit code, and a fresh worker takes its
place for the other tasks. Workers end when the parent process dies (Linux
``PR_SET_PDEATHSIG``, and a watchdog thread elsewhere) and ignore Ctrl-C, which the
parent handles by stopping them.

Workers (process pool and Dask LocalCluster) start with a safe import path
(``safe_worker_path``): the current folder is never on it, so a ``selectors.py`` next to
the study cannot shadow the standard library in a worker (docs/trust.md).
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from typing import Iterator

from nprates.studies.cells import Task, failed_rows, run_task
from nprates.studies.errors import StudyError

EXECUTORS = ("serial", "process", "dask")
#: torch/BLAS threads every task trains with (recorded in the ``threads`` column).
CELL_THREADS = 1


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


class WorkerCrashed(RuntimeError):
    """A worker process died while running a task (``exitcode`` as multiprocessing
    reports it: the exit status, or minus the signal number)."""

    def __init__(self, exitcode: int | None):
        self.exitcode = exitcode
        if exitcode is not None and exitcode < 0:
            try:
                how = f"was killed by signal {-exitcode} ({signal.Signals(-exitcode).name})"
            except ValueError:
                how = f"was killed by signal {-exitcode}"
        else:
            how = f"exited with code {exitcode}"
        super().__init__(f"the worker process running this cell {how}")


#: Environment variable that starts Python in safe-path mode (``python -P``, 3.11+).
SAFE_PATH_ENV = "PYTHONSAFEPATH"


def _current_folder_entries() -> set[str]:
    return {"", ".", os.getcwd()}


@contextmanager
def safe_worker_path() -> Iterator[None]:
    """While open, Python processes started from here (spawned workers) do not put the
    current folder on ``sys.path``: ``PYTHONSAFEPATH=1`` keeps it off their start-up path,
    and ``spawn_without_current_folder`` off the path a spawned worker copies from us."""
    previous = os.environ.get(SAFE_PATH_ENV)
    os.environ[SAFE_PATH_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(SAFE_PATH_ENV, None)
        else:
            os.environ[SAFE_PATH_ENV] = previous


@contextmanager
def spawn_without_current_folder() -> Iterator[None]:
    """While open, ``sys.path`` lacks the current folder: a process spawned now copies
    ``sys.path`` (multiprocessing's preparation data), and must not get it."""
    saved = list(sys.path)
    sys.path[:] = [p for p in saved if p not in _current_folder_entries()]
    try:
        yield
    finally:
        sys.path[:] = saved


def _end_with_parent(parent: int) -> None:
    """Make this process end when the process ``parent`` does."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="nprates-parent-watch").start()
    if os.getppid() != parent:  # died before the signal was armed
        os._exit(1)


def _worker_main(conn, parent: int) -> None:
    """A worker process: run the tasks received on ``conn`` until it sends None."""
    _end_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops workers on Ctrl-C
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        try:
            message = ("rows", run_task(task))
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, which records it
            message = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
        conn.send(message)


class WorkerProcesses:
    """``workers`` spawned worker processes, each running one task at a time.

    ``run(tasks)`` yields ``(task, rows)`` as tasks finish, or ``(task, exception)`` for
    a task whose rows could not come back; a task whose worker dies yields failed rows
    (``WorkerCrashed`` with the exit code) and a fresh worker replaces the dead one.
    """

    def __init__(self, workers: int):
        self.workers = workers
        self.context = multiprocessing.get_context("spawn")
        self.procs: dict = {}  # connection -> process
        self.busy: dict = {}  # connection -> task it runs

    def _start(self):
        parent_end, child_end = self.context.Pipe()
        proc = self.context.Process(target=_worker_main, args=(child_end, os.getpid()),
                                    daemon=True, name="nprates-worker")
        with safe_worker_path(), spawn_without_current_folder():
            proc.start()
        child_end.close()
        self.procs[parent_end] = proc
        return parent_end

    def _drop(self, conn) -> int | None:
        proc = self.procs.pop(conn)
        conn.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.kill()
            proc.join()
        return proc.exitcode

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, object]]:
        pending = collections.deque(tasks)
        busy = self.busy
        idle = [c for c in self.procs if c not in busy]
        while pending or busy:
            while pending and len(busy) < self.workers:
                conn = idle.pop() if idle else self._start()
                task = pending.popleft()
                conn.send(task)
                busy[conn] = task
            sentinels = {self.procs[c].sentinel: c for c in busy}
            for ready in multiprocessing.connection.wait(list(busy) + list(sentinels)):
                conn = sentinels.get(ready, ready)
                if conn not in busy:
                    continue  # its message and its exit were both ready
                task = busy.pop(conn)
                try:
                    kind, value = conn.recv()
                except (EOFError, OSError):
                    yield task, failed_rows(task, WorkerCrashed(self._drop(conn)))
                    continue
                idle.append(conn)
                yield task, value

    def close(self) -> None:
        """Ask idle workers to stop; kill busy ones (after Ctrl-C, SIGTERM, a failure)."""
        for conn, proc in list(self.procs.items()):
            try:
                if conn in self.busy:
                    proc.kill()
                else:
                    conn.send(None)
            except (OSError, ValueError):
                proc.kill()
        deadline = time.monotonic() + 5
        for conn, proc in list(self.procs.items()):
            proc.join(timeout=max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join()
            conn.close()
        self.procs.clear()
        self.busy.clear()


@contextmanager
def open_executor(executor, workers: int | None = None,
                  scheduler: str | None = None) -> Iterator[tuple[object, int, str]]:
    """Yield ``(pool, threads, description)``; pool None means run in this process.

    ``threads`` is the torch/BLAS thread count every task sets: ``CELL_THREADS``, on
    every executor.
    """
    cores = cpu_count()
    if executor == "serial":
        yield None, CELL_THREADS, "serial"
    elif executor == "process":
        workers = workers or cores
        pool = WorkerProcesses(workers)
        try:
            yield pool, CELL_THREADS, f"{_count(workers)}, one process each"
        finally:
            pool.close()
    elif executor == "dask":
        from distributed import Client, LocalCluster

        if scheduler:
            try:
                client = Client(scheduler)
            except (OSError, TimeoutError, ValueError) as exc:
                raise StudyError("--scheduler", f"cannot connect to the Dask scheduler at "
                                 f"{scheduler!r}: {exc}") from None
            try:
                yield client.get_executor(pure=False), CELL_THREADS, f"dask scheduler {scheduler}"
            finally:
                client.close()
        else:
            workers = workers or cores
            with safe_worker_path():  # the nannies restart workers while the pool is open
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
                client = Client(cluster)
                try:
                    yield (client.get_executor(pure=False), CELL_THREADS,
                           f"dask LocalCluster of {_count(workers)} at "
                           f"{cluster.scheduler_address}")
                finally:
                    client.close()
                    cluster.close()
    elif _is_client(executor):
        yield executor.get_executor(pure=False), CELL_THREADS, "dask client"
    else:
        yield executor, CELL_THREADS, type(executor).__name__


def execute(tasks: list[Task], pool) -> Iterator[tuple[Task, object]]:
    """Run tasks; yield ``(task, rows)`` as each finishes, or ``(task, exception)``
    when the task itself could not run (a task could not be sent, a Dask worker died)."""
    if pool is None:
        for task in tasks:
            try:
                rows = run_task(task)
            except Exception as exc:
                yield task, exc
            else:
                yield task, rows
        return
    if isinstance(pool, WorkerProcesses):
        yield from pool.run(tasks)
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
