"""Cells: fitting and scoring one (target, estimator, n, replicate).

A task is a group of cells of the same (target, estimator, n) that one worker runs
together: all missing replicates when the estimator trains replicates in one batched
computation (``nprates.estimators.replicates.fit_replicates``), else one cell. Workers
rebuild the target and draw the data from the study's seeds themselves, so a task
ships only the (small) study spec; they return one row per cell and the parent
process writes it.

Cells come in two kinds, one per kind of study: ``RateCells`` (a regression target;
risk = noise-free test MSE) and ``CapabilityCells`` (a token task setting in the
``target`` slot; risk = token error rate 1 - accuracy). Each builds what a task's
cells share, draws a replicate's training data and scores a fitted estimator;
``run_task`` drives either.

A rate task's ``target`` is a target slot: the target label (draw 0) or
``TARGET/draw=D`` (``seeds.draw_slot``). Rate rows carry the per-cell diagnostics of the
training protocol: ``draw``, ``stopped_by``, ``opt_gap`` (training MSE minus the noise
variance), ``null_risk`` (test MSE of predicting the training-output mean), ``trivial``
(risk >= half of it), ``lr``, ``selection_seconds`` and ``capacity`` (sizes used, JSON).
Rows of neural fits also carry their training history: ``history`` (per-epoch losses,
JSON), ``best_epoch``, ``lr_grid`` (JSON) and ``lr_edge``; on a piecewise target, a
network's rows add the selection-recovery columns (``nprates.studies.recovery``).
"""

from __future__ import annotations

import json
import math
import platform
import sys
import time
from dataclasses import dataclass
from importlib import metadata

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from nprates.estimators.windows import flatten_windows
from nprates.estimators.errors import TrainingDiverged
from nprates.estimators.replicates import fit_replicates
from nprates.studies import seeds
from nprates.studies.build import (accepts_sequences, build_target, make_estimator,
                                   target_number, test_set, train_set, with_random_state)
from nprates.studies.capability import build_task, make_classifier, test_batch, train_batch
from nprates.studies.capacity import capacity_json
from nprates.studies.heartbeat import beating
from nprates.studies.recovery import recovery_applies, recovery_columns
from nprates.studies.spec import Study
from nprates.tasks import exact_match_per_sequence, token_accuracy_per_sequence

_threads: int | None = None


@dataclass(frozen=True)
class Task:
    """Cells of one (target, estimator, n) that run together in one worker; ``target``
    is a task-setting label in a capability study."""

    study: Study
    target: str
    estimator: str
    n: int
    replicates: tuple
    device: str
    batched: bool = False
    threads: int | None = None
    heartbeat: str | None = None  # directory for epoch heartbeats (``heartbeat.beating``)

    @property
    def label(self) -> str:
        reps = ",".join(map(str, self.replicates))
        return f"{self.target}/{self.estimator}/n={self.n}/r={reps}"


