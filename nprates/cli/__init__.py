"""The ``nprates`` command line: one module per subcommand.

Each subcommand module defines ``add_arguments(parser)`` and ``run(args) -> int``
and a one-line ``HELP``. Bad input raises ValueError (or FileNotFoundError) and
leaves with exit status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import warnings

_IMPORTED = time.monotonic()

COMMANDS = {
    "theory": "nprates.cli.theory",
    "fit": "nprates.cli.fit",
    "compare": "nprates.cli.compare",
    "run": "nprates.cli.run",
    "plan": "nprates.cli.plan",
    "report": "nprates.cli.report",
    "demo": "nprates.cli.demo",
    "bench": "nprates.cli.bench",
}


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line and exit status 2."""

    def error(self, message):
        self.exit(2, f"nprates: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="nprates", description="Measure empirical convergence rates of "
                     "sequence estimators against the theoretical rate n^(-2a/(2a+1)).")
    parser.add_argument("--version", action="version", version=f"nprates {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, module_path in COMMANDS.items():
        module = importlib.import_module(module_path)
        cmd = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(cmd)
        cmd.set_defaults(_run=module.run)
    return parser


def _version() -> str:
    from importlib import metadata

    from nprates import __version__

    try:
        return metadata.version("nprates")
    except metadata.PackageNotFoundError:
        return __version__


def wall_seconds() -> float:
    """Seconds since nprates' command line was imported: the command's own time, never
    what ran before it in the same shell line or process (a ``pip install``)."""
    return time.monotonic() - _IMPORTED


#: Longest error or warning message printed (characters); a file from someone else can
#: make one arbitrarily long.
MAX_MESSAGE = 2000


def one_line(text) -> str:
    """``text`` as one printable line: whitespace runs as one space, control characters
    escaped (``\x1b``), at most ``MAX_MESSAGE`` characters."""
    from nprates.analysis.untrusted import printable

    return printable(" ".join(str(text).split()), MAX_MESSAGE)


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """Warnings as one line, ``nprates: warning: MESSAGE`` (no source line)."""
    return f"nprates: warning: {one_line(message)}\n"


def main(argv=None) -> int:
    warnings.formatwarning = _one_line_warning
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args) or 0)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        from .tables import cli_spelling

        print(f"nprates {args.command}: error: {cli_spelling(one_line(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nprates {args.command}: interrupted; finished work is kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
