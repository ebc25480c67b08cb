"""``nprates fit RESULTS_DIR``: convergence exponents per (target, estimator).

Each row's verdict is the theory check's (``nprates.analysis.check_theory``): with a reason
in brackets (e.g. "inconclusive (pre-asymptotic)") when the curve is curved or limited by
optimisation; sizes at the trivial plateau are left out of the fit (``--keep-plateau``
keeps them) and listed under the table. Where cells carry selection recovery (networks on
a piecewise target), its table against n follows, beside the mean risk.

A capability study has no rate to fit: for one, ``nprates fit`` prints its accuracy
table instead (``nprates.analysis.capability``: accuracy and exact match per task setting and
estimator with a ``--level`` t interval over replicates; ``--json`` writes that table).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .paths import writable_file
from .tables import add_output_options, cli_spelling, read_results, render, select

HELP = "fit convergence exponents (with intervals and the theory check) to a results directory"


def add_arguments(parser) -> None:
    parser.add_argument("results_dir", metavar="RESULTS_DIR",
                        help="a results directory written by 'nprates run'")
    parser.add_argument("--method", choices=("loglog", "offset", "polylog"), default="loglog",
                        help="loglog: straight line in log-log (default); offset: risk = E + "
                             "A n^-beta for curves with a floor; polylog: with a (log n)^k "
                             "factor (needs --polylog-k)")
    add_fit_options(parser)
    add_output_options(parser)


def add_fit_options(parser) -> None:
    """The options of the exponent fit that ``fit`` and ``compare`` share."""
    parser.add_argument("--level", type=float, default=0.95,
                        help="confidence level of the intervals (default 0.95)")
    parser.add_argument("--polylog-k", type=float, default=None, metavar="K",
                        help="power k of the (log n)^k factor for --method polylog")
    parser.add_argument("--n-boot", type=int, default=2000, metavar="B",
                        help="bootstrap draws (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--keep-plateau", action="store_true",
                        help="also fit sizes at the trivial plateau (by default they are "
                             "left out and listed)")
    parser.add_argument("--json", metavar="PATH|-", default=None,
                        help="also write the results as JSON to PATH ('-': print JSON only)")


def check_fit_options(args) -> None:
    """ValueError (exit 2) for option combinations the fit cannot use, or a ``--json`` path
    that cannot be written (checked before any work)."""
    if args.json not in (None, "-"):
        writable_file(args.json, "--json")
    if args.method == "polylog" and args.polylog_k is None:
        raise ValueError("--method polylog needs the polylog power: pass --polylog-k K (the "
                         "theory leaves k open, so nprates does not assume one)")


def emit_json(obj, dest) -> None:
    """Write obj as JSON to dest ('-' = stdout)."""
    text = json.dumps(obj, indent=2, allow_nan=False)
    if dest == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(dest).write_text(text + "\n")


def print_recovery(table, level: float) -> None:
    """Selection recovery against n under the fit table, when cells have it (networks on
    piecewise targets; ``nprates.analysis.recovery``)."""
    from nprates.analysis.recovery import format_recovery_table, recovery_by_size

    by_size = recovery_by_size(table, level)
    if len(by_size):
        print("\n" + format_recovery_table(by_size, level))


def run(args) -> int:
    from nprates.analysis import (fit_all, format_capability_table, format_fit_table,
                                  is_capability, jsonable, summarize_capability)
    from nprates.analysis.ordering import sort_like_report

    check_fit_options(args)
    table = select(read_results(args, "fit"), args.estimator, args.target)
    partial = table.attrs.pop("incomplete", "")  # said once, not in every row's warnings
    if is_capability(table):
        summary = summarize_capability(table, level=args.level)
        text = lambda: format_capability_table(summary)  # noqa: E731
        result = summary
    else:
        fits = fit_all(table, method=args.method, level=args.level, n_boot=args.n_boot,
                       seed=args.seed, polylog_k=args.polylog_k, keep_plateau=args.keep_plateau)
        fits = sort_like_report(fits, table)
        fits["warnings"] = fits["warnings"].map(cli_spelling)
        text = lambda: format_fit_table(fits)  # noqa: E731
        result = fits
    if args.json == "-" or args.format == "json":
        emit_json(jsonable(result), "-")
        return 0
    if args.format == "text":
        print((f"PARTIAL RESULTS: {partial}\n\n" if partial else "") + text())
        if not is_capability(table):
            print_recovery(table, args.level)
    else:
        print(render(result, args.format))
    if args.json:
        emit_json(jsonable(result), args.json)
    return 0
