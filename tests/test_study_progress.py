"""Progress output: cells done / total, failures, elapsed time, a cost-model ETA,
heartbeats from inside long cells."""

from __future__ import annotations

import io
import logging
import math
import time

import numpy as np
import pytest

from nprates.studies.heartbeat import LOGGER, beating, latest
from nprates.studies.progress import PRIOR_EXPONENT, CostModel, Progress, _remaining


class Terminal(io.StringIO):
    def isatty(self):
        return True


def rows(estimator, n, seconds, k=1):
    return [{"estimator": estimator, "n": n, "fit_seconds": seconds}] * k


def test_cost_model_learns_each_estimators_growth_with_n():
    model = CostModel()
    assert math.isnan(model.cost("ssm", 64))  # nothing measured yet
    for n in (64, 128, 256, 512):
        model.observe("ssm", n, 0.01 * n ** 1.5)
        model.observe("knn", n, 0.002 * n)
    # the measured slope (1.5), shrunk a little towards the prior 0.75 at four sizes
    assert 1.3 < model.slope("ssm") < 1.5
    assert model.cost("ssm", 2048) == pytest.approx(0.01 * 2048 ** 1.5, rel=0.3)
    assert model.cost("knn", 2048) == pytest.approx(0.002 * 2048, rel=0.2)
    # an estimator not measured yet: the costliest of the others (cheap ones finish first)
    assert model.cost("new", 128) == max(model.cost("ssm", 128), model.cost("knn", 128))


def test_cost_model_assumes_the_prior_growth_from_one_size():
    model = CostModel()
    model.observe("ssm", 64, 3.0)
    model.observe("ssm", 64, 5.0)
    model.observe("ssm", 64, math.nan)  # ignored
    assert PRIOR_EXPONENT == 0.75
    assert model.cost("ssm", 256) == pytest.approx(4 ** 0.75 * math.sqrt(15.0), rel=1e-9)


def test_an_estimator_measured_at_one_size_grows_like_the_costly_ones():
    """The demo's networks grow like n^0.65: a transformer measured at n = 32 only leans
    to the slope the SSM has measured over four sizes rather than keep the prior 0.75;
    a cheap estimator growing like n^2 moves it little (it weighs by its share of the
    fit time, 2.5% here)."""
    alone = CostModel(prior_weight=0.5)
    alone.observe("transformer", 32, 0.4 * 32 ** 0.65)
    assert alone.slope("transformer") == PRIOR_EXPONENT
    model = CostModel(prior_weight=0.5)
    for n in (32, 64, 128, 256):
        model.observe("ssm", n, 0.35 * n ** 0.65)
        model.observe("knn", n, 1e-5 * n ** 2)
    model.observe("transformer", 32, 0.4 * 32 ** 0.65)
    assert 0.65 < model.slope("ssm") < 0.7
    assert 0.65 < model.slope("transformer") < 0.71
    assert model.cost("transformer", 1024) == pytest.approx(0.4 * 1024 ** 0.65, rel=0.2)


def test_eta_weighs_the_cells_left_by_their_predicted_cost():
    out = io.StringIO()
    bar = Progress("s", 7, resumed=1, pending=[("e", 64)] * 3 + [("e", 256)] * 3,
                   enabled=True, stream=out, log_interval=3600,
                   model=CostModel(prior_exponent=1.0))
    assert math.isnan(bar.eta()) and bar.line().endswith("ETA ?")
    bar.start = time.monotonic() - 30.0  # 30 s into the run
    bar.advance(3, failed=1, rows=rows("e", 64, 1.0, 3))
    # one size measured: cost ~ n, so the three n=256 cells cost 4x the three done
    assert bar.eta() == pytest.approx(120.0, rel=0.01)
    assert bar.line().startswith("s: 4/7 cells (1 resumed), 1 failed, 0:30 elapsed, ETA 2:0")
    bar.advance(3, rows=rows("e", 256, 4.0, 3))
    assert bar.eta() == 0.0
    assert out.getvalue().splitlines()[-1].endswith("ETA 0:00")  # the last cell is shown


def test_progress_is_quiet_off_a_terminal_unless_asked():
    quiet = io.StringIO()
    bar = Progress("s", 1, stream=quiet)
    assert not bar.enabled
    bar.show(force=True)
    bar.note("x")
    bar.advance(1, rows=rows("e", 8, 1.0))
    bar.finish("out")
    assert quiet.getvalue() == ""
    assert Progress("s", 1, stream=Terminal()).enabled
    assert not Progress("s", 1, stream=Terminal(), enabled=False).enabled


