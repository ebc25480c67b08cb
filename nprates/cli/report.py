"""``nprates report RESULTS_DIR -o report.pdf``: a PDF report of a results directory."""

from __future__ import annotations

from pathlib import Path

from .paths import writable_file

HELP = ("write a PDF report of a results directory: rate curves, exponents against the "
        "theory, comparisons and diagnostics")


def add_arguments(parser) -> None:
    parser.add_argument("results_dir", metavar="RESULTS_DIR",
                        help="a results directory written by 'nprates run'")
    parser.add_argument("-o", "--output", metavar="REPORT.pdf", default=None,
                        help="where to write the PDF (default: RESULTS_DIR/report.pdf)")
    parser.add_argument("--title", default=None,
                        help="title of the report (default: 'Convergence rates: STUDY')")
    parser.add_argument("--method", choices=("loglog", "offset", "polylog"), default="loglog",
                        help="how exponents are fitted (see 'nprates fit --help'; default "
                             "loglog)")
    parser.add_argument("--level", type=float, default=0.95,
                        help="confidence level of the intervals (default 0.95)")
    parser.add_argument("--polylog-k", type=float, default=None, metavar="K",
                        help="power k of the (log n)^k factor for --method polylog")
    parser.add_argument("--margin", type=float, default=0.1,
                        help="exponents within +-margin count as comparable (default 0.1)")
    parser.add_argument("--n-boot", type=int, default=2000, metavar="B",
                        help="bootstrap draws (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--partial", action="store_true",
                        help="report a results directory whose study is not finished (cells "
                             "missing, or a run still holds it); the title page says so")


def write_report(results, results_dir, output, **options):
    """Build the report of ``results`` (the table of ``results_dir``); returns the Report."""
    from nprates.reports import build_report
    from nprates.reports.data import read_study

    return build_report(results, output, study=read_study(results_dir), **options)


def run(args) -> int:
    from .tables import read_results

    if not (0 < args.level < 1):
        raise ValueError(f"--level must be between 0 and 1, got {args.level}")
    output = Path(args.output) if args.output else Path(args.results_dir) / "report.pdf"
    writable_file(output, "--output")
    table = read_results(args, "report")
    report = write_report(table, args.results_dir, output, title=args.title,
                          method=args.method, level=args.level, polylog_k=args.polylog_k,
                          margin=args.margin, n_boot=args.n_boot, seed=args.seed)
    print(f"report written to {report.path} ({len(report.pages)} pages: "
          f"{', '.join(_sections(report.pages))})")
    return 0


def _sections(titles) -> list:
    """Page titles without their '(k of m)' parts, each once."""
    out = []
    for t in titles:
        base = t.split(" (")[0].split(":")[0]
        if base.startswith("Convergence rates"):
            base = "title"
        base = base.lower()
        if base not in out:
            out.append(base)
    return out
