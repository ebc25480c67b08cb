"""Fit the replicates of one (estimator, n) together.

Replicates differ only in their data and seed. The torch estimators train them in one
batched computation (``NeuralSequenceEstimator._fit_replicates``) with the results of
separate fits; any other scikit-learn-style estimator is fitted replicate by replicate.
"""

from __future__ import annotations

from sklearn.base import clone

from .errors import TrainingDiverged


def supports_batching(estimator) -> bool:
    """Whether ``fit_replicates`` trains this estimator's replicates in one computation."""
    return callable(getattr(estimator, "_fit_replicates", None))


def fit_replicates(estimator, Xs, ys, random_states) -> list:
    """Fit one clone of ``estimator`` per replicate.

    Parameters
    ----------
    estimator : an unfitted scikit-learn-style estimator (left unchanged).
    Xs, ys : sequences of R arrays, the training data of each replicate (for batched
        estimators all of equal shapes: X (n, T, d), y (n, L) or (n,)). They are passed to
        ``fit`` as they are: an estimator that needs 2-D inputs gets them from the caller.
    random_states : R seeds; clone r gets ``random_state=random_states[r]`` (when the
        estimator has that parameter).

    Returns a list of R items: the fitted clone, or, for a replicate whose training loss
    diverged, the ``TrainingDiverged`` it raised (the other replicates are unaffected).
    Other errors propagate.
    """
    Xs, ys, random_states = list(Xs), list(ys), list(random_states)
    if not len(Xs) == len(ys) == len(random_states):
        raise ValueError(f"fit_replicates needs one X, one y and one random_state per "
                         f"replicate, got {len(Xs)}, {len(ys)} and {len(random_states)}")
    if not Xs:
        return []
    if supports_batching(estimator):
        return estimator._fit_replicates(Xs, ys, random_states)
    results = []
    for X, y, seed in zip(Xs, ys, random_states):
        est = clone(estimator)
        if "random_state" in est.get_params(deep=False):
            est.set_params(random_state=seed)
        try:
            results.append(est.fit(X, y))
        except TrainingDiverged as exc:
            results.append(exc)
    return results
