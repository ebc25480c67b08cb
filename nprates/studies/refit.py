"""Add the selection-recovery columns to finished cells by refitting them reproducibly.

Recovery needs the fitted network, which a cell file does not keep. This tool refits the
cells of one (target slot, estimator, n) from their keys and the study recorded in the
results directory (the same data, seeds, replicate batching and thread count as the
run), then checks that each refit is the stored fit before writing anything: same
status, learning rate and epochs, and a risk equal to the stored one within ``rtol``
(float32 training reproduces a fit up to rounding in the last digits, not bit for bit,
across machines). A cell whose refit differs is refused and left as it was; every other
cell file is rewritten with its stored row unchanged plus ONLY the recovery columns
(``nprates.studies.recovery``). Cells that already have them are skipped.

    python -m nprates.studies.refit results/published selection ssm 32 69 ...

prints one line per group and exits 1 if any cell was refused.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from nprates.analysis.results_dir import read_cell
from nprates.studies.build import batches_replicates, build_target, make_estimator
from nprates.studies.cells import Task, run_task
from nprates.studies.seeds import draw_slot
from nprates.studies.store import ResultsStore, cell_filename, write_cell

RECOVERY_COLUMNS = ("recovery_top1", "recovery_topk", "recovery_mass", "recovery_top1_chance",
                    "recovery_topk_chance", "recovery_mass_chance", "importance_method")
RTOL = 1e-6


class RefitMismatch(RuntimeError):
    """A refit cell differs from its stored row: the stored cell is not reproduced."""


def _matches(stored: dict, refit: dict, rtol: float) -> str:
    """"" when the refit reproduces the stored row, else what differs."""
    for col in ("status", "lr", "epochs"):
        a, b = stored.get(col), refit.get(col)
        if a != b and not (a != a and b != b):          # NaN equals NaN here
            return f"{col}: stored {stored.get(col)!r}, refit {refit.get(col)!r}"
    if not math.isclose(stored["risk"], refit["risk"], rel_tol=rtol, abs_tol=0.0):
        return f"risk: stored {stored['risk']!r}, refit {refit['risk']!r}"
    return ""


def refit_group(out_dir, target: str, estimator: str, n: int, draw: int = 0,
                rtol: float = RTOL) -> list[Path]:
    """Add recovery columns to the cells of (``target`` draw ``draw``, ``estimator``, ``n``)
    in the results directory ``out_dir``; returns the cell files rewritten.

    Raises RefitMismatch when a refit does not reproduce its stored row (after writing the
    cells that were reproduced; the others are left as they were) or a stored cell key is
    not the recorded study's (before fitting anything); ValueError when the group gets no
    recovery columns (not a piecewise target, or not a network).
    """
    store = ResultsStore(out_dir)
    study = store.stored_study()
    slot = draw_slot(target, draw)
    stored = {}
    for r in range(study.replicates):
        path = store.cells_dir / cell_filename(slot, estimator, n, r)
        row, reason = read_cell(path)
        if row is None:
            raise RefitMismatch(f"{path.name}: {reason}")
        if row["cell_key"] != study.cell_key(slot, estimator, n, r):
            raise RefitMismatch(f"{path.name}: its cell key is not the recorded study's")
        if not all(col in row for col in RECOVERY_COLUMNS):
            stored[r] = row
    if not stored:
        return []
    proto = make_estimator(study, estimator, build_target(study, slot), "cpu", n=n)
    reps = tuple(sorted(stored))
    threads = int(next(iter(stored.values()))["threads"])
    batched = batches_replicates(proto) and len(reps) > 1
    tasks = ([Task(study, slot, estimator, n, reps, "cpu", batched=True, threads=threads)]
             if batched else
             [Task(study, slot, estimator, n, (r,), "cpu", threads=threads) for r in reps])
    refits = {row["replicate"]: row for task in tasks for row in run_task(task)}
    missing = [c for c in RECOVERY_COLUMNS if c not in refits[reps[0]]]
    if missing:
        raise ValueError(f"{slot}/{estimator}/n={n} gets no recovery columns (missing "
                         f"{', '.join(missing)}): recovery needs a target with a true "
                         f"selection and a network estimator")
    problems = {r: why for r in reps if (why := _matches(stored[r], refits[r], rtol))}
    written = [write_cell(store.cells_dir,
                          {**stored[r], **{c: refits[r][c] for c in RECOVERY_COLUMNS}})
               for r in reps if r not in problems]
    if problems:
        raise RefitMismatch(f"{slot}/{estimator}/n={n}: {len(written)} cell(s) written, "
                            f"{len(problems)} not reproduced and left as they were ("
                            + "; ".join(f"r={r}: {why}" for r, why in problems.items()) + ")")
    return written

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nprates.studies.refit",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("target")
    parser.add_argument("estimator")
    parser.add_argument("sizes", nargs="+", type=int)
    parser.add_argument("--draws", type=int, nargs="+", default=[0])
    parser.add_argument("--rtol", type=float, default=RTOL)
    args = parser.parse_args(argv)
    status = 0
    for n in args.sizes:
        for draw in args.draws:
            label = f"{draw_slot(args.target, draw)}/{args.estimator}/n={n}"
            try:
                written = refit_group(args.out_dir, args.target, args.estimator, n, draw,
                                      args.rtol)
            except RefitMismatch as exc:
                print(f"refused {label}: {exc}", flush=True)
                status = 1
                continue
            print(f"ok {label}: {len(written)} cell(s) written", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
