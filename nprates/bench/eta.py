"""How right the progress bar's ETA was: a finished study directory, replayed.

Each cell file is written by the parent process the moment its task finishes, so the
files' modification times are the run's history. ``replay`` feeds the cells, in the
order they finished, to the same ``Progress`` (and cost model) a run shows, and at given
fractions of the run's wall time compares the ETA it would have shown with the time the
run actually still took. The run starts when ``study.toml`` was written (just before
the first task is sent); it must have run in one go (no resumed cells).

    python -m nprates.bench.eta results/quick 2      # the run used 2 workers

``simulate`` needs no run history, only the recorded ``fit_seconds``: it replays the run a
study's tasks would make on ``workers`` workers (the runner's task order, each task as
long as its cells' fit times) and compares the ETA shown at every finished task with the
time the simulated run still takes. It measures the cost model, not the overheads.

    python -m nprates.bench.eta results/published 2 --simulate
"""

from __future__ import annotations

import math
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


def simulated_tasks(results_dir, workers: int) -> tuple[list, list]:
    """The tasks of the study in ``results_dir`` run on ``workers`` workers in the runner's
    order, each lasting the sum of its cells' recorded fit times: ``(kinds, finished)``,
    ``kinds`` the tasks' ``(estimator, n, cells)`` in the order they are sent and
    ``finished`` their ``(finish second, kind, rows)`` in the order they finish."""
    import heapq

    from nprates.studies.runner import plan_tasks
    from nprates.studies.spec import Study

    directory = Path(results_dir)
    study = Study.from_toml(directory / STUDY_FILE, check=False)
    checked = study.check(check_device=False)
    rows, _ = read_cells(directory / CELLS_DIR)
    by_key = {row["cell_key"]: row for row in rows.values()}
    free = [(0.0, w) for w in range(workers)]
    kinds, out = [], []
    for task in plan_tasks(checked, checked.cells, None):
        cells = [by_key.get(study.cell_key(task.target, task.estimator, task.n, r))
                 for r in task.replicates]
        if any(c is None for c in cells):
            raise ValueError(f"{directory}: cell {task.label} is missing; simulate a "
                             f"finished study")
        seconds = sum(max(float(c.get("fit_seconds") or 0.0), 0.0) for c in cells)
        start, worker = heapq.heappop(free)
        heapq.heappush(free, (start + seconds, worker))
        kinds.append((task.estimator, task.n, len(cells)))
        out.append((start + seconds, kinds[-1], cells))
    return kinds, sorted(out, key=lambda t: t[0])


def simulate(results_dir, workers: int = 2, horizon: float = 0.9) -> dict:
    """The ETA against the simulated truth (``simulated_tasks``).

    Returns {"end": run seconds, "first_costly": when the first task of a costly
    estimator (mean cell fit time above the mean of all cells) finished, "errors":
    [(second, eta / remaining - 1)] at every finished task from then until ``horizon``
    of the run, "max_error": the largest |error| among them, "unknown_until": the last
    second (of the first minute, checked every second) the ETA was unknown}."""
    kinds, tasks = simulated_tasks(results_dir, workers)
    per_cell: dict = {}
    for _, (estimator, _, _), rows in tasks:
        per_cell.setdefault(estimator, []).extend(float(r.get("fit_seconds") or 0.0)
                                                  for r in rows)
    mean_all = sum(sum(v) for v in per_cell.values()) / sum(len(v) for v in per_cell.values())
    costly = {e for e, v in per_cell.items() if sum(v) / len(v) > mean_all}
    end = tasks[-1][0]
    clock = [0.0]
    pending = [(r["estimator"], int(r["n"])) for _, _, rows in tasks for r in rows]
    bar = Progress("simulated", len(pending), pending=pending, enabled=False,
                   workers=workers, clock=lambda: clock[0])
    bar.start_tasks(kinds)
    first_costly = next(t for t, (e, _, _), _ in tasks if e in costly)
    errors, unknown_until = [], -1.0
    checks = iter(range(1, 61))  # the first minute, every second
    check = next(checks, None)
    for stamp, _, rows in tasks:
        while check is not None and check < stamp:
            clock[0] = float(check)
            if math.isnan(bar.eta()):
                unknown_until = float(check)
            check = next(checks, None)
        clock[0] = stamp
        bar.advance(len(rows), rows=rows)
        if first_costly <= stamp <= horizon * end:
            errors.append((stamp, bar.eta() / (end - stamp) - 1.0))
    return {"end": end, "first_costly": first_costly, "costly": sorted(costly),
            "errors": errors, "max_error": max((abs(e) for _, e in errors), default=0.0),
            "unknown_until": unknown_until}


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if "--simulate" in args:
        args = [a for a in args if a != "--simulate"]
        result = simulate(args[0], int(args[1]) if len(args) > 1 else 2)
        print(f"simulated run {result['end']:.0f} s; costly estimators "
              f"{', '.join(result['costly'])}; first costly task done at "
              f"{result['first_costly']:.0f} s; ETA unknown until "
              f"{max(result['unknown_until'], 0):.0f} s")
        for stamp, error in result["errors"][:: max(1, len(result["errors"]) // 12)]:
            print(f"  at {stamp:>7.0f} s ({stamp / result['end']:>4.0%}): ETA error {error:+.0%}")
        print(f"largest |error| from the first costly task to 90% of the run: "
              f"{result['max_error']:.0%}")
        return 0
    if len(args) not in (1, 2):
        print("usage: python -m nprates.bench.eta RESULTS_DIR [WORKERS] [--simulate]",
              file=sys.stderr)
        return 2
    workers = int(args[1]) if len(args) == 2 else None
    print(f"{'at':>5} {'elapsed s':>10} {'ETA s':>8} {'true s':>8} {'error':>7}")
    for r in replay(args[0], workers):
        print(f"{r['fraction']:>5.0%} {r['elapsed']:>10.0f} {r['eta']:>8.0f} "
              f"{r['remaining']:>8.0f} {r['error']:>+7.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
