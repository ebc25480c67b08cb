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
================= ======= =======================================================
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
}

COLUMNS = REQUIRED + tuple(OPTIONAL)

STATUSES = ("ok", "diverged", "failed")


def validate_results(results: pd.DataFrame) -> pd.DataFrame:
    """Check the schema and return a copy with optional columns filled in.

    Raises ValueError naming the problem: not a DataFrame, empty, a missing required
    column, or an unknown status. Risk values are not judged here (a failed cell has
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
    out["n"] = out["n"].astype(int)
    out["replicate"] = out["replicate"].astype(int)
    out["risk"] = out["risk"].astype(float)
    return out
