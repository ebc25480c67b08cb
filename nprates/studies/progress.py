"""Progress of a study run on stderr: cells done / total, failures, elapsed time, an ETA
from a cost model, and the latest epoch of the cells in training.

On a terminal a tqdm bar is redrawn in place (once a second, so the elapsed time and
the heartbeats of long cells move); elsewhere (logs, pipes) nothing is shown unless
asked, and then a plain line every ``log_interval`` seconds.

The ETA does not assume that cells cost the same: small sizes run first and the
largest cost most. ``CostModel`` predicts a cell's fit time as ``s_e * n ** p_e`` for
estimator ``e``, fitted to the fit times of the cells finished so far (per estimator, on
a log-log scale), with the slope shrunk towards the prior ``p = 1`` (cost grows like n)
where few sizes have finished. The time left is the predicted fit time of the cells left,
scaled by the worker time the tasks done took per second of their fit time (start-up,
data and scoring are no fit time), less the time the workers have already spent on the
tasks they run now, divided by the number of workers. Where that number is unknown (a
remote Dask scheduler) it is the elapsed time scaled by the predicted cost of the cells
left over that of the cells done in this run.
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

    def cost(self, estimator: str, n: int) -> float:
        """Predicted seconds of one cell (NaN before any cell has been measured); an
        estimator not measured yet gets the mean scale of the others."""
        if self._fits is None:
            self._fits = self._fit()
        if not self._fits:
            return math.nan
        if estimator in self._fits:
            intercept, slope = self._fits[estimator]
        else:
            intercept = sum(a for a, _ in self._fits.values()) / len(self._fits)
            slope = self.prior_exponent
        return math.exp(intercept + slope * math.log(n))


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
        self.model = model or CostModel()
        self.workers = workers
        self.left = Counter(pending)
        self.finished: Counter = Counter()
        self.beat = ""
        self.clock = clock
        self.start = clock()
        self._running: list[float] = []  # start times of the tasks running now
        self._queued = 0                  # tasks not started yet
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

    def start_tasks(self, tasks: int) -> None:
        """``tasks`` tasks are sent to the workers now (``workers`` of them start)."""
        now = self.clock()
        running = min(tasks, self.workers or tasks)
        self._running = [now] * running
        self._queued = tasks - running

    def eta(self) -> float:
        """Predicted seconds left (NaN before a cell of this run has finished)."""
        if self.done >= self.total:
            return 0.0
        if not self.finished:
            return math.nan
        left = sum(k * self.model.cost(e, n) for (e, n), k in self.left.items())
        now = self.clock()
        if self.workers:
            spent = sum(now - started for started in self._running)
            # worker time per second of fit time: what fit times leave out (start-up,
            # data, scoring), measured on the tasks done
            busy = self.workers * (now - self.start) - spent
            overhead = max(busy / self._fit_done, 1.0) if self._fit_done > 0 else 1.0
            return max(left * overhead - spent, 0.0) / self.workers
        done = sum(k * self.model.cost(e, n) for (e, n), k in self.finished.items())
        if not (done > 0 and math.isfinite(left)):
            return math.nan
        return (now - self.start) * left / done

    def status(self) -> str:
        """Failures, elapsed time, ETA and the latest heartbeat."""
        eta = self.eta()
        text = (f"{self.failed} failed, {_clock(self.clock() - self.start)} elapsed, "
                f"ETA {'?' if math.isnan(eta) else _clock(eta)}")
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
            self._task_done(sum(float(row.get("fit_seconds", math.nan)) for row in rows))
            for row in rows:
                key = (row["estimator"], int(row["n"]))
                self.finished[key] += 1
                if self.left[key] > 0:
                    self.left[key] -= 1
                seconds = float(row.get("fit_seconds", math.nan))
                self.model.observe(key[0], key[1], seconds)
                self._fit_done += seconds if math.isfinite(seconds) else 0.0
        self.show(force=self.done == self.total)

    def _task_done(self, seconds: float) -> None:
        """Free the worker of the task that ran ``seconds`` (the running task that started
        closest to then) and start the next queued task on it."""
        if not self._running:
            return
        now = self.clock()
        began = now - (seconds if math.isfinite(seconds) else 0.0)
        self._running.remove(min(self._running, key=lambda started: abs(started - began)))
        if self._queued:
            self._queued -= 1
            self._running.append(now)

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
