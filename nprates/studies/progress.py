"""Progress of a study run on stderr: cells done / total, failures, elapsed time, an ETA
from a cost model, and the latest epoch of the cells in training.

On a terminal a tqdm bar is redrawn in place (once a second, so the elapsed time and
the heartbeats of long cells move); elsewhere (logs, pipes) nothing is shown unless
asked, and then a plain line every ``log_interval`` seconds.

The ETA does not assume that cells cost the same: small sizes run first and the
largest cost most. ``CostModel`` predicts a cell's fit time as ``s_e * n ** p_e`` for
estimator ``e``, fitted to the fit times of the cells finished so far (per estimator, on
a log-log scale), with the slope shrunk towards the prior ``p = 1`` (cost grows like n)
with the weight of the study's own spread of sizes (``size_spread``): the first sizes
span a small part of the range the ETA extrapolates over. The time left is the predicted fit time of the cells left,
scaled by the worker time the tasks done took per second of their fit time (start-up,
data and scoring are no fit time), less the time the workers have already spent on the
tasks they run now, divided by the number of workers. Where that number is unknown (a
remote Dask scheduler) it is the elapsed time scaled by the predicted cost of the cells
left over that of the cells done in this run.

Cheap estimators finish their first cells long before the costly ones, so an estimator
is never priced from the others' fit times: until a cell of it has finished, its cost is
bounded below by its running tasks (a task running for t seconds costs at least t, and
its larger sizes at least that scaled like n), and an estimator neither measured nor
started yet is not counted. While any estimator's cost rests on such a bound the ETA is
provisional and shown as ``ETA ~M:SS``; it is shown from the first second of the run
(``ETA ?`` only before any task has started). On the published study's recorded fit
times (``nprates.bench.eta.simulate``, 2 workers) the ETA is known from the first second
and within 33% of the time left from 30 s after the first costly task on; on a demo run
whose fit times grew only like n^0.5 the prior n^1 made it overestimate the time left by
up to 2.6x at its first costly task, 2x at a fifth of the run and 1.2x at three quarters.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import Counter, defaultdict
from contextlib import contextmanager

from tqdm import tqdm

from nprates.studies.heartbeat import latest


def _clock(seconds: float) -> str:
    seconds = int(round(max(seconds, 0.0)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def size_spread(sizes) -> float:
    """Sum of squares of the distinct log sizes around their mean (0.5 for one size).

    As ``CostModel.prior_weight``: a slope measured on the first few sizes (a small part
    of the study's span of n, where fit times are noisiest) moves the prior little until
    the sizes measured spread as much as the study's."""
    logs = [math.log(n) for n in set(int(n) for n in sizes) if n > 0]
    if len(logs) < 2:
        return 0.5
    mean = sum(logs) / len(logs)
    return sum((x - mean) ** 2 for x in logs)


class CostModel:
    """Predicted cost of one cell, ``s_e * n ** p_e``, learnt from measured fit times.

    ``prior_exponent`` is the slope assumed before sizes differ (cost ∝ n);
    ``prior_weight`` its weight against the measured slope, in units of the spread of
    log n over the sizes measured (two sizes a factor 2 apart weigh 0.24).
    """

    def __init__(self, prior_exponent: float = 1.0, prior_weight: float = 0.5):
        self.prior_exponent = prior_exponent
        self.prior_weight = prior_weight
        self._logs: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        self._fits: dict[str, tuple[float, float]] | None = None

    def observe(self, estimator: str, n: int, seconds: float) -> None:
        """Record one finished cell's fit time (ignored unless positive and finite)."""
        if math.isfinite(seconds) and seconds > 0:
            self._logs[estimator][int(n)].append(math.log(seconds))
            self._fits = None

    def _fit(self) -> dict[str, tuple[float, float]]:
        fits = {}
        for estimator, by_n in self._logs.items():
            x = [math.log(n) for n in by_n]
            y = [sum(v) / len(v) for v in by_n.values()]
            mx, my = sum(x) / len(x), sum(y) / len(y)
            sxx = sum((a - mx) ** 2 for a in x)
            sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
            slope = (self.prior_weight * self.prior_exponent + sxy) / (self.prior_weight + sxx)
            slope = min(max(slope, 0.0), 2.0)
            fits[estimator] = (my - slope * mx, slope)
        return fits

    def measured(self, estimator: str) -> bool:
        """Whether a cell of ``estimator`` has been measured."""
        return estimator in self._logs

    def cost(self, estimator: str, n: int) -> float:
        """Predicted seconds of one cell (NaN before any cell has been measured); an
        estimator not measured yet gets the largest prediction of the others at ``n``
        (cheap estimators finish first: their cost would make a costly one look cheap)."""
        if self._fits is None:
            self._fits = self._fit()
        if not self._fits:
            return math.nan
        fits = [self._fits[estimator]] if estimator in self._fits else self._fits.values()
        return max(math.exp(intercept + slope * math.log(n)) for intercept, slope in fits)


class Progress:
    """Progress of a study run.

    Parameters
    ----------
    name : the study's name.
    total : cells of the study; ``resumed`` of them finished before (``failed`` of those
        not ok).
    pending : ``(estimator, n)`` of every cell this run computes (for the ETA).
    enabled : True, False, or None: show progress when ``stream`` is a terminal.
    stream : where to write (default stderr).
    log_interval : seconds between two plain lines when ``stream`` is no terminal.
    workers : number of tasks running at once (None: unknown); settable later.
    clock : the time in seconds (default ``time.monotonic``; replays pass their own).
    """

    def __init__(self, name: str, total: int, resumed: int = 0, failed: int = 0,
                 pending=(), enabled: bool | None = None, stream=None,
                 log_interval: float = 15.0, model: CostModel | None = None,
                 workers: int | None = None, clock=time.monotonic):
        self.name = name
        self.total = total
        self.resumed = resumed
        self.done = resumed
        self.failed = failed
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = self.tty if enabled is None else bool(enabled)
        self.log_interval = log_interval
        self.model = model or CostModel(prior_weight=size_spread(n for _, n in pending))
        self.workers = workers
        self.left = Counter(pending)
        self.finished: Counter = Counter()
        self.beat = ""
        self.clock = clock
        self.start = clock()
        self._running: list[tuple] = []   # (start time, estimator, n, cells) of running tasks
        self._queue: list[tuple] = []     # (estimator, n, cells) of the tasks not started yet
        self._fit_done = 0.0              # fit seconds of the cells done in this run
        self._last = -float("inf")
        self._lock = threading.RLock()
        self._bar = None
        if self.enabled and self.tty:
            self._bar = tqdm(total=total, initial=resumed, file=self.stream, leave=False,
                             dynamic_ncols=True, mininterval=0.0,
                             bar_format="{desc}: {n_fmt}/{total_fmt} cells |{bar:12}|{postfix}")
            self._bar.set_description_str(name, refresh=False)

    # -- what is shown -----------------------------------------------------------------------

    def start_tasks(self, tasks) -> None:
        """Tasks are sent to the workers now, in this order (``workers`` of them start):
        a count, or each task's ``(estimator, n, cells)`` (what lets a running task bound
        the cost of an estimator not measured yet)."""
        now = self.clock()
        kinds = [(None, 0, 1)] * tasks if isinstance(tasks, int) else [tuple(t) for t in tasks]
        running = min(len(kinds), self.workers or len(kinds))
        self._running = [(now, *kind) for kind in kinds[:running]]
        self._queue = kinds[running:]

    def _bounds(self, now: float) -> dict:
        """{estimator: (n, fit seconds per cell at least)} from the running tasks of the
        estimators not measured yet (their longest-running task)."""
        out = {}
        for started, estimator, n, cells in self._running:
            if estimator is None or self.model.measured(estimator) or now <= started:
                continue
            bound = (now - started) / max(int(cells), 1)
            if estimator not in out or self._scaled(out[estimator], n) < bound:
                out[estimator] = (n, bound)
        return out

    def _scaled(self, bound: tuple, n: int) -> float:
        """A bound ``(n0, seconds)`` carried to size ``n`` (cost growing like the prior)."""
        n0, seconds = bound
        return seconds * (n / n0) ** self.model.prior_exponent

    def _cost(self, estimator, n, bounds) -> tuple[float, bool]:
        """(predicted fit seconds of a cell, whether that is provisional)."""
        if self.model.measured(estimator):
            return self.model.cost(estimator, n), False
        if estimator in bounds:
            return self._scaled(bounds[estimator], n), True
        # neither measured nor started: no guess from the others (cheap and costly
        # estimators differ a hundredfold); it counts once it runs, the ETA is provisional
        return 0.0, True

    def estimate(self) -> tuple[float, bool]:
        """(predicted seconds left, whether the prediction is provisional); NaN before any
        task has started or been measured."""
        if self.done >= self.total:
            return 0.0, False
        now = self.clock()
        bounds = self._bounds(now)
        if not self.finished and not bounds:
            return math.nan, True
        costs = {key: self._cost(*key, bounds) for key in self.left if self.left[key] > 0}
        left = sum(self.left[key] * c for key, (c, _) in costs.items())
        provisional = any(p for _, p in costs.values())
        if self.workers:
            eta = self._eta_workers(left, now)
        else:
            done = sum(k * self.model.cost(e, n) for (e, n), k in self.finished.items())
            eta = (now - self.start) * left / done if done > 0 and math.isfinite(left) \
                else math.nan
        return eta, provisional or math.isnan(eta)

    def eta(self) -> float:
        """Predicted seconds left (NaN before any task has started or been measured)."""
        return self.estimate()[0]

    def _eta_workers(self, left: float, now: float) -> float:
        """Seconds left on ``workers`` workers for ``left`` predicted fit seconds."""
        if not math.isfinite(left):
            return math.nan
        spent = sum(now - started for started, *_ in self._running)
        # worker time per second of fit time: what fit times leave out (start-up,
        # data, scoring), measured on the tasks done
        busy = self.workers * (now - self.start) - spent
        overhead = max(busy / self._fit_done, 1.0) if self._fit_done > 0 else 1.0
        return max(left * overhead - spent, 0.0) / self.workers

    def status(self) -> str:
        """Failures, elapsed time, ETA (``~`` while provisional) and the latest heartbeat."""
        eta, provisional = self.estimate()
        shown = "?" if math.isnan(eta) else ("~" if provisional else "") + _clock(eta)
        text = (f"{self.failed} failed, {_clock(self.clock() - self.start)} elapsed, "
                f"ETA {shown}")
        return f"{text} | {self.beat}" if self.beat else text

    def line(self) -> str:
        resumed = f" ({self.resumed} resumed)" if self.resumed else ""
        return f"{self.name}: {self.done}/{self.total} cells{resumed}, {self.status()}"

    def show(self, force: bool = False) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self._bar is not None:
                self._bar.n = self.done
                self._bar.set_postfix_str(self.status(), refresh=False)
                self._bar.refresh()
                return
            now = self.clock()
            if force or now - self._last >= self.log_interval:
                self._last = now
                self.stream.write(self.line() + "\n")
                self.stream.flush()

    # -- events ------------------------------------------------------------------------------

    def advance(self, cells: int, failed: int = 0, rows=()) -> None:
        """A task finished: ``cells`` more cells, ``failed`` of them not ok; ``rows`` are
        their results rows (their estimator, n and fit_seconds teach the cost model)."""
        with self._lock:
            self.done += cells
            self.failed += failed
            first = rows[0] if rows else {}
            self._task_done(sum(float(row.get("fit_seconds", math.nan)) for row in rows),
                            (first.get("estimator"), int(first.get("n", 0))))
            for row in rows:
                key = (row["estimator"], int(row["n"]))
                self.finished[key] += 1
                if self.left[key] > 0:
                    self.left[key] -= 1
                seconds = float(row.get("fit_seconds", math.nan))
                self.model.observe(key[0], key[1], seconds)
                self._fit_done += seconds if math.isfinite(seconds) else 0.0
        self.show(force=self.done == self.total)

    def _task_done(self, seconds: float, kind=(None, 0)) -> None:
        """Free the worker of the task that ran ``seconds`` (a running task of the same
        ``(estimator, n)`` where known, the one that started closest to then) and start
        the next queued task on it."""
        if not self._running:
            return
        now = self.clock()
        began = now - (seconds if math.isfinite(seconds) else 0.0)
        same = [t for t in self._running if (t[1], t[2]) == tuple(kind)] or self._running
        self._running.remove(min(same, key=lambda t: abs(t[0] - began)))
        if self._queue:
            self._running.append((now, *self._queue.pop(0)))

    def note(self, text: str) -> None:
        """Print a message on its own line (above the bar on a terminal)."""
        if not self.enabled:
            return
        with self._lock:
            if self._bar is not None:
                self._bar.write(text, file=self.stream)
            else:
                self.stream.write(text + "\n")
                self.stream.flush()

    @contextmanager
    def ticking(self, heartbeats: str | None = None, every: float = 1.0):
        """Redraw every ``every`` seconds while the block runs, with the newest heartbeat
        from ``heartbeats`` (a directory, ``nprates.studies.heartbeat``)."""
        if not self.enabled:
            yield
            return
        stop = threading.Event()
        since = time.time()

        def tick():
            while not stop.wait(every):
                beats = latest(heartbeats, since)
                self.beat = beats[0] if beats else ""
                self.show()

        thread = threading.Thread(target=tick, name="nprates-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.beat = ""

    def finish(self, where: str) -> None:
        if not self.enabled:
            return
        elapsed = _clock(self.clock() - self.start)
        failed = f", {self.failed} failed" if self.failed else ""
        resumed = f" ({self.resumed} resumed)" if self.resumed else ""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
            self.stream.write(f"{self.name}: {self.done}/{self.total} cells done{resumed}{failed} "
                              f"in {elapsed} -> {where}\n")
            self.stream.flush()
