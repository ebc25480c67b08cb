"""``nprates plan STUDY.toml --width W``: sizes and replicates for an exponent interval of
half-width W at least compute (``nprates.analysis.planning.plan_study``), and the rounds of
``nprates run STUDY.toml --until-width W`` (``nprates.studies.adaptive``).

With ``--compare A B --pilot DIR``: target draws, replicates per draw and sizes for a class
comparison of A and B (a TOST at ``--margin`` with ``--power``, or a class half-width
``--width``) at least compute, from the variance components and cost per cell of the
results directory DIR (``nprates.analysis.planning.plan_comparison``); nothing is run.
It plans every target of the study that the pilot holds, leaving out (and naming) those on
which A and B have no common off-plateau range, or the targets named by ``--target``. It
also states the power the pilot's own design had, under the components it measured.

The pilot is the cells of the named estimators already in ``--out``, or, when there are
none, a first pass that ``plan`` runs into ``--out`` (4 sizes over the study's range x 2
replicates; ``run --until-width`` resumes from it).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .options import progress_choice

HELP = ("plan a rate study: sizes and replicates reaching an exponent interval of half-width "
        "W at least compute (or the narrowest within a budget)")


def positive(text: str) -> float:
    """``--width`` / ``--budget``: a positive finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}") from None
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("study", metavar="STUDY.toml", help="the study file (a rate study)")
    parser.add_argument("--width", type=positive, metavar="W",
                        help="half-width of the exponent interval to reach")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"),
                        help="plan draws x replicates x sizes for the class comparison of A "
                        "and B (with --pilot)")
    parser.add_argument("--pilot", metavar="DIR", help="with --compare: the results directory "
                        "whose variance components and cost the plan uses")
    parser.add_argument("--target", action="append", metavar="NAME",
                        help="with --compare: plan this target (repeatable; default: every "
                        "target of the study the pilot can compare)")
    parser.add_argument("--margin", type=positive, default=0.1,
                        help="with --compare: TOST margin (default 0.1)")
    parser.add_argument("--power", type=float, default=0.8,
                        help="with --compare: power of the TOST when the exponents are equal "
                        "(default 0.8; --width replaces it)")
    parser.add_argument("--budget", type=positive, metavar="HOURS",
                        help="compute budget in hours (sum of the cells' fit_seconds, pilot "
                        "included): the narrowest interval within it when W is out of reach")
    parser.add_argument("--out", metavar="DIR", help="results directory holding the pilot, or "
                        "where the first pass goes (default: results/NAME)")
    parser.add_argument("--estimator", action="append", metavar="NAME",
                        help="plan for this estimator (repeatable; default: all)")
    parser.add_argument("--level", type=float, default=0.95,
                        help="confidence level of the interval (default 0.95)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run(args) -> int:
    from nprates.analysis.planning import plan_study
    from nprates.studies import Study
    from nprates.studies.adaptive import pilot_results

    study = Study.from_toml(args.study)
    if args.compare:
        return run_comparison(args, study)
    if args.target:
        raise ValueError("--target goes with --compare A B")
    if args.width is None:
        raise ValueError("--width W is required (or --compare A B --pilot DIR)")
    out = Path(args.out) if args.out else Path("results") / study.name
    pilot = pilot_results(study, out, estimators=args.estimator, progress=False if args.quiet else None)
    budget = None if args.budget is None else 3600.0 * args.budget
    plan = plan_study(pilot, args.width, budget, sizes=list(study.sizes),
                      estimators=args.estimator, level=args.level)
    print(f"pilot: {len(pilot)} cells in {out}")
    print(plan.summary())
    return 0


def run_comparison(args, study) -> int:
    """``nprates plan STUDY.toml --compare A B --pilot DIR``."""
    from nprates.analysis import read_results_dir
    from nprates.analysis.planning import plan_comparison
    from nprates.studies.range_check import range_warnings

    from .tables import cli_spelling

    if not args.pilot:
        raise ValueError("--compare needs --pilot DIR (the results directory to plan from)")
    if not 0 < args.power < 1:
        raise ValueError(f"--power must be between 0 and 1, got {args.power}")
    a, b = args.compare
    pilot = read_results_dir(args.pilot)
    held = set(study.targets) & set(pilot["target"].astype(str))
    if not held:
        raise ValueError(f"--pilot {args.pilot} holds none of the study's targets "
                         f"{sorted(study.targets)}")
    for name in args.target or []:
        if name not in held:
            raise ValueError(f"--target {name!r} is not a target of both the study and the "
                             f"pilot; they share: {', '.join(sorted(held))}")
    targets = sorted(set(args.target) if args.target else held)
    others = [e for e in study.estimators if e not in (a, b)]
    plan = plan_comparison(pilot, a, b, margin=args.margin,
                           power=None if args.width else args.power, width=args.width,
                           sizes=list(study.sizes), targets=targets, estimators=others,
                           level=args.level, skip_uncomparable=not args.target,
                           budget_seconds=None if args.budget is None else 3600 * args.budget)
    print(f"pilot: {len(pilot)} cells in {args.pilot}; targets "
          f"{', '.join(plan.components['target'])}")
    print(cli_spelling(plan.summary()))
    for line in range_warnings(study):
        print(f"range: {line}")
    return 0


def add_round_options(parser: argparse.ArgumentParser) -> None:
    """``nprates run``'s options for running in rounds."""
    parser.add_argument("--until-width", type=positive, metavar="W",
                        help="run in rounds, re-planning after each, until every exponent "
                        "interval's half-width is at most W (see 'nprates plan')")
    parser.add_argument("--budget", type=positive, metavar="HOURS",
                        help="with --until-width: stop when this much compute (sum of "
                        "fit_seconds) is spent")
    parser.add_argument("--estimator", action="append", metavar="NAME",
                        help="with --until-width: run and judge only this estimator "
                        "(repeatable)")


def run_rounds(args, study, out) -> int:
    """``nprates run --until-width W [--budget HOURS] [--estimator NAME]``."""
    from nprates.studies import StudyIncomplete
    from nprates.studies.adaptive import run_until_width

    def show(row):
        print(f"round {row['round']}: sizes {row['sizes']} x {row['replicates']} replicates, "
              f"{row['new_cells']} new cells, {row['seconds']:.0f} s (total "
              f"{row['total_seconds']:.0f} s); half-width {row['half_width']:.4f} at level "
              f"{row['level']:.4g}", flush=True)

    try:
        result = run_until_width(study, out, args.until_width, args.budget,
                                 estimators=args.estimator, executor=args.executor,
                                 workers=args.workers, scheduler=args.scheduler,
                                 device=args.device, progress=progress_choice(args),
                                 trust=args.trust, on_round=show)
    except StudyIncomplete as exc:
        print(f"nprates run: {exc}", file=sys.stderr)
        return 1
    print(result.summary())
    try:
        same = result.same_compute_design(list(study.sizes))
    except ValueError as exc:  # the measured cost model prices every design above the run
        print(f"no fixed design to compare: {exc}")
    else:
        print(f"a fixed design with the same compute ({len(same['sizes'])} sizes x "
              f"{same['replicates']} replicates, {same['seconds']:.0f} s) is predicted to "
              f"reach half-width {same['half_width']:.4f} at level 0.95 (spread and cost as "
              f"measured)")
    print(f"stopped by: {result.stopped_by}")
    return 0


def check_round_options(args) -> None:
    """``--budget`` and ``--estimator`` of ``nprates run`` go with ``--until-width`` only."""
    if args.until_width is None and (args.budget is not None or args.estimator):
        raise ValueError("--budget and --estimator need --until-width W")
    if args.until_width is not None and (args.force or args.retry_failed):
        raise ValueError("--until-width runs rounds into DIR and neither replaces a study "
                         "(--force) nor retries failed cells (--retry-failed)")
    if args.until_width is not None and getattr(args, "draws", None) is not None:
        raise ValueError("--until-width plans its own rounds; run pieces of draws (--draws) "
                         "without it")
