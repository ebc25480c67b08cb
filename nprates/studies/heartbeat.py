"""Heartbeats from inside long cells: the latest epoch of each running task.

The torch training loop logs one DEBUG record per epoch on the logger
``nprates.estimators.training`` (epoch, training and validation loss). While a task
runs, ``beating(directory, label)`` catches those records in the worker and writes the
latest one, at most every ``INTERVAL`` seconds, to a small file of its own in
``directory`` (one file per worker process and thread, replaced atomically); the parent
reads them with ``latest``. Files work the same for serial runs, process pools and a
Dask LocalCluster; a worker on another machine (no such directory there) stays silent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

LOGGER = "nprates.estimators.training"
INTERVAL = 2.0  # seconds between two heartbeats of one task


class _FileBeat(logging.Handler):
    """Writes ``"LABEL: MESSAGE"`` of the latest record to ``path``, throttled."""

    def __init__(self, path: Path, label: str, interval: float):
        super().__init__(logging.DEBUG)
        self.path, self.label, self.interval = path, label, interval
        self._last = -float("inf")

    def emit(self, record: logging.LogRecord) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            tmp.write_text(f"{self.label}: {record.getMessage()}", encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # a heartbeat is never worth failing a cell


@contextmanager
def beating(directory: str | None, label: str, interval: float = INTERVAL):
    """Relay the training loop's epoch records of the enclosed code to ``directory``."""
    if directory is None or not os.path.isdir(directory):
        yield
        return
    path = Path(directory) / f"{os.getpid()}-{threading.get_ident()}.txt"
    logger = logging.getLogger(LOGGER)
    handler = _FileBeat(path, label, interval)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        path.unlink(missing_ok=True)


def latest(directory: str | None, since: float = 0.0) -> list[str]:
    """The heartbeats in ``directory`` written after ``since`` (a ``time.time()``), newest
    first."""
    if directory is None:
        return []
    beats = []
    for path in Path(directory).glob("*.txt"):
        try:
            stamp = path.stat().st_mtime
            if stamp >= since:
                beats.append((stamp, path.read_text(encoding="utf-8")))
        except OSError:
            continue  # the task finished meanwhile
    return [text for _, text in sorted(beats, reverse=True)]
