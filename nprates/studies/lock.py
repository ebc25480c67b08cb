"""One run per study directory: a lock file ``DIR/.lock`` owned by the running process.

The file holds ``{"pid": ..., "host": ..., "started": ...}`` (JSON). It is created
atomically (``O_CREAT | O_EXCL``), so of two runs started together exactly one gets it;
the other is refused with a StudyError naming the file and its owner. A lock whose
owner is gone (its pid no longer runs on this host) is stale: the next run takes it over
and says so. The lock is removed when the run ends, however it ends (an exception,
Ctrl-C, SIGTERM handled as Ctrl-C); only a SIGKILL leaves it behind, and then it is
stale.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Callable

from nprates.analysis.untrusted import loads_json, printable, read_text
from nprates.studies.errors import StudyError

LOCK_FILE = ".lock"
_MAX_LOCK_BYTES = 4096


#: Largest process id any system gives (Linux: at most 2**22); a lock or temporary file
#: naming another number was not written by nprates.
MAX_PID = 2**31 - 1


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (False for a number that is no
    process id: not in 1..MAX_PID)."""
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= MAX_PID:
        return False
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read_owner(path: Path) -> dict:
    """The lock file's owner record; {} for one that is not nprates' (too large, not a
    regular file, not JSON, a pid that is no process id). Never blocks."""
    try:
        owner = loads_json(read_text(path, limit=_MAX_LOCK_BYTES))
    except (OSError, ValueError):
        return {}
    if not isinstance(owner, dict):
        return {}
    pid = owner.get("pid")
    if isinstance(pid, bool) or not isinstance(pid, int) or not 0 < pid <= MAX_PID:
        owner.pop("pid", None)
    return {k: printable(v, 100) if isinstance(v, str) else v for k, v in owner.items()
            if k in ("pid", "host", "started")}


class RunLock:
    """Context manager holding ``DIR/.lock`` for the duration of a run.

    ``note`` receives the one-line message printed when a stale lock is taken over.
    Entering raises StudyError (field ``--out``) when another live run holds the
    directory, or when the lock cannot be written (the directory is not writable).
    """

    def __init__(self, directory, note: Callable[[str], None] = print):
        self.directory = Path(directory)
        self.path = self.directory / LOCK_FILE
        self.note = note
        self.owner = {"pid": os.getpid(), "host": socket.gethostname(),
                      "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self.held = False

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.owner, fh)
        return True

    def acquire(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for _ in range(3):
                if self._create():
                    self.held = True
                    return
                owner = _read_owner(self.path)
                pid, host = owner.get("pid"), owner.get("host")
                here = host == self.owner["host"]
                if not (here and isinstance(pid, int) and not pid_alive(pid)):
                    who = f"pid {pid} on host {host}" if pid else "an unknown owner"
                    raise StudyError("--out", f"{self.directory} is in use by another run "
                                     f"({who}, since {owner.get('started', '?')}; lock file "
                                     f"{self.path}); wait for it to finish, or delete the lock "
                                     f"file if that run is gone")
                self.note(f"note: taking over the stale lock {self.path} (pid {pid} on "
                          f"{host} is no longer running)")
                self.path.unlink(missing_ok=True)
        except OSError as exc:
            raise StudyError("--out", f"cannot create the lock file {self.path}: "
                             f"{exc.strerror or exc}") from None
        raise StudyError("--out", f"cannot take the lock file {self.path}: other runs keep "
                         f"creating it")

    def release(self) -> None:
        if self.held and _read_owner(self.path).get("pid") == os.getpid():
            self.path.unlink(missing_ok=True)
        self.held = False

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
