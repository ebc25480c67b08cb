"""How right the progress bar's ETA was: a finished study directory, replayed.

Each cell file is written by the parent process the moment its task finishes, so the
files' modification times are the run's history. ``replay`` feeds the tasks, in the
order they finished, to the same ``Progress`` (and cost model) a run shows, told the
tasks in the order the runner sent them (``plan_tasks``, where the study file can be
planned here), and at given fractions of the run's wall time (and given seconds)
compares the ETA it would have shown with the time the run actually still took. The run
starts when ``study.toml`` was written (just before the first task is sent); it must
have run in one go (no resumed cells). The command prints the error at 60 s and at 5,
10, 25, 50 and 75% of the run:

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


def _planned(directory: Path):
    """The study's tasks in the runner's order (``plan_tasks``) as ``(kind, cell files)``,
    ``kind`` = ``(estimator, n, cells)``; None where the study file cannot be planned here."""
    from nprates.studies.check import check_study
    from nprates.studies.errors import StudyError
    from nprates.studies.runner import plan_tasks
    from nprates.studies.spec import Study
    from nprates.studies.store import cell_filename

    try:
        checked = check_study(Study.from_toml(directory / STUDY_FILE), check_device=False)
    except (StudyError, OSError, ImportError):
        return None
    return [((task.estimator, task.n, len(task.replicates)),
             [cell_filename(task.target, task.estimator, task.n, r) for r in task.replicates])
            for task in plan_tasks(checked, checked.cells, None)]


def _tasks(directory: Path) -> tuple[list, list[tuple[float, list[dict]]]]:
    """``(kinds, finished)``: the run's tasks as sent (``(estimator, n, cells)`` in the
    runner's order; empty where the study cannot be planned here) and as they finished,
    ``(seconds from the start, rows)``. A task finished when the last of its cell files
    was written. Without the plan, the rows of one task (replicates trained together)
    are the consecutive cells of the same (target, draw, estimator, n) within a second."""
    rows, _ = read_cells(directory / CELLS_DIR)
    if not rows:
        raise ValueError(f"{directory}: no finished cells to replay")
    start = (directory / STUDY_FILE).stat().st_mtime

    def stamp(name):
        return (directory / CELLS_DIR / name).stat().st_mtime - start

    plan = _planned(directory)
    if plan is not None and all(name in rows for _, names in plan for name in names):
        finished = sorted(((max(stamp(name) for name in names), [rows[name] for name in names])
                           for _, names in plan), key=lambda t: t[0])
        return [kind for kind, _ in plan], finished
    stamped = sorted(((stamp(name), row) for name, row in rows.items()), key=lambda t: t[0])
    tasks: list[tuple[float, list[dict]]] = []
    key = None
    for when, row in stamped:
        this = (row["target"], row.get("draw", 0), row["estimator"], row["n"])
        if tasks and this == key and when - tasks[-1][0] < 1.0:
            tasks[-1][1].append(row)
        else:
            tasks.append((when, [row]))
        key = this
    return [], tasks


def etas_at(kinds, tasks, workers, times) -> list[float]:
    """The ETA a run's bar showed at each of ``times`` (ascending seconds): ``kinds`` the
    tasks as sent (or empty: only their count is known), ``tasks`` as they finished."""
    clock = [0.0]
    pending = [(row["estimator"], int(row["n"])) for _, rows in tasks for row in rows]
    bar = Progress("replay", len(pending), pending=pending, enabled=False, workers=workers,
                   clock=lambda: clock[0])
    bar.start_tasks(kinds or len(tasks))
    out, done = [], iter(tasks)
    upcoming = next(done, None)
    for now in times:
        while upcoming is not None and upcoming[0] <= now:
            clock[0] = upcoming[0]
            bar.advance(len(upcoming[1]), rows=upcoming[1])
            upcoming = next(done, None)
        clock[0] = now
        out.append(bar.eta())
    return out


FRACTIONS = (0.05, 0.1, 0.25, 0.5, 0.75)


def replay(results_dir, workers: int | None, fractions=(0.25, 0.5, 0.75),
           seconds=()) -> list[dict]:
    """``[{"fraction", "elapsed", "eta", "remaining", "error"}]``, one per fraction of the
    run's wall time (then one per second in ``seconds``, within the run): the ETA shown
    then, the seconds the run really still took, and the relative error
    ``eta / remaining - 1`` (negative: too optimistic). ``workers``: the run's worker
    count (None: as for a remote scheduler)."""
    kinds, tasks = _tasks(Path(results_dir))
    return _compare(kinds, tasks, workers, fractions, seconds)


def _compare(kinds, tasks, workers, fractions, seconds) -> list[dict]:
    end = tasks[-1][0]
    points = [(f, f * end) for f in fractions] + [(s / end, float(s)) for s in seconds
                                                 if 0 <= s < end]
    order = sorted(range(len(points)), key=lambda i: points[i][1])
    etas = dict(zip(order, etas_at(kinds, tasks, workers, [points[i][1] for i in order])))
    labels = [f"{f:.0%}" for f in fractions] + [f"{s:g} s" for s in seconds if 0 <= s < end]
    return [{"at": label, "fraction": f, "elapsed": now, "eta": etas[i],
             "remaining": end - now, "error": etas[i] / (end - now) - 1.0}
            for i, (label, (f, now)) in enumerate(zip(labels, points))]


def simulated_tasks(results_dir, workers: int) -> tuple[list, list]:
    """The tasks of the study in ``results_dir`` run on ``workers`` workers in the runner's
    order, each lasting the sum of its cells' recorded fit times: ``(kinds, finished)``,
    ``kinds`` the tasks' ``(estimator, n, cells)`` in the order they are sent and
    ``finished`` their ``(finish second, kind, rows)`` in the order they finish."""
    import heapq

    from nprates.studies.check import check_study
    from nprates.studies.runner import plan_tasks
    from nprates.studies.spec import Study

    directory = Path(results_dir)
    study = Study.from_toml(directory / STUDY_FILE)
    checked = check_study(study, check_device=False)
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
    second (of the first minute, checked every second) the ETA was unknown, "points":
    the errors at 5, 10, 25, 50 and 75% of the run and at 60 s, as ``replay`` gives them}."""
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
    points = _compare(kinds, [(t, rows) for t, _, rows in tasks], workers, FRACTIONS, (60,))
    return {"end": end, "first_costly": first_costly, "costly": sorted(costly),
            "errors": errors, "max_error": max((abs(e) for _, e in errors), default=0.0),
            "unknown_until": unknown_until, "points": points}


def _table(points) -> list[str]:
    lines = [f"{'at':>6} {'elapsed s':>10} {'ETA s':>8} {'true s':>8} {'error':>7}"]
    for r in sorted(points, key=lambda r: r["elapsed"]):
        lines.append(f"{r['at']:>6} {r['elapsed']:>10.0f} {r['eta']:>8.0f} "
                     f"{r['remaining']:>8.0f} {r['error']:>+7.0%}")
    return lines


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
        print("\n".join(_table(result["points"])))
        return 0
    if len(args) not in (1, 2):
        print("usage: python -m nprates.bench.eta RESULTS_DIR [WORKERS] [--simulate]",
              file=sys.stderr)
        return 2
    workers = int(args[1]) if len(args) == 2 else None
    print("\n".join(_table(replay(args[0], workers, FRACTIONS, (60,)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
