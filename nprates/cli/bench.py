"""``nprates bench``: cost of replicate batching, SSM vs attention, targets and a study."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nprates.cli.options import device_name

HELP = ("measure batched vs sequential training, SSM vs attention scaling in L, the "
        "selective scan, target throughput, published cells' cost and the quick study end to end")


def add_arguments(parser) -> None:
    parser.add_argument("--device", type=device_name, default="auto", metavar="auto|cpu|cuda",
                        help="where to measure (default: auto, the GPU if there is one)")
    parser.add_argument("--quick", action="store_true",
                        help="shorter runs of each section; skips the end-to-end study and "
                             "the published cells unless "
                             "named with --only")
    parser.add_argument("--only", nargs="+", metavar="SECTION",
                        help="sections to run: replicates layers scan targets cells study mixers "
                             "importance (default: all; cells refits published cells, minutes)")
    parser.add_argument("--threads", type=int, metavar="N", default=None,
                        help="torch threads for the in-process sections (default: torch's, "
                             "one per core)")
    parser.add_argument("--results", type=Path, metavar="DIR", default=Path("results/published"),
                        help="the published results directory the cells section refits "
                             "(default: results/published)")
    parser.add_argument("--json", type=Path, metavar="PATH",
                        help="also write the figures and the machine description as JSON")


def run(args) -> int:
    from nprates.estimators.device import resolve_device
    from nprates.bench import SECTIONS, format_report, run_all

    device = resolve_device(args.device)
    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    if args.json is not None and not args.json.parent.is_dir():
        raise ValueError(f"--json: directory {args.json.parent} does not exist")
    sections = args.only or [s for s in SECTIONS
                             if not (args.quick and s in ("study", "cells"))]
    if "cells" in sections and not (args.results / "study.toml").is_file():
        raise ValueError(f"--results: {args.results} holds no study.toml (the cells section "
                         f"refits the published cells; run from the repository root)")
    report = run_all(device, quick=args.quick, sections=sections, results=args.results,
                     progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"figures written to {args.json}")
    return 0
