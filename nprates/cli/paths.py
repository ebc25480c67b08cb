"""Checking output paths before any work starts, so that an unwritable path is one line
and exit status 2, not a traceback after minutes of work.

``writable_dir(path, option)`` for a directory a command fills (``run --out``),
``writable_file(path, option)`` for a file it writes (``fit --json``, ``report -o``).
Both raise ValueError naming the option and the path, and create nothing: they probe
the deepest folder that exists with a temporary file, so read-only file systems and
permissions (also for root, who passes ``os.access``) are caught.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _deepest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(".")


def _probe(folder: Path, option: str, path: Path) -> None:
    """Create and delete a temporary file in ``folder``; ValueError if that fails."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".nprates-probe-"):
            pass
    except OSError as exc:
        raise ValueError(f"{option} {path}: cannot write in {folder} "
                         f"({exc.strerror or exc})") from None


def writable_dir(path, option: str, create_parents: bool = True) -> Path:
    """``path`` as a Path if a command can create it (with its parents, if
    ``create_parents``) or write in it; else ValueError naming ``option``."""
    path = Path(path)
    existing = _deepest_existing(path)
    if not existing.is_dir():
        what = "is" if existing == path else f"lies under {existing}, which is"
        raise ValueError(f"{option} {path} {what} not a directory")
    if not create_parents and existing not in (path, path.parent):
        raise ValueError(f"{option} {path}: the folder {path.parent} does not exist")
    _probe(existing, option, path)
    return path


def writable_file(path, option: str, create_parents: bool = False) -> Path:
    """``path`` as a Path if a command can write the file there; else ValueError naming
    ``option``. Its folder must exist unless ``create_parents``."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path} is a directory; give a file name")
    if os.path.lexists(path) and not os.access(path, os.W_OK):
        raise ValueError(f"{option} {path}: the file is not writable")
    if not create_parents and not path.parent.is_dir():
        raise ValueError(f"{option} {path}: the folder {path.parent} does not exist")
    writable_dir(path.parent, option)
    return path
