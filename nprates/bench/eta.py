"""How right the progress bar's ETA was: a finished study directory, replayed.

Each cell file is written by the parent process the moment its task finishes, so the
files' modification times are the run's history. ``replay`` feeds the cells, in the
order they finished, to the same ``Progress`` (and cost model) a run shows, and at given
fractions of the run's wall time compares the ETA it would have shown with the time the
run actually still took. The run starts when ``study.toml`` was written (just before
the first task is sent); it must have run in one go (no resumed cells).

    python -m nprates.bench.eta results/quick 2      # the run used 2 workers
"""

from __future__ import annotations

import sys
from pathlib import Path

from nprates.analysis.results_dir import CELLS_DIR, STUDY_FILE, read_cells
from nprates.studies.progress import Progress


def _tasks(directory: Path) -> list[tuple[float, list[dict]]]:
    """The run's tasks in the order they finished: ``(seconds from the start, rows)``.
    The rows of one task (replicates trained together) are written one after the
    other: consecutive cells of the same (target, draw, estimator, n) within a second."""
    rows, _ = read_cells(directory / CELLS_DIR)
    if not rows:
        raise ValueError(f"{directory}: no finished cells to replay")
    start = (directory / STUDY_FILE).stat().st_mtime
    stamped = sorted(((directory / CELLS_DIR / name).stat().st_mtime - start, row)
                     for name, row in rows.items())
    tasks: list[tuple[float, list[dict]]] = []
    key = None
    for stamp, row in stamped:
        this = (row["target"], row.get("draw", 0), row["estimator"], row["n"])
        if tasks and this == key and stamp - tasks[-1][0] < 1.0:
            tasks[-1][1].append(row)
        else:
            tasks.append((stamp, [row]))
        key = this
    return tasks


def replay(results_dir, workers: int | None, fractions=(0.25, 0.5, 0.75)) -> list[dict]:
    """``[{"fraction", "elapsed", "eta", "remaining", "error"}]``, one per fraction of the
    run's wall time: the ETA shown then, the seconds the run really still took, and the
    relative error ``eta / remaining - 1`` (negative: too optimistic). ``workers``: the
    run's worker count (None: as for a remote scheduler)."""
    tasks = _tasks(Path(results_dir))
    end = tasks[-1][0]
    pending = [(row["estimator"], int(row["n"])) for _, rows in tasks for row in rows]
    out = []
    for fraction in fractions:
        now = fraction * end
        clock = [0.0]
        bar = Progress("replay", len(pending), pending=pending, enabled=False,
                       workers=workers, clock=lambda: clock[0])
        bar.start_tasks(len(tasks))
        for stamp, rows in tasks:
            if stamp > now:
                break
            clock[0] = stamp
            bar.advance(len(rows), rows=rows)
        clock[0] = now
        eta, remaining = bar.eta(), end - now
        out.append({"fraction": fraction, "elapsed": now, "eta": eta, "remaining": remaining,
                    "error": eta / remaining - 1.0})
    return out


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: python -m nprates.bench.eta RESULTS_DIR [WORKERS]", file=sys.stderr)
        return 2
    workers = int(args[1]) if len(args) == 2 else None
    print(f"{'at':>5} {'elapsed s':>10} {'ETA s':>8} {'true s':>8} {'error':>7}")
    for r in replay(args[0], workers):
        print(f"{r['fraction']:>5.0%} {r['elapsed']:>10.0f} {r['eta']:>8.0f} "
              f"{r['remaining']:>8.0f} {r['error']:>+7.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
