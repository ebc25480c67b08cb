"""Progress of a study run on stderr: cells done / total, failures, elapsed time, an ETA
from a cost model, and the latest epoch of the cells in training.

On a terminal a tqdm bar is redrawn in place (once a second, so the elapsed time and
the heartbeats of long cells move); elsewhere (logs, pipes) nothing is shown unless
asked, and then a plain line every ``log_interval`` seconds.

The ETA does not assume that cells cost the same: small sizes run first and the
largest cost most. ``CostModel`` predicts a cell's fit time as ``s_e * n ** p_e`` for
estimator ``e``, fitted to the fit times of the cells finished so far (per estimator, on
a log-log scale). Until sizes differ the slope is a prior, ``PRIOR_EXPONENT`` = 0.75
(networks trained to early stopping: each epoch costs about n, and fewer epochs are
needed as n grows), pooled with the slopes the costly estimators have already measured;
the measured slope outweighs it once the sizes measured spread over ``PRIOR_SHARE`` (a
tenth) of the study's spread of log n. Where the workers and the tasks are known (a
local run), the ETA replays the runner's schedule: the running tasks end (each expected
to take its predicted fit time plus the median time a task spends beyond its fit, or
longer once it has outrun that: ``_remaining``), and the queued tasks start in order on
the first worker free; the ETA is when the last one ends, so the tail of one long task
is not spread over idle workers. A remote Dask scheduler (workers unknown) scales the
elapsed time by the predicted cost of the cells left over that of the cells done.

Cheap estimators finish their first cells long before the costly ones, so an estimator
is never priced from the others' fit times: until a cell of it has finished, its cost is
bounded below by its running tasks (a task running for t seconds costs at least t, and
its larger sizes at least that scaled along the slope), and an estimator neither
measured nor started yet is not counted. While any estimator's cost rests on such a
bound the ETA is provisional and shown as ``ETA ~M:SS``; it is shown from the first
second of the run (``ETA ?`` only before any task has started). docs/performance.md
("The progress bar's ETA") has its measured error on recorded runs
(``python -m nprates.bench.eta``).
"""

from __future__ import annotations

import heapq
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

    Times ``PRIOR_SHARE``, the weight of ``CostModel``'s prior slope: a slope measured
    on the first few sizes (a small part of the span of n the ETA extrapolates over,
    where fit times are noisiest) moves the prior little at first."""
    logs = [math.log(n) for n in set(int(n) for n in sizes) if n > 0]
    if len(logs) < 2:
        return 0.5
    mean = sum(logs) / len(logs)
    return sum((x - mean) ** 2 for x in logs)


PRIOR_EXPONENT = 0.75  # cost ~ n ** 0.75 until sizes differ (demo runs: 0.55-0.8; published: 1)
PRIOR_SHARE = 0.1      # the prior's weight: this share of the study's spread of log n


class CostModel:
    """Predicted cost of one cell, ``s_e * n ** p_e``, learnt from measured fit times.

    Per estimator ``e``, a least-squares line of log fit seconds on log n over the sizes
    measured, its slope shrunk towards a prior with weight ``prior_weight`` (in units of
    the spread of log n over the sizes measured: two sizes a factor 2 apart weigh 0.24).
    The prior is ``prior_exponent`` pooled with the slopes the other estimators have
    measured, each weighing by its share of all the fit time seen (cheap estimators, whose
    cost grows differently, count little; all of them together less than one estimator:
    they ran on the same sizes and machine): an estimator measured at one size grows with
    n like the costly ones measured at more.
    """

    def __init__(self, prior_exponent: float = PRIOR_EXPONENT, prior_weight: float = 0.5):
        self.prior_exponent = prior_exponent
        self.prior_weight = prior_weight
        self._logs: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
        self._seconds: Counter = Counter()
        self._fits: dict[str, tuple[float, float]] | None = None

    def observe(self, estimator: str, n: int, seconds: float) -> None:
        """Record one finished cell's fit time (ignored unless positive and finite)."""
        if math.isfinite(seconds) and seconds > 0:
            self._logs[estimator][int(n)].append(math.log(seconds))
            self._seconds[estimator] += seconds
            self._fits = None

    def _moments(self) -> dict[str, tuple[float, float, float, float]]:
        """{estimator: (mean log n, mean log seconds, sxx, sxy)} over its sizes' means."""
        out = {}
        for estimator, by_n in self._logs.items():
            x = [math.log(n) for n in by_n]
            y = [sum(v) / len(v) for v in by_n.values()]
            mx, my = sum(x) / len(x), sum(y) / len(y)
            out[estimator] = (mx, my, sum((a - mx) ** 2 for a in x),
                              sum((a - mx) * (b - my) for a, b in zip(x, y)))
        return out

    def _fit(self) -> dict[str, tuple[float, float]]:
        moments = self._moments()
        fits = {}
        for estimator, (mx, my, sxx, sxy) in moments.items():
            # the prior slope: the prior exponent pooled with the others' measurements,
            # each weighed by its share of all the fit time seen, so that cheap ones count
            # little and all of them together less than one estimator (they ran on the
            # same sizes and machine: their errors go together)
            w0, p0 = self.prior_weight, self.prior_exponent
            total = sum(self._seconds[e] for e in moments)
            wx, wy = w0, w0 * p0
            for other, (_, _, oxx, oxy) in moments.items():
                if other != estimator and total > 0:
                    share = self._seconds[other] / total
                    wx, wy = wx + share * oxx, wy + share * oxy
            prior = wy / wx
            slope = (self.prior_weight * prior + sxy) / (self.prior_weight + sxx)
            slope = min(max(slope, 0.0), 2.0)
            fits[estimator] = (my - slope * mx, slope)
        return fits

    def measured(self, estimator: str) -> bool:
        """Whether a cell of ``estimator`` has been measured."""
        return estimator in self._logs

    def slope(self, estimator: str | None = None) -> float:
        """The growth exponent of ``estimator`` (of the costliest measured one where it is
        not measured; the prior exponent before any)."""
        if self._fits is None:
            self._fits = self._fit()
        if estimator in self._fits:
            return self._fits[estimator][1]
        if not self._fits:
            return self.prior_exponent
        return self._fits[max(self._fits, key=lambda e: self._seconds[e])][1]

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


