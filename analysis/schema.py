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
history           str     neural fits: JSON {"train": [...], "val": [...]}, the
                          per-epoch mean training loss and validation loss of the
                          kept learning rate (4 significant digits, MSE units;
                          null where there was no validation split)
best_epoch        float   neural fits: 1-based epoch of the restored weights
lr_grid           str     neural fits: JSON list of the learning rates tried (the
                          grid and its extensions beyond an edge), ascending
lr_edge           bool    the kept learning rate sits at an edge of ``lr_grid``
                          (the extension limit was reached; default False)
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

import math
import re

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
    "history": "",
    "best_epoch": np.nan,
    "lr_grid": "",
    "lr_edge": False,
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


# -- rows read from files ----------------------------------------------------------------

#: Columns holding labels: letters, digits and ``._-/=+`` (study labels, ``TASK/PARAM=VALUE``
#: task settings), at most ``MAX_LABEL`` characters, so nothing in them is interpreted
#: where they are shown (terminal, matplotlib mathtext, PDF).
LABEL_COLUMNS = ("target", "estimator", "study", "task", "task_param")
MAX_LABEL = 128
#: Longest text of any other string column (error messages, JSON records).
MAX_TEXT = 100_000
#: Ranges of the integer columns.
INT_RANGES = {"n": (1, 10**12), "replicate": (0, 10**9), "draw": (0, 10**9)}
_LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/=+]*$")
_COLUMN_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _field_problem(column: str, value) -> str:
    """Why ``value`` cannot be the ``column`` field of a results row ("" when it can)."""
    default = OPTIONAL.get(column, "" if column in ("target", "estimator", "status")
                           else np.nan)
    if column in INT_RANGES:
        low, high = INT_RANGES[column]
        if value is None and column == "draw":
            return ""
        if isinstance(value, float) and math.isfinite(value) and value == int(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            return f"must be a whole number in [{low}, {high}], got {_shown(value)}"
        return ""
    if column == "status":
        return "" if value in STATUSES else f"must be one of {', '.join(STATUSES)}, got " \
                                            f"{_shown(value)}"
    if value is None:
        return "" if column not in ("target", "estimator") else "must be a label, got null"
    if isinstance(default, bool):
        return "" if isinstance(value, bool) else f"must be true or false, got {_shown(value)}"
    if isinstance(default, str):
        if not isinstance(value, str):
            return f"must be a string, got {_shown(value)}"
        if column in LABEL_COLUMNS:
            if value == "" and column not in ("target", "estimator"):
                return ""
            if len(value) > MAX_LABEL or not _LABEL_RE.match(value):
                return (f"must be a label of at most {MAX_LABEL} letters, digits or "
                        f"'._-/=+', got {_shown(value)}")
            return ""
        return _text_problem(value)
    if column in OPTIONAL or column == "risk":
        return _number_problem(value)
    return _extra_problem(value)


def _text_problem(value: str) -> str:
    if len(value) > MAX_TEXT:
        return f"must be at most {MAX_TEXT} characters, got {len(value)}"
    return ""


def _number_problem(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"must be a number or null, got {_shown(value)}"
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if math.isinf(number):  # NaN is a missing number, as null is
        return f"must be a finite number or null, got {_shown(value)}"
    return ""


def _extra_problem(value) -> str:
    """A column the schema does not know: a scalar (text, number, true/false or null)."""
    if isinstance(value, str):
        return _text_problem(value)
    if isinstance(value, bool):
        return ""
    return _number_problem(value)


def row_problem(row: dict) -> str:
    """Why ``row`` (a results row read from a file) is not a valid row, naming the field,
    or "" when it is. Checks every field against the schema: labels (``LABEL_COLUMNS``)
    hold letters, digits and ``._-/=+`` only; integers lie in ``INT_RANGES``; numbers
    are finite, NaN or null (missing); text is at most ``MAX_TEXT`` characters; a column the
    schema does not know holds a scalar. Control characters, mathtext (``$``), lists,
    objects and oversized numbers never reach a table."""
    for column in REQUIRED:
        if column not in row:
            return f"field {column!r}: missing"
    for column, value in row.items():
        if not isinstance(column, str) or not _COLUMN_RE.match(column):
            return f"field {_shown(column)}: not a column name"
        problem = _field_problem(column, value)
        if problem:
            return f"field {column!r}: {problem}"
    return ""
