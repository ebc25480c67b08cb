"""Selection recovery columns of a rate cell (piecewise targets, torch network estimators).

On a target that knows its true token selection (``selection(X)``, the piecewise
gamma-smooth class), a fitted estimator with a differentiable forward
(``nprates.estimators.importance.sequence_function``) is scored by how well its token
importance picks out the selected tokens (``nprates.analysis.recovery``), on the first
``RECOVERY_SEQUENCES`` sequences of the cell's test set, by gradient x input
(``RECOVERY_METHOD``: the method whose recovery an untrained network puts at chance on
the query-key class; docs/theory.md section 9). Columns:

``recovery_top1``, ``recovery_topk``, ``recovery_mass`` and their ``_chance`` levels,
``importance_method``. Other cells get none of them (the table's defaults: NaN, "").
"""

from __future__ import annotations

from nprates.analysis.recovery import selection_recovery
from nprates.estimators.importance import sequence_function, token_importance

RECOVERY_SEQUENCES = 1000
RECOVERY_METHOD = "grad_input"


def recovery_applies(target, estimator) -> bool:
    """Whether a cell of ``target`` fitted by ``estimator`` gets recovery columns."""
    if not callable(getattr(target, "selection", None)):
        return False
    try:
        sequence_function(estimator)
    except ValueError:
        return False
    return True


def recovery_columns(target, estimator, X, n_scored: int) -> dict:
    """The recovery columns of a fitted ``estimator`` on test sequences X (n, T, d) of
    ``target`` whose last ``n_scored`` positions are scored."""
    X = X[:RECOVERY_SEQUENCES]
    importance = token_importance(estimator, X, n_scored, method=RECOVERY_METHOD)
    selection = target.selection(X)[:, -n_scored:]
    rec = selection_recovery(importance, selection, target.window)
    return {**rec.columns(), "importance_method": RECOVERY_METHOD}
