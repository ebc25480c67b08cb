"""What ``nprates fit`` and ``nprates compare`` share: reading a results directory (refusing
an incomplete one unless ``--partial``), selecting rows, and writing a table in the
format asked for (``--format text|json|csv|latex|markdown``).

CSV and LaTeX are pandas' own (``DataFrame.to_csv`` / ``to_latex``); markdown is a pipe
table (GitHub-flavoured), written here so that it needs no extra package.
"""

from __future__ import annotations

import math
import re
import sys

FORMATS = ("text", "json", "csv", "latex", "markdown")

#: Python keyword spellings in analysis messages and the CLI option that does the same.
_CLI_SPELLING = {r"\bkeep_plateau=True\b": "--keep-plateau",
                 r"\bpolylog_k=": "--polylog-k ", r"\bn_boot=": "--n-boot ",
                 r"\bcommon_range=False\b": "--separate-ranges"}


def add_output_options(parser, filters: bool = True) -> None:
    """--format and --partial; with ``filters``, --estimator and --target (repeatable)."""
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="how to print the table (default text; csv, latex and markdown "
                             "print one row per line of the text table, json the full "
                             "records)")
    parser.add_argument("--partial", action="store_true",
                        help="go on with a results directory whose study is not finished "
                             "(cells missing, or a run still holds it); the output says so")
    if filters:
        parser.add_argument("--estimator", action="append", default=None, metavar="NAME",
                            help="only this estimator (repeatable)")
        parser.add_argument("--target", action="append", default=None, metavar="NAME",
                            help="only this target (repeatable)")


def read_results(args, command: str):
    """The results table of ``args.results_dir`` with its run record in ``attrs``.

    An incomplete directory (``nprates.studies.completeness``) is refused with a
    ValueError (exit 2) unless ``args.partial``; with it, one warning line goes to stderr
    and ``attrs["incomplete"]`` keeps the line for a report's title page.
    """
    from nprates.analysis import read_results_dir
    from nprates.studies.completeness import run_record

    table = read_results_dir(args.results_dir)
    table.attrs.update(run_record(args.results_dir, table))
    message = table.attrs.get("incomplete", "")
    if message and not getattr(args, "partial", False):
        raise ValueError(f"{args.results_dir}: {message}; wait for the run to finish, resume "
                         f"it with 'nprates run', or pass --partial to {command} these cells "
                         f"anyway")
    if message:
        print(f"nprates {command}: warning: partial results: {message}", file=sys.stderr)
    return table


def select(table, estimators=None, targets=None):
    """Rows of the named estimators and targets (None: all); ValueError for a name the
    table does not hold."""
    for column, names, option in (("estimator", estimators, "--estimator"),
                                  ("target", targets, "--target")):
        if not names:
            continue
        held = list(dict.fromkeys(table[column].astype(str)))
        unknown = [n for n in names if n not in held]
        if unknown:
            raise ValueError(f"{option} {unknown[0]!r}: not in the results; they hold "
                             f"{', '.join(held)}")
        table = table[table[column].astype(str).isin(names)]
    return table


def cli_spelling(text: str) -> str:
    """``text`` with Python keyword hints in their CLI spelling (``--keep-plateau``)."""
    for pattern, option in _CLI_SPELLING.items():
        text = re.sub(pattern, option, text)
    return text


def _cell(value) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return " ".join(_cell(v) for v in value)
    return str(value)


def markdown(frame) -> str:
    """A GitHub-flavoured pipe table of ``frame`` (no index; ``|`` in cells escaped)."""
    cols = [str(c) for c in frame.columns]
    rows = [[_cell(v).replace("|", r"\|") for v in row] for row in frame.itertuples(index=False)]
    numeric = [frame[c].dtype.kind in "if" for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |",
             "|" + "|".join("---:" if n else ":---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def render(frame, fmt: str) -> str:
    """``frame`` as csv, latex or markdown (lists in cells joined by spaces)."""
    flat = frame.copy()
    for c in flat.columns:
        if flat[c].map(lambda v: isinstance(v, (list, tuple))).any():
            flat[c] = flat[c].map(_cell)
    if fmt == "csv":
        return flat.to_csv(index=False).rstrip("\n")
    if fmt == "latex":
        return flat.to_latex(index=False, float_format="%.4g", na_rep="",
                             escape=True).rstrip("\n")
    if fmt == "markdown":
        return markdown(flat)
    raise ValueError(f"--format {fmt!r}: not a table format ({', '.join(FORMATS[2:])})")