def _remaining(expected: float, elapsed: float, spread: float) -> float:
    """Expected seconds left of a task expected to take ``expected`` seconds in all (the
    mean of a log-normal time with log sd ``spread``) that has run ``elapsed`` seconds:
    ``E[T - t | T > t]``, the time left once it has outrun its prediction (about
    ``spread**2 * t / log(t / expected)`` then) rather than none."""
    if expected <= 0:
        return 0.0
    if elapsed <= 0:
        return expected
    mu = math.log(expected) - spread ** 2 / 2
    z = (math.log(elapsed) - mu) / spread

    def upper(x):  # P(Z > x)
        return 0.5 * math.erfc(x / math.sqrt(2))

    survive = upper(z)
    if survive < 1e-12:  # far past any plausible end: the asymptote
        return elapsed * spread ** 2 / max(math.log(elapsed) - mu, spread ** 2)
    return expected * upper(z - spread) / survive - elapsed


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
        self.model = model or CostModel(
            prior_weight=PRIOR_SHARE * size_spread(n for _, n in pending))
        self.workers = workers
        self.left = Counter(pending)
        self.finished: Counter = Counter()
        self.beat = ""
        self.clock = clock
        self.start = clock()
        self._running: list[tuple] = []   # (start time, estimator, n, cells) of running tasks
        self._queue: list[tuple] = []     # (estimator, n, cells) of the tasks not started yet
        self._fit_done = 0.0              # fit seconds of the cells done in this run
        self._overheads: list[tuple] = []  # (start, seconds beyond the fit) of tasks done
        self.spread = 0.4                 # sd of log fit time around the prediction
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
            if estimator not in out or self._scaled(out[estimator], estimator, n) < bound:
                out[estimator] = (n, bound)
        return out

    def _scaled(self, bound: tuple, estimator, n: int) -> float:
        """A bound ``(n0, seconds)`` carried to size ``n`` along the estimator's slope."""
        n0, seconds = bound
        return seconds * (n / n0) ** self.model.slope(estimator)

    def _cost(self, estimator, n, bounds) -> tuple[float, bool]:
        """(predicted fit seconds of a cell, whether that is provisional)."""
        if self.model.measured(estimator):
            return self.model.cost(estimator, n), False
        if estimator in bounds:
            return self._scaled(bounds[estimator], estimator, n), True
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
        provisional = any(p for _, p in costs.values())
        if self.workers and self._kinds_known():
            eta = self._eta_schedule(now, bounds)
        elif self.workers:
            left = sum(self.left[key] * c for key, (c, _) in costs.items())
            eta = self._eta_workers(left, now)
        else:
            left = sum(self.left[key] * c for key, (c, _) in costs.items())
            done = sum(k * self.model.cost(e, n) for (e, n), k in self.finished.items())
            eta = (now - self.start) * left / done if done > 0 and math.isfinite(left) \
                else math.nan
        return eta, provisional or math.isnan(eta)

    def eta(self) -> float:
        """Predicted seconds left (NaN before any task has started or been measured)."""
        return self.estimate()[0]

    def _kinds_known(self) -> bool:
        return all(t[1] is not None for t in self._running) and \
            all(t[0] is not None for t in self._queue)

    def _overhead(self) -> float:
        """Worker seconds a task takes beyond its fit time (data, scoring, sending): the
        median over the tasks done that a worker did not start with (a worker's first
        task also carries its start-up, paid once)."""
        later = [x for started, x in self._overheads if started > self.start]
        sample = sorted(later or [x for _, x in self._overheads])
        return max(sample[len(sample) // 2], 0.0) if sample else 0.0

    def _eta_schedule(self, now: float, bounds) -> float:
        """Seconds until the last task ends: the running tasks finish (each expected to
        take its predicted time, or more once it has run longer: ``_remaining``) and the
        queued ones start in order on the first worker free, as the runner sends them."""
        overhead = self._overhead()
        free = []
        for started, estimator, n, cells in self._running:
            cost = cells * self._cost(estimator, n, bounds)[0]
            free.append(_remaining(cost + overhead, now - started, self.spread))
        free += [0.0] * max(self.workers - len(free), 0)
        heapq.heapify(free)
        for estimator, n, cells in self._queue:
            cost = cells * self._cost(estimator, n, bounds)[0] + overhead
            heapq.heappush(free, heapq.heappop(free) + cost)
        return max(free)

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
        ``(estimator, n)`` where known, the last to start at least ``seconds`` ago), note
        its time beyond the fit, and start the next queued task on it."""
        if not self._running:
            return
        now = self.clock()
        seconds = seconds if math.isfinite(seconds) else 0.0
        same = [t for t in self._running if (t[1], t[2]) == tuple(kind)] or self._running
        # it started at least its fit time ago: the latest such start, else the earliest
        could = [t for t in same if t[0] <= now - seconds]
        task = max(could, key=lambda t: t[0]) if could else min(same, key=lambda t: t[0])
        self._running.remove(task)
        self._overheads.append((task[0], now - task[0] - seconds))
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
