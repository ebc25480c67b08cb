"""``nprates run STUDY.toml``: run a study into a resumable results directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import plan
from .options import device_name, worker_count

HELP = ("run a study: fit every estimator at every sample size and replicate into a "
        "results directory (resumable)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", metavar="STUDY.toml", help="the study file (see examples/)")
    parser.add_argument("--out", metavar="DIR", help="results directory (default: "
                        "results/NAME, NAME the study's name); rerunning into it resumes")
    parser.add_argument("--executor", choices=("serial", "process", "dask"),
                        help="where cells run (default: dask with --scheduler, process "
                        "with --workers, else serial)")
    parser.add_argument("--workers", type=worker_count, metavar="N",
                        help="process-pool or Dask LocalCluster workers (default: CPU cores)")
    parser.add_argument("--scheduler", metavar="ADDR",
                        help="address of a running Dask scheduler (default: start a "
                        "LocalCluster)")
    parser.add_argument("--device", type=device_name, metavar="auto|cpu|cuda",
                        help="override the study's device")
    parser.add_argument("--force", action="store_true",
                        help="replace a different study already in DIR (cells the two "
                        "studies share are kept, the others deleted)")
    parser.add_argument("--retry-failed", action="store_true",
                        help="recompute cells recorded as failed")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    plan.add_round_options(parser)


def run(args) -> int:
    from nprates.studies import Study, StudyIncomplete, run_study

    study = Study.from_toml(args.study, check=False)
    out = Path(args.out) if args.out else Path("results") / study.name
    plan.check_round_options(args)
    if args.until_width is not None:
        return plan.run_rounds(args, study, out)
    try:
        results = run_study(study, out, executor=args.executor, workers=args.workers,
                            scheduler=args.scheduler, device=args.device, force=args.force,
                            retry_failed=args.retry_failed, progress=not args.quiet)
    except StudyIncomplete as exc:
        print(f"nprates run: {exc}", file=sys.stderr)
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