def test_terminal_progress_is_a_bar_with_notes_above_it():
    out = Terminal()
    bar = Progress("s", 4, resumed=1, failed=1, pending=[("e", 8)] * 3, stream=out)
    bar.advance(1, rows=rows("e", 8, 1.0))
    bar.note("failed: t/e/n=8/r=0: ValueError: bad")
    bar.advance(2, failed=1, rows=rows("e", 8, 1.0, 2))
    bar.finish("out")
    text = out.getvalue()
    assert "s: 2/4 cells |" in text and "1 failed" in text and "elapsed, ETA" in text
    assert "failed: t/e/n=8/r=0: ValueError: bad\n" in text
    assert text.endswith("s: 4/4 cells done (1 resumed), 2 failed in 0:00 -> out\n")


def test_heartbeats_relay_the_training_loops_epochs(tmp_path):
    log = logging.getLogger(LOGGER)
    with beating(str(tmp_path), "g/ssm/n=64/r=0", interval=0.0):
        log.debug("epoch %d: validation loss %.3g", 3, 0.25)
        assert latest(str(tmp_path)) == ["g/ssm/n=64/r=0: epoch 3: validation loss 0.25"]
    assert latest(str(tmp_path)) == []  # the task ended: its heartbeat is gone
    with beating(str(tmp_path / "elsewhere"), "x"):  # no such directory: silent
        log.debug("epoch 1")
    assert latest(None) == []


def test_a_real_fit_beats_with_its_epochs(tmp_path):
    from nprates.estimators import SSMRegressor

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(32, 6, 1)), rng.normal(size=(32, 6))
    with beating(str(tmp_path), "cell", interval=0.0):
        SSMRegressor(width=4, n_layers=1, d_state=2, fnn_width=4, max_epochs=2, min_steps=0,
                     random_state=0).fit(X, y)
        (beat,) = latest(str(tmp_path))
    assert beat.startswith("cell: epoch 2: training loss ") and "validation loss" in beat


def test_eta_with_known_workers_divides_the_predicted_time_left():
    now = [0.0]
    bar = Progress("s", 8, pending=[("e", 64)] * 4 + [("e", 256)] * 4, enabled=False,
                   workers=2, clock=lambda: now[0], model=CostModel(prior_exponent=1.0))
    bar.start_tasks(8)  # one cell per task: two run, six wait
    for t in (1.0, 1.0, 2.0, 2.0):
        now[0] = t
        bar.advance(1, rows=rows("e", 64, 1.0))
    # both workers busy all along on 1 s fits: no overhead; the two n=256 tasks running
    # since t=2 have 4 s each to go at t=2, the two waiting 4 s each: 16 s on 2 workers
    assert bar.eta() == pytest.approx(8.0)
    now[0] = 3.0  # one second later, the running tasks are a second further
    assert bar.eta() == pytest.approx(7.0)
    now[0] = 0.0
    slow = Progress("s", 2, pending=[("e", 64)] * 2, enabled=False, workers=1,
                    clock=lambda: now[0])
    slow.start_tasks(2)
    now[0] = 2.0
    slow.advance(1, rows=rows("e", 64, 1.0))  # 2 s of worker time for a 1 s fit
    assert slow.eta() == pytest.approx(2.0)


def test_eta_replay_of_a_finished_run(tmp_path):
    from nprates.bench.eta import replay
    from nprates.studies import Study, run_study

    study = Study.from_dict(dict(
        name="tiny", noise=0.2, length=4, sizes=[8, 16, 32], replicates=2, test_size=32,
        targets={"sine": {"kind": "callable", "factory": "study_fixtures:make_sine_target"}},
        estimators={"ridge": {"class": "sklearn.linear_model.Ridge"}}))
    run_study(study, tmp_path / "out", executor="serial", progress=False)
    result = replay(tmp_path / "out", workers=1)
    assert [r["fraction"] for r in result] == [0.25, 0.5, 0.75]
    assert all(r["remaining"] >= 0 and r["elapsed"] >= 0 for r in result)


def test_eta_is_shown_from_the_first_second_and_follows_the_recorded_costs():
    """The published study's recorded fit times, run again in the runner's order on two
    workers (``nprates.bench.eta.simulate``): the ETA is known from the first second
    (a running task bounds its estimator's cost), and from 5% of the run on (15 minutes
    of 5 hours, four sizes measured) it stays within 30% of the simulated time left.
    Before that its fit times grow like n^1 where the prior says n^0.75: -65% at 60 s."""
    from pathlib import Path

    from nprates.bench.eta import simulate

    result = simulate(Path(__file__).resolve().parents[1] / "results" / "published", 2)
    assert result["unknown_until"] < 0
    settled = [abs(e) for t, e in result["errors"] if t >= 0.05 * result["end"]]
    assert len(settled) > 100 and max(settled) < 0.3
    assert all(abs(r["error"]) < 0.3 for r in result["points"] if r["at"] != "60 s")


