"""The results table: the contract between running studies and analysing them.

One row per fitted model (a *cell*: estimator x sample size x replicate). Studies
write it, every analysis and report reads it; a DataFrame with these columns can
come from anywhere.

Rows of a capability study (token-selection tasks, docs/theory.md section 7) use the same
columns: ``target`` is the task setting (``TASK/PARAM=VALUE``, e.g.
``recall/n_pairs=4``), ``n`` the training size, ``risk`` the token error rate
1 - accuracy on the test set, and the capability columns below are filled in. Rate
rows leave those columns at their defaults (empty / NaN); a non-empty ``task`` marks a
capability row.

Required columns (``REQUIRED``):

============== ======= ==========================================================
column         dtype   meaning
============== ======= ==========================================================
target         str     label of the target function (or task setting)
estimator      str     label of the estimator
n              int     sample size: number of training sequences
replicate      int     replicate index (0-based)
risk           float   excess risk: noise-free test MSE over scored positions
                       (capability rows: token error rate 1 - accuracy)
status         str     "ok", "diverged" or "failed"
============== ======= ==========================================================

Optional columns (``OPTIONAL``; filled with their defaults when absent):

================= ======= =======================================================
study             str     study name
risk_se           float   standard error of ``risk`` over test sequences
train_loss        float   final training MSE (noisy targets); capability rows: the
                          training cross-entropy (nats per scored token)
val_loss          float   best validation MSE (noisy targets), or cross-entropy
n_params          float   number of trainable parameters (NaN if not applicable)
epochs            float   epochs trained (NaN if not applicable)
fit_seconds       float   wall time of the fit in seconds
device            str     device the fit ran on
error             str     error message of a failed or diverged cell
noise             float   noise standard deviation sigma of the training data
theory_exponent   float   theoretical exponent 2a/(2a+1) of the target (NaN if none)
a_dagger          float   effective smoothness of the target (NaN if none)
data_seed         str     identifier of the training-data stream: cells with equal
                          ``data_seed`` saw the same training data (paired)
versions          str     JSON of library versions
cell_key          str     unique key of the cell
task              str     capability rows: label of the task ("" for rate rows)
task_param        str     capability rows: name of the swept task parameter
task_value        float   capability rows: its value in this row's setting
accuracy          float   capability rows: token accuracy on the test set
accuracy_se       float   standard error of ``accuracy`` over test sequences
exact_match       float   capability rows: fraction of test sequences with every
                          scored token right
draw              int     index of the target draw from the class (0-based; a study
                          with ``target_draws = K`` has draws 0..K-1); default 0
stopped_by        str     how a neural fit ended: "early_stopping" or "cap" (the
                          step/epoch cap); "" where not applicable
opt_gap           float   optimisation gap: training MSE minus the noise variance
                          (train_loss - noise**2, MSE units)
null_risk         float   excess test risk of predicting the training-output mean
trivial           bool    risk >= 0.5 * null_risk: the size sits at the trivial
                          plateau (default False)
lr                float   learning rate used (chosen on validation data when a
                          grid was given)
selection_seconds float   wall time of the hyperparameter grid, in seconds
                          (included in ``fit_seconds``)
capacity          str     JSON of the size hyperparameters resolved for this n,
                          e.g. {"width": 24, "fnn_width": 48}
threads           float   torch intra-op threads the fit ran with
train_accuracy    float   capability rows: token accuracy on the training sequences
================= ======= =======================================================

Selection recovery (rate rows of a piecewise target fitted by a network; NaN and ""
elsewhere; ``nprates.analysis.recovery``, ``nprates.studies.recovery``):
``recovery_top1`` (float, share of scored positions whose most important window token
is the truly most important selected one), ``recovery_topk`` (float, recall of the K
selected tokens among the K most important window tokens), ``recovery_mass`` (float,
share of the window's importance on the selected tokens), ``recovery_top1_chance``,
``recovery_topk_chance``, ``recovery_mass_chance`` (float, their levels for a uniformly
random ranking of the W window tokens: 1/W, K/W, K/W) and ``importance_method`` (str,
the token-importance method, e.g. "grad_input").

Integer columns (``n``, ``replicate``, ``draw``) must hold whole numbers: a value such
as 64.5 is refused, not truncated, and so is NaN in ``n`` or ``replicate`` (a missing
``draw`` means draw 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REQUIRED = ("target", "estimator", "n", "replicate", "risk", "status")

OPTIONAL = {
    "study": "",
    "risk_se": np.nan,
    "train_loss": np.nan,
    "val_loss": np.nan,
    "n_params": np.nan,
    "epochs": np.nan,
    "fit_seconds": np.nan,
    "device": "",
    "error": "",
    "noise": np.nan,
    "theory_exponent": np.nan,
    "a_dagger": np.nan,
    "data_seed": "",
    "versions": "",
    "cell_key": "",
    "task": "",
    "task_param": "",
    "task_value": np.nan,
    "accuracy": np.nan,
    "accuracy_se": np.nan,
    "exact_match": np.nan,
    "draw": 0,
    "stopped_by": "",
    "opt_gap": np.nan,
    "null_risk": np.nan,
    "trivial": False,
    "lr": np.nan,
    "selection_seconds": np.nan,
    "capacity": "",
    "threads": np.nan,
    "train_accuracy": np.nan,
    "recovery_top1": np.nan,
    "recovery_topk": np.nan,
    "recovery_mass": np.nan,
    "recovery_top1_chance": np.nan,
    "recovery_topk_chance": np.nan,
    "recovery_mass_chance": np.nan,
    "importance_method": "",
}

COLUMNS = REQUIRED + tuple(OPTIONAL)

STATUSES = ("ok", "diverged", "failed")


def validate_results(results: pd.DataFrame) -> pd.DataFrame:
    """Check the schema and return a copy with optional columns filled in.

    Raises ValueError naming the problem: not a DataFrame, empty, a missing required
    column, an unknown status, or a NaN or fractional value in ``n``, ``replicate`` or
    ``draw``. Risk values are not judged here (a failed cell has
    NaN risk); the fitting functions decide what they can use.
    """
    if not isinstance(results, pd.DataFrame):
        raise ValueError(f"results must be a pandas DataFrame, got {type(results).__name__}")
    if len(results) == 0:
        raise ValueError("results table is empty")
    missing = [c for c in REQUIRED if c not in results.columns]
    if missing:
        raise ValueError(f"results table is missing required column(s): {', '.join(missing)}")
    out = results.copy()
    for col, default in OPTIONAL.items():
        if col not in out.columns:
            out[col] = default
    bad = sorted(set(out["status"].astype(str)) - set(STATUSES))
    if bad:
        raise ValueError(f"results column 'status' has unknown value(s) {bad}; "
                         f"expected one of {list(STATUSES)}")
    out["draw"] = out["draw"].fillna(OPTIONAL["draw"])  # rows from a table without draws
    for col in ("n", "replicate", "draw"):
        out[col] = _integers(out[col], col)
    out["risk"] = out["risk"].astype(float)
    out["trivial"] = out["trivial"].map(lambda v: bool(v) if v == v and v is not None
                                        else False).astype(bool)
    return out


def _integers(values: pd.Series, name: str) -> pd.Series:
    """``values`` as int64; ValueError naming column ``name`` for NaN or non-integers."""
    num = pd.to_numeric(values, errors="coerce").astype(float)
    bad = values[num.isna()]
    if len(bad):
        raise ValueError(f"results column {name!r} must hold whole numbers; got "
                         f"{bad.iloc[0]!r} in {len(bad)} row(s) (NaN or not a number)")
    frac = num[num != np.round(num)]
    if len(frac):
        raise ValueError(f"results column {name!r} must hold whole numbers; got "
                         f"{frac.iloc[0]:g} in {len(frac)} row(s)")
    return num.astype(np.int64)
