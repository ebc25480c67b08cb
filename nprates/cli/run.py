"""``nprates run STUDY.toml``: run a study into a resumable results directory.

Exit status: 0 when every cell has a result (ok, failed or diverged cells included),
1 when some tasks could not run or an OS error (a full disk) stopped the run, 2 for bad
input (the study, an option, an untrusted module, an unwritable or locked --out),
130 after Ctrl-C and 143 after SIGTERM. In every case but 2 finished cells are kept and
a rerun resumes; no case prints a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from . import plan
from .options import (add_progress_options, device_name, module_name, progress_choice,
                      positive_int)
from .paths import writable_dir

HELP = ("run a study: fit every estimator at every sample size and replicate into a "
        "results directory (resumable)")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it unwinds as after Ctrl-C."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", metavar="STUDY.toml", help="the study file (see examples/)")
    parser.add_argument("--out", metavar="DIR", help="results directory (default: "
                        "results/NAME, NAME the study's name); rerunning into it resumes")
    parser.add_argument("--executor", choices=("serial", "process", "dask"),
                        help="where cells run (default: dask with --scheduler, else a "
                        "process pool of one single-threaded worker per core; serial with "
                        "--workers 1 or on one core)")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="process-pool or Dask LocalCluster workers (default: CPU cores)")
    parser.add_argument("--scheduler", metavar="ADDR",
                        help="address of a running Dask scheduler (default: start a "
                        "LocalCluster)")
    parser.add_argument("--device", type=device_name, metavar="auto|cpu|cuda",
                        help="override the study's device")
    parser.add_argument("--force", action="store_true",
                        help="replace a different study already in DIR (cells the two "
                        "studies share are kept, the others deleted)")
    parser.add_argument("--draws", type=positive_int, metavar="K",
                        help="run only the cells of each target's first K draws: a piece "
                        "of a long study holding whole draws (every size and estimator); a "
                        "later run with a larger K, or without --draws, resumes")
    parser.add_argument("--retry-failed", action="store_true",
                        help="recompute cells recorded as failed")
    parser.add_argument("--trust", type=module_name, action="append", default=[],
                        metavar="MODULE", help="let the study name the public classes and "
                        "functions of MODULE (and its public submodules); without it a study "
                        "may name nprates' and scikit-learn's estimator classes and nprates' "
                        "targets only. Repeatable; adds to NPRATES_TRUST. A study file is "
                        "code: trust only modules you know (docs/trust.md)")
    add_progress_options(parser)
    plan.add_round_options(parser)


@contextmanager
def _sigterm_as_interrupt():
    def handler(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave SIGTERM alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run(args) -> int:
    from nprates.studies import Study

    study = Study.from_toml(args.study)
    # the runner imports the estimators (torch): only once the study file is valid, so that
    # a mistake in it is reported in well under a second
    from nprates.studies import StudyIncomplete, run_study

    out = writable_dir(Path(args.out) if args.out else Path("results") / study.name, "--out")
    plan.check_round_options(args)
    if args.until_width is not None:
        return plan.run_rounds(args, study, out)
    try:
        with _sigterm_as_interrupt():
            results = run_study(study, out, executor=args.executor, workers=args.workers,
                                scheduler=args.scheduler, device=args.device,
                                force=args.force, retry_failed=args.retry_failed,
                                progress=progress_choice(args), trust=args.trust,
                                draws=args.draws)
    except StudyIncomplete as exc:
        print(f"nprates run: {exc}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"nprates run: terminated (SIGTERM); finished cells are kept in {out}",
              file=sys.stderr)
        return 143
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"nprates run: error: {exc.strerror or exc}{where}; the run stopped, finished "
              f"cells are kept in {out}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"{len(results)} cells in {out}")
        print(status_counts(results).to_string(index=False))
    return 0


def status_counts(results):
    """Cells per (target, estimator) and status."""
    import pandas as pd

    from nprates.analysis.schema import STATUSES

    table = pd.crosstab([results["target"], results["estimator"]], results["status"])
    return table.reindex(columns=list(STATUSES), fill_value=0).reset_index().rename_axis(
        columns=None)
