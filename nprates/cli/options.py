"""Options shared by the subcommands: ``--device``, ``--workers``, ``--trust``,
``--progress``/``--quiet``.

Each takes the option's text and returns its value, or raises
``argparse.ArgumentTypeError`` (exit status 2 and one line, through the parser).
"""

from __future__ import annotations

import argparse
import re

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")


def positive_int(text: str) -> int:
    """``--workers N``, ``--draws K``: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {value}")
    return value


def device_name(text: str) -> str:
    """``--device``: ``auto``, ``cpu``, ``cuda`` or ``cuda:K``."""
    if not _DEVICE_RE.match(text):
        raise argparse.ArgumentTypeError(f"must be auto, cpu, cuda or cuda:K, got {text!r}")
    return text


def module_name(text: str) -> str:
    """``--trust MODULE``: a dotted Python module name."""
    from nprates.studies.trust import module_names
    from nprates.studies.errors import StudyError

    try:
        return module_names([text], "--trust")[0]
    except StudyError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
def add_progress_options(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--quiet``: the progress bar on stderr (default: on a terminal)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--progress", action="store_true",
                       help="show progress even when stderr is not a terminal")
    group.add_argument("--quiet", action="store_true", help="no progress output")


def progress_choice(args) -> bool | None:
    """True (``--progress``), False (``--quiet``) or None (when stderr is a terminal)."""
    return True if args.progress else (False if args.quiet else None)