def test_a_costly_estimator_still_running_is_not_priced_like_the_cheap_ones():
    now = [0.0]
    bar = Progress("s", 4, pending=[("knn", 64), ("ssm", 64), ("knn", 256), ("ssm", 256)],
                   enabled=False, workers=2, clock=lambda: now[0])
    bar.start_tasks([("knn", 64, 1), ("ssm", 64, 1), ("knn", 256, 1), ("ssm", 256, 1)])
    now[0] = 1.0
    # known from the first second, provisional: both running tasks cost at least 1 s,
    # their n = 256 tasks at least 4 ** 0.75 times that, one on each worker
    assert bar.status().endswith("ETA ~0:03")
    bar.advance(1, rows=rows("knn", 64, 1.0))
    now[0] = 30.0  # the ssm cell has run 30 s: it costs at least that, and more at n=256
    eta, provisional = bar.estimate()
    assert provisional and eta >= 30.0 * 4 ** PRIOR_EXPONENT


def synthetic_run(workers=2, start_up=5.0, overhead=0.3):
    """A demo-like run on ``workers`` workers, in the runner's order (by size, then
    estimator): cheap oracle and k-NN cells finish first, the networks' 3 replicates
    train together at ``0.35 n^0.65`` seconds a cell (the demo's growth, not the prior's);
    each task takes ``overhead`` beyond its fit, a worker's first also ``start_up``.
    Returns ``(kinds, finished)`` as ``nprates.bench.eta.etas_at`` takes them."""
    import heapq

    cost = {"ssm": lambda n: 0.35 * n ** 0.65, "oracle": lambda n: 1e-4 * n,
            "transformer": lambda n: 0.4 * n ** 0.65, "knn": lambda n: 2e-4 * n}
    kinds = [kind for n in (32, 64, 128, 256, 512, 1024) for e in cost
             for kind in ([(e, n, 3)] if e in ("ssm", "transformer") else [(e, n, 1)] * 3)]
    free = [(0.0, w, True) for w in range(workers)]
    finished = []
    for e, n, cells in kinds:
        start, worker, first = heapq.heappop(free)
        end = start + cells * cost[e](n) + overhead + (start_up if first else 0.0)
        heapq.heappush(free, (end, worker, False))
        finished.append((end, rows(e, n, cost[e](n), cells)))
    return kinds, sorted(finished, key=lambda t: t[0])


def test_eta_of_a_run_whose_first_cells_are_cheap_is_right_from_the_first_costly_task():
    """Issue 30: the cheap cells finish first; the bar showed 25 minutes to 2 hours for a
    demo of about 5 (4.6x the time left at the first finished network task here, 4x at
    a tenth of the run). Now within a factor 1.5 at that first update, and within 35%
    from a tenth to three quarters of the run."""
    from nprates.bench.eta import etas_at

    kinds, finished = synthetic_run()
    end = finished[-1][0]
    first = next(t for t, r in finished if r[0]["estimator"] in ("ssm", "transformer"))
    times = [first] + [float(t) for t in range(int(0.1 * end), int(0.75 * end))]
    ratios = [eta / (end - t) for t, eta in zip(times, etas_at(kinds, finished, 2, times))]
    assert 1 / 1.5 < ratios[0] < 1.5
    assert max(abs(r - 1) for r in ratios[1:]) < 0.35


def test_the_last_long_task_is_not_shared_between_the_workers():
    """With the tasks known, the ETA replays the runner's schedule: the last task,
    running on one of two workers, has its own time left to go (the old estimate spread
    it over both workers: half that), a worker's start-up is not charged to every task,
    and a task that has outrun its prediction still has some time left."""
    now = [0.0]
    bar = Progress("s", 4, pending=[("e", 64)] * 3 + [("e", 256)], enabled=False,
                   workers=2, clock=lambda: now[0], model=CostModel(prior_exponent=1.0))
    bar.start_tasks([("e", 64, 1)] * 3 + [("e", 256, 1)])
    for t, fit in ((7.0, 2.0), (8.0, 2.5), (9.5, 2.0)):  # 5 s of start-up on both workers
        now[0] = t
        bar.advance(1, rows=rows("e", 64, fit))
    # the third task started at 7 s and took 0.5 s beyond its fit; the workers' first
    # tasks are left out
    assert bar._overhead() == pytest.approx(0.5)
    expected = bar.model.cost("e", 256) + 0.5  # the n = 256 task, started at 8 s
    assert expected == pytest.approx(4 * (2.0 * 2.5 * 2.0) ** (1 / 3) + 0.5)
    now[0] = 12.0  # 4 s into its 9.1 s: the other worker is idle, it has 5 s to go alone
    assert bar.eta() == pytest.approx(_remaining(expected, 4.0, bar.spread))
    assert bar.eta() > 0.95 * (expected - 4.0)
    now[0] = 28.0  # it has run 20 s
    assert bar.eta() == pytest.approx(_remaining(expected, 20.0, bar.spread))
    assert 0 < bar.eta() < 0.4 * 20.0  # it outran its prediction: some time left, not none
    assert _remaining(100.0, 20.0, 0.4) == pytest.approx(80.0, abs=0.1)
