"""``nprates compare RESULTS_DIR A B``: do two estimators converge at the same rate?

By default the two estimators are compared on the sizes where both are off the plateau,
as the slope of the paired log risk ratio (``--separate-ranges``: each exponent on its
own off-plateau sizes). Every difference is given for the class (draws random; the
verdict's) and given the drawn functions. The verdict carries a reason (e.g. "different (optimisation-limited)") when a curve is
limited by its training budget; sizes at the trivial plateau are left out of each fit
(``--keep-plateau`` keeps them) and named in the warnings. Without ``--target``, a
target on which either estimator has too few fitted sizes is listed as "no comparison"
with the reason, after the comparisons that could be made.
"""

from __future__ import annotations

from .fit import add_fit_options
from .tables import add_output_options, cli_spelling, read_results, render

HELP = "compare the convergence exponents of two estimators (paired bootstrap, equivalence test)"


def add_arguments(parser) -> None:
    parser.add_argument("results_dir", metavar="RESULTS_DIR",
                        help="a results directory written by 'nprates run'")
    parser.add_argument("a", metavar="A", help="first estimator label")
    parser.add_argument("b", metavar="B", help="second estimator label")
    parser.add_argument("--margin", type=float, default=0.1,
                        help="exponents within +-margin count as comparable (default 0.1)")
    parser.add_argument("--target", default=None,
                        help="compare on this target only (default: every target with both)")
    parser.add_argument("--method", choices=("loglog", "offset", "polylog"), default="loglog",
                        help="how each exponent is fitted (see 'nprates fit --help')")
    parser.add_argument("--separate-ranges", action="store_true",
                        help="fit each exponent on its own off-plateau sizes instead of the "
                        "sizes where both are off the plateau")
    add_fit_options(parser)
    add_output_options(parser, filters=False)


def run(args) -> int:
    from nprates.analysis import InsufficientData, compare_rates, is_capability
    from nprates.analysis.ordering import table_order

    from .fit import check_fit_options, emit_json

    check_fit_options(args)
    table = read_results(args, "compare")
    partial = table.attrs.pop("incomplete", "")  # said once, not in every fit's warnings
    if is_capability(table):
        raise ValueError(f"{args.results_dir} holds a capability study: it has accuracies, not "
                         f"rates to compare; 'nprates fit {args.results_dir}' prints them")
    est = table["estimator"].astype(str)
    tgt = table["target"].astype(str)
    for name in (args.a, args.b):
        if name not in set(est):
            raise ValueError(f"unknown estimator {name!r}; the results hold: "
                             f"{', '.join(sorted(set(est)))}")
    if args.target is not None:
        targets = [args.target]
    else:
        both = set(tgt[est == args.a]) & set(tgt[est == args.b])
        targets = [t for t in table_order(table)[0] if t in both]  # the report's order
        if not targets:
            raise ValueError(f"no target has results for both {args.a!r} and {args.b!r}")
    comps, skipped = [], []
    for t in targets:
        try:
            comps.append(compare_rates(table, args.a, args.b, margin=args.margin, target=t,
                                       method=args.method, level=args.level,
                                       n_boot=args.n_boot, seed=args.seed,
                                       polylog_k=args.polylog_k,
                                       keep_plateau=args.keep_plateau,
                                       common_range=not args.separate_ranges))
        except InsufficientData as exc:
            if args.target is not None:
                raise
            skipped.append((t, str(exc)))
    if not comps:
        raise ValueError("no target has enough fitted sizes for both estimators: "
                         + "; ".join(reason for _, reason in skipped))
    records = [c.to_dict() for c in comps] + [{"target": t, "no_comparison": reason}
                                              for t, reason in skipped]
    if args.json == "-" or args.format == "json":
        emit_json(records, "-")
        return 0
    if args.format == "text":
        texts = [f"PARTIAL RESULTS: {partial}"] if partial else []
        texts += [cli_spelling(c.summary().as_text()) for c in comps]
        texts += [f"{t}: no comparison: {cli_spelling(reason)}" for t, reason in skipped]
        print("\n\n".join(texts))
    else:
        print(render(comparison_frame(comps, skipped), args.format))
    if args.json:
        emit_json(records, args.json)
    return 0


#: The columns of ``--format csv|latex|markdown``: one row per target.
FRAME_COLUMNS = ("target", "a", "b", "exponent_a", "exponent_b", "difference", "se", "ci_low",
                 "ci_high", "equivalence_low", "equivalence_high", "p_value", "p_equivalence",
                 "margin", "level", "verdict", "warnings")


def comparison_frame(comps, skipped):
    """One row per target: the comparison's numbers and verdict, or "no comparison"."""
    import pandas as pd

    rows = []
    for c in comps:
        d = c.to_dict()
        d["ci_low"], d["ci_high"] = d["ci"]
        d["equivalence_low"], d["equivalence_high"] = d["equivalence_ci"]
        rows.append({k: d[k] for k in FRAME_COLUMNS})
    rows += [{"target": t, "verdict": "no comparison", "warnings": [cli_spelling(r)]}
             for t, r in skipped]
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    frame["warnings"] = frame["warnings"].map(
        lambda w: cli_spelling("; ".join(w)) if isinstance(w, list) else "")
    return frame