def library_versions() -> str:
    """JSON of the versions of Python and the libraries that shape results."""
    out = {"python": platform.python_version()}
    for dist in ("nprates", "numpy", "scipy", "scikit-learn", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            module = sys.modules.get(dist.replace("scikit-learn", "sklearn"))
            out[dist] = getattr(module, "__version__", "unknown")
    return json.dumps(out, sort_keys=True)


_versions: str | None = None


def _base_row(task: Task, replicate: int) -> dict:
    """The columns every cell has, as for a failed cell; the cell kinds add theirs."""
    global _versions
    if _versions is None:
        _versions = library_versions()
    study = task.study
    return {"study": study.name, "target": task.target, "estimator": task.estimator,
            "n": int(task.n), "replicate": int(replicate), "risk": math.nan,
            "risk_se": math.nan, "status": "failed", "error": "", "train_loss": math.nan,
            "val_loss": math.nan, "n_params": math.nan, "epochs": math.nan,
            "fit_seconds": math.nan, "device": "",
            "threads": float(task.threads or torch.get_num_threads()),
            "data_seed": seeds.data_seed_id(task.target, task.n, replicate),
            "versions": _versions,
            "cell_key": study.cell_key(task.target, task.estimator, task.n, replicate)}


def error_message(exc: BaseException) -> str:
    """``"ExcType: message"`` on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass(frozen=True)
class _Layout:
    """How an estimator sees the data: (n, T, d) sequences natively, or 2-D rows of
    flattened windows of ``window`` tokens (one row per scored position)."""

    sequences: bool
    length: int
    window: int | None

    def inputs(self, X: np.ndarray) -> np.ndarray:
        return X if self.sequences else flatten_windows(X, self.length, int(self.window))

    def outputs(self, y: np.ndarray) -> np.ndarray:
        return y if self.sequences else y.ravel()

    def predict(self, est, X: np.ndarray) -> np.ndarray:
        """Predictions at the scored positions, (n, length) float64."""
        pred = np.asarray(est.predict(self.inputs(X)), dtype=np.float64)
        if pred.size != X.shape[0] * self.length:
            raise ValueError(f"predict returned shape {pred.shape}, expected "
                             f"({X.shape[0]}, {self.length})")
        return pred.reshape(X.shape[0], self.length)


def _fitted_number(est, attr: str) -> float:
    value = getattr(est, attr, None)
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _compact(values) -> list:
    """Floats to 4 significant digits, NaN and inf as None (JSON null)."""
    return [float(f"{v:.4g}") if math.isfinite(v) else None for v in map(float, values)]


def _history_json(est) -> str:
    """The ``history`` column: JSON of the per-epoch training and validation losses of a
    neural fit (``history_``), "" for an estimator without one."""
    history = getattr(est, "history_", None)
    if not isinstance(history, dict) or "train_loss" not in history:
        return ""
    return json.dumps({"train": _compact(history["train_loss"]),
                       "val": _compact(history.get("val_loss", []))})


def _fitted_attributes(row: dict, est, seconds: float) -> dict:
    """Fill ``row`` with what a fitted estimator reports about its training."""
    fit_seconds = _fitted_number(est, "fit_seconds_")
    grid = getattr(est, "lr_grid_", None)
    row.update(train_loss=_fitted_number(est, "train_loss_"),
               val_loss=_fitted_number(est, "val_loss_"),
               n_params=_fitted_number(est, "n_params_"), epochs=_fitted_number(est, "n_epochs_"),
               fit_seconds=seconds if math.isnan(fit_seconds) else fit_seconds,
               device=str(getattr(est, "device_", "cpu")),
               history=_history_json(est), best_epoch=_fitted_number(est, "best_epoch_"),
               lr_grid="" if grid is None else json.dumps(_compact(grid)),
               lr_edge=bool(getattr(est, "lr_edge_", False)))
    return row


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    """Mean of per-sequence values and its standard error over sequences."""
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(values.size))


#: The protocol's diagnostic columns of a rate row, with their values before scoring.
DIAGNOSTICS = {"stopped_by": "", "opt_gap": math.nan, "null_risk": math.nan, "trivial": False,
               "lr": math.nan, "selection_seconds": math.nan, "capacity": ""}


def _learning_rate(est) -> float:
    """The learning rate a fit used: ``lr_`` (chosen on validation data from a grid),
    else the ``lr`` hyperparameter when it is one number, else NaN."""
    chosen = _fitted_number(est, "lr_")
    if not math.isnan(chosen):
        return chosen
    get = getattr(est, "get_params", None)
    lr = get(deep=False).get("lr") if callable(get) else None
    return float(lr) if isinstance(lr, (int, float)) and not isinstance(lr, bool) else math.nan


class RateCells:
    """The cells of a rate-study task: a regression target, risk = noise-free test MSE."""

    def __init__(self, task: Task):
        self.task = task
        self.target = None
        self.proto = None
        self.label, self.draw = seeds.split_slot(task.target)

    def setup(self) -> None:
        """Build the target, its test set and the estimator prototype (may raise)."""
        study, task = self.task.study, self.task
        self.target = build_target(study, task.target)
        self.test = test_set(study, task.target)
        self.proto = self.new_estimator()
        self.layout = _Layout(accepts_sequences(type(self.proto)), study.length,
                              getattr(self.target, "window", None))

    def row(self, replicate: int) -> dict:
        return {**_base_row(self.task, replicate), "target": self.label, "draw": self.draw,
                "noise": self.task.study.noise,
                "theory_exponent": target_number(self.target, "exponent"),
                "a_dagger": target_number(self.target, "a_dagger"), **DIAGNOSTICS,
                "capacity": "" if self.proto is None else capacity_json(self.proto)}

    def new_estimator(self):
        task = self.task
        return make_estimator(task.study, task.estimator, self.target, task.device, n=task.n)

    def train(self, replicate: int):
        return train_set(self.task.study, self.task.target, self.task.n, replicate)

    def fit_data(self, train) -> tuple:
        """``(X, y)`` as the estimator takes them."""
        return self.layout.inputs(train[0]), self.layout.outputs(train[1])

    def score(self, row: dict, est, seconds: float, train) -> dict:
        """Fill ``row`` from a fitted estimator: the risk on the noise-free test set
        ``(X, f)``, the fitted attributes, and the training MSE on ``train = (X, y)``
        when the estimator does not report one."""
        pred = self.layout.predict(est, self.test[0])
        if not np.all(np.isfinite(pred)):
            row.update(status="diverged", error="non-finite predictions on the test set")
        else:
            risk, risk_se = _mean_se(np.mean((pred - self.test[1]) ** 2, axis=1))
            row.update(status="ok", risk=risk, risk_se=risk_se)
            if self.layout.sequences and recovery_applies(self.target, est):
                row.update(recovery_columns(self.target, est, self.test[0], self.layout.length))
        _fitted_attributes(row, est, seconds)
        if math.isnan(row["train_loss"]) and row["status"] == "ok":
            row["train_loss"] = float(np.mean((self.layout.predict(est, train[0]) - train[1]) ** 2))
        return self.diagnose(row, est, train)

    def diagnose(self, row: dict, est, train) -> dict:
        """Fill the protocol's diagnostic columns (``DIAGNOSTICS``) of a scored row."""
        null_risk = float(np.mean((float(np.mean(train[1])) - self.test[1]) ** 2))
        row.update(stopped_by=str(getattr(est, "stopped_by_", "") or ""),
                   opt_gap=row["train_loss"] - self.task.study.noise ** 2,
                   null_risk=null_risk, trivial=bool(row["risk"] >= 0.5 * null_risk),
                   lr=_learning_rate(est),
                   selection_seconds=_fitted_number(est, "selection_seconds_"),
                   capacity=capacity_json(est))
        return row


class CapabilityCells:
    """The cells of a capability-study task: a token task setting, scored by token
    accuracy on the setting's test set (risk = 1 - accuracy)."""

    def __init__(self, task: Task):
        self.task = task
        self.setting = task.study.settings[task.target]

    def setup(self) -> None:
        """Build the task, its test set and the classifier prototype (may raise)."""
        study, task = self.task.study, self.task
        self.token_task = build_task(study, task.target)
        self.test = test_batch(study, task.target)
        self.proto = self.new_estimator()

    def row(self, replicate: int) -> dict:
        return {**_base_row(self.task, replicate), "task": self.setting.task,
                "task_param": self.setting.param, "task_value": float(self.setting.value)}

    def new_estimator(self):
        return make_classifier(self.task.study, self.task.estimator, self.token_task,
                               self.task.device)

    def train(self, replicate: int):
        return train_batch(self.task.study, self.task.target, self.task.n, replicate)

    def fit_data(self, train) -> tuple:
        """``(tokens, targets)``, both (n, T), targets -100 at unscored positions."""
        return train.tokens, train.targets

    def score(self, row: dict, est, seconds: float, train) -> dict:
        """Fill ``row`` from a fitted classifier: token accuracy (with its standard
        error over test sequences), exact match, risk = 1 - accuracy, and the fitted
        attributes (``train_loss`` is the classifier's training cross-entropy)."""
        tokens, targets, mask = self.test
        pred = np.asarray(est.predict(tokens))
        if pred.shape != tokens.shape:
            raise ValueError(f"predict returned shape {pred.shape}, expected (n, T) = "
                             f"{tokens.shape}: one class per position")
        accuracy, accuracy_se = _mean_se(token_accuracy_per_sequence(pred, targets, mask))
        exact = float(exact_match_per_sequence(pred, targets, mask).mean())
        row.update(status="ok", risk=1.0 - accuracy, risk_se=accuracy_se, accuracy=accuracy,
                   accuracy_se=accuracy_se, exact_match=exact,
                   train_accuracy=_fitted_number(est, "train_accuracy_"),
                   stopped_by=str(getattr(est, "stopped_by_", "") or ""),
                   lr=_learning_rate(est),
                   selection_seconds=_fitted_number(est, "selection_seconds_"),
                   capacity=capacity_json(est))
        return _fitted_attributes(row, est, seconds)


def _fail(row: dict, exc: BaseException) -> dict:
    status = "diverged" if isinstance(exc, TrainingDiverged) else "failed"
    row.update(status=status, error=error_message(exc), risk=math.nan, risk_se=math.nan)
    return row


def limit_threads(threads: int | None) -> None:
    """Cap torch's and the BLAS libraries' threads in this process (pool workers)."""
    global _threads
    if threads is None or threads == _threads:
        return
    torch.set_num_threads(int(threads))
    threadpool_limits(int(threads))
    _threads = threads


def _cells(task: Task):
    return (CapabilityCells if task.study.kind == "capability" else RateCells)(task)


def failed_rows(task: Task, exc: BaseException) -> list[dict]:
    """The rows of ``task``'s cells recorded as failed with ``exc`` (a task whose worker
    died, so that nothing else could be learnt about it)."""
    cells = _cells(task)
    return [_fail(cells.row(r), exc) for r in task.replicates]


def run_task(task: Task) -> list[dict]:
    """Fit and score the cells of ``task``; one row per replicate, errors recorded
    (``SystemExit`` from an estimator too: it fails that cell, not the run)."""
    limit_threads(task.threads)
    with beating(task.heartbeat, task.label):
        return _run_cells(task)


def _run_cells(task: Task) -> list[dict]:
    cells = _cells(task)
    try:
        cells.setup()
    except (Exception, SystemExit) as exc:
        return [_fail(cells.row(r), exc) for r in task.replicates]
    label, draw = seeds.split_slot(task.target)
    states = {r: seeds.init_seed(task.study.seed, label, task.estimator, task.n, r, draw)
              for r in task.replicates}
    if task.batched and len(task.replicates) > 1:
        return _run_batched(task, cells, states)
    rows = []
    for r in task.replicates:
        row = cells.row(r)
        try:
            train = cells.train(r)
            est = with_random_state(cells.new_estimator(), states[r])
            start = time.perf_counter()
            est.fit(*cells.fit_data(train))
            rows.append(cells.score(row, est, time.perf_counter() - start, train))
        except (Exception, SystemExit) as exc:
            rows.append(_fail(row, exc))
    return rows


def _run_batched(task: Task, cells, states: dict) -> list[dict]:
    """All replicates of the task in one ``fit_replicates`` call (estimators that take
    sequences natively, so their inputs need no reshaping)."""
    reps = list(task.replicates)
    rows = [cells.row(r) for r in reps]
    try:
        data = [cells.train(r) for r in reps]
        inputs = [cells.fit_data(train) for train in data]
        start = time.perf_counter()
        fitted = fit_replicates(cells.proto, [X for X, _ in inputs], [y for _, y in inputs],
                                [states[r] for r in reps])
        seconds = (time.perf_counter() - start) / len(reps)
        if len(fitted) != len(reps):
            raise RuntimeError(f"fit_replicates returned {len(fitted)} results for "
                               f"{len(reps)} replicates")
    except (Exception, SystemExit) as exc:
        return [_fail(row, exc) for row in rows]
    out = []
    for row, result, train in zip(rows, fitted, data):
        try:
            if isinstance(result, BaseException):
                raise result
            out.append(cells.score(row, result, seconds, train))
        except Exception as exc:
            out.append(_fail(row, exc))
    return out
