"""Cells: fitting and scoring one (target, estimator, n, replicate).

A task is a group of cells of the same (target, estimator, n) that one worker runs
together: all missing replicates when the estimator trains replicates in one batched
computation (``estimators.replicates.fit_replicates``), else one cell. Workers
rebuild the target and draw the data from the study's seeds themselves, so a task
ships only the (small) study spec; they return one row per cell and the parent
process writes it.
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

from estimators._data import flatten_windows
from estimators.errors import TrainingDiverged
from estimators.replicates import fit_replicates
from nprates.studies import seeds
from nprates.studies.build import (accepts_sequences, build_target, make_estimator,
                                   target_number, test_set, train_set, with_random_state)
from nprates.studies.spec import Study

_threads: int | None = None


@dataclass(frozen=True)
class Task:
    """Cells of one (target, estimator, n) that run together in one worker."""

    study: Study
    target: str
    estimator: str
    n: int
    replicates: tuple
    device: str
    batched: bool = False
    threads: int | None = None

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


def _base_row(task: Task, replicate: int, target) -> dict:
    global _versions
    if _versions is None:
        _versions = library_versions()
    study = task.study
    return {"study": study.name, "target": task.target, "estimator": task.estimator,
            "n": int(task.n), "replicate": int(replicate), "risk": math.nan,
            "risk_se": math.nan, "status": "failed", "error": "", "train_loss": math.nan,
            "val_loss": math.nan, "n_params": math.nan, "epochs": math.nan,
            "fit_seconds": math.nan, "device": "", "noise": study.noise,
            "theory_exponent": target_number(target, "exponent"),
            "a_dagger": target_number(target, "a_dagger"),
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


def _score(row: dict, est, seconds: float, layout: _Layout, test, train) -> dict:
    """Fill ``row`` from a fitted estimator: the risk on the noise-free test set
    ``(X, f)``, the fitted attributes, and the training MSE on ``train = (X, y)`` when
    the estimator does not report one."""
    pred = layout.predict(est, test[0])
    if not np.all(np.isfinite(pred)):
        row.update(status="diverged", error="non-finite predictions on the test set")
    else:
        per_seq = np.mean((pred - test[1]) ** 2, axis=1)
        row.update(status="ok", risk=float(per_seq.mean()),
                   risk_se=float(per_seq.std(ddof=1) / math.sqrt(per_seq.size)))
    train_loss = _fitted_number(est, "train_loss_")
    if math.isnan(train_loss) and row["status"] == "ok":
        train_loss = float(np.mean((layout.predict(est, train[0]) - train[1]) ** 2))
    fit_seconds = _fitted_number(est, "fit_seconds_")
    row.update(train_loss=train_loss, val_loss=_fitted_number(est, "val_loss_"),
               n_params=_fitted_number(est, "n_params_"), epochs=_fitted_number(est, "n_epochs_"),
               fit_seconds=seconds if math.isnan(fit_seconds) else fit_seconds,
               device=str(getattr(est, "device_", "cpu")))
    return row


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


def run_task(task: Task) -> list[dict]:
    """Fit and score the cells of ``task``; one row per replicate, errors recorded."""
    limit_threads(task.threads)
    study = task.study
    target = None
    try:
        target = build_target(study, task.target)
        test = test_set(study, task.target)
        proto = make_estimator(study, task.estimator, target, task.device)
    except Exception as exc:
        return [_fail(_base_row(task, r, target), exc) for r in task.replicates]
    layout = _Layout(accepts_sequences(type(proto)), study.length, getattr(target, "window", None))
    states = {r: seeds.init_seed(study.seed, task.target, task.estimator, task.n, r)
              for r in task.replicates}
    if task.batched and len(task.replicates) > 1:
        return _run_batched(task, target, proto, states, layout, test)
    rows = []
    for r in task.replicates:
        row = _base_row(task, r, target)
        try:
            X, y = train_set(study, task.target, task.n, r)
            est = with_random_state(make_estimator(study, task.estimator, target, task.device),
                                    states[r])
            start = time.perf_counter()
            est.fit(layout.inputs(X), layout.outputs(y))
            rows.append(_score(row, est, time.perf_counter() - start, layout, test, (X, y)))
        except Exception as exc:
            rows.append(_fail(row, exc))
    return rows


def _run_batched(task: Task, target, proto, states: dict, layout: _Layout, test) -> list[dict]:
    """All replicates of the task in one ``fit_replicates`` call (sequence estimators)."""
    reps = list(task.replicates)
    rows = [_base_row(task, r, target) for r in reps]
    try:
        data = [train_set(task.study, task.target, task.n, r) for r in reps]
        start = time.perf_counter()
        fitted = fit_replicates(proto, [X for X, _ in data], [y for _, y in data],
                                [states[r] for r in reps])
        seconds = (time.perf_counter() - start) / len(reps)
        if len(fitted) != len(reps):
            raise RuntimeError(f"fit_replicates returned {len(fitted)} results for "
                               f"{len(reps)} replicates")
    except Exception as exc:
        return [_fail(row, exc) for row in rows]
    out = []
    for row, result, train in zip(rows, fitted, data):
        try:
            if isinstance(result, BaseException):
                raise result
            out.append(_score(row, result, seconds, layout, test, train))
        except Exception as exc:
            out.append(_fail(row, exc))
    return out
