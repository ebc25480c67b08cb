"""``nprates demo``: the whole product in one command.

Runs the built-in quick study (``examples/quick.toml``, shipped inside the package as
``nprates/examples/quick.toml``) into ``nprates-demo/``, prints the exponent table that
``nprates fit`` prints, writes ``nprates-demo/report.pdf`` and says where it is. Running
it again reuses every finished cell.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import wall_seconds
from .options import add_progress_options, device_name, progress_choice, positive_int

HELP = ("run the built-in quick study, print its convergence exponents and write a PDF "
        "report (a few minutes on a laptop CPU)")


def add_arguments(parser) -> None:
    parser.add_argument("--out", metavar="DIR", default="nprates-demo",
                        help="results directory (default: ./nprates-demo); running the demo "
                             "again reuses the cells finished there")
    parser.add_argument("--device", type=device_name, metavar="auto|cpu|cuda", default=None,
                        help="where to train (default: the study's 'auto': the GPU if there "
                             "is one)")
    parser.add_argument("--workers", type=positive_int, metavar="N", default=None,
                        help="run cells in N worker processes of one torch thread each "
                             "(default: one per CPU core when training on the CPU, one "
                             "process on a GPU)")
    add_progress_options(parser)
    # a stand-in study file, for tests
    parser.add_argument("--study", default=None, help=argparse.SUPPRESS)


def default_workers(device: str) -> int | None:
    """Worker processes for the demo: one single-threaded worker per core on the CPU.

    The demo's networks are small: two torch threads on one of them mostly wait on each
    other (several times slower when another process is busy), while one thread per
    process keeps both cores working. On a GPU one process drives the device.
    """
    import os

    import torch

    on_cpu = device == "cpu" or (device == "auto" and not torch.cuda.is_available())
    return (os.cpu_count() or 1) if on_cpu else None


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        print(text, file=sys.stderr, flush=True)


def run(args) -> int:
    from nprates.analysis import fit_all, format_fit_table
    from nprates.studies import Study, StudyIncomplete, run_study
    from nprates.studies.examples import quick_study_text

    from .report import write_report
    from .tables import cli_spelling

    text, source = quick_study_text(args.study)
    study = Study.from_toml_text(text, source=source)
    out = Path(args.out)
    cells = len(study.targets) * len(study.estimators) * len(study.sizes) * study.replicates
    _say(f"nprates demo: study {study.name!r} from {source}: {len(study.targets)} target(s) x "
         f"{len(study.estimators)} estimators ({', '.join(study.estimators)}) x "
         f"{len(study.sizes)} sizes ({study.sizes[0]}-{study.sizes[-1]}) x "
         f"{study.replicates} replicates = up to {cells} cells, into {out}/", args.quiet)
    workers = args.workers or default_workers(args.device or study.device)
    try:
        results = run_study(study, out, workers=workers, device=args.device,
                            progress=progress_choice(args))
    except StudyIncomplete as exc:
        print(f"nprates demo: {exc}", file=sys.stderr)
        return 1
    _say("fitting exponents ...", args.quiet)
    fits = fit_all(results)
    fits["warnings"] = fits["warnings"].map(cli_spelling)
    print()
    print(format_fit_table(fits))
    print()
    _say("writing the report ...", args.quiet)
    report = write_report(results, out, out / "report.pdf", title=None)
    print(f"Report: {report.path.resolve()} ({len(report.pages)} pages). Open it with any PDF "
          f"viewer.")
    print(f"Results: {out.resolve()} (rerun 'nprates demo' to reuse them; 'nprates fit {out}' "
          f"and 'nprates report {out}' work on them too). Demo took {wall_seconds():.0f} s "
          f"(wall clock of the command, start-up included).")
    return 0
