"""Accuracy metrics of token predictions at the scored positions.

Every function takes ``predictions`` (n, T) integer class ids (the argmax of a model's
logits, or ``task.oracle(tokens)``), ``targets`` (n, T) and an optional ``mask`` (n, T) bool
of scored positions; without a mask the scored positions are those where
``targets != IGNORE_INDEX``. Predictions at unscored positions are ignored. Each sequence
must have at least one scored position.

- ``token_accuracy``: the fraction of all scored positions predicted right (pooled; equal to
  the mean of ``token_accuracy_per_sequence`` when every sequence has the same number of
  scored positions, as in both tasks).
- ``exact_match``: the fraction of sequences with every scored position right.
- ``*_per_sequence``: the same per sequence, (n,) float64 arrays, for intervals over test
  sequences (e.g. mean +- 1.96 * std / sqrt(n), or a bootstrap).
"""

from __future__ import annotations

import numpy as np

from nprates.tasks.base import IGNORE_INDEX


def _check(predictions, targets, mask):
    pred = np.asarray(predictions)
    tgt = np.asarray(targets)
    if pred.ndim != 2:
        raise ValueError(f"predictions must have shape (n, T), got {pred.shape}")
    if tgt.shape != pred.shape:
        raise ValueError(f"predictions and targets have different shapes: {pred.shape} != "
                         f"{tgt.shape}")
    for name, arr in (("predictions", pred), ("targets", tgt)):
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"{name} must be integer class ids (take the argmax of logits), "
                             f"got dtype {arr.dtype}")
    if mask is None:
        scored = tgt != IGNORE_INDEX
    else:
        scored = np.asarray(mask)
        if scored.shape != pred.shape or scored.dtype != np.bool_:
            raise ValueError(f"mask must be a bool array of shape {pred.shape}, got "
                             f"{scored.dtype} of shape {scored.shape}")
        if np.any(tgt[scored] == IGNORE_INDEX):
            raise ValueError(f"mask marks positions whose target is the ignore value "
                             f"{IGNORE_INDEX}")
    counts = scored.sum(axis=1)
    if pred.shape[0] == 0 or np.any(counts == 0):
        raise ValueError("every sequence needs at least one scored position; "
                         f"{int(np.sum(counts == 0))} of {pred.shape[0]} have none")
    correct = ((pred == tgt) & scored).sum(axis=1)
    return correct, counts


def token_accuracy_per_sequence(predictions, targets, mask=None) -> np.ndarray:
    """Fraction of scored positions predicted right in each sequence: (n,) float64."""
    correct, counts = _check(predictions, targets, mask)
    return correct / counts


def exact_match_per_sequence(predictions, targets, mask=None) -> np.ndarray:
    """1.0 where every scored position of the sequence is right, else 0.0: (n,) float64."""
    correct, counts = _check(predictions, targets, mask)
    return (correct == counts).astype(np.float64)


def token_accuracy(predictions, targets, mask=None) -> float:
    """Fraction of all scored positions predicted right, pooled over sequences."""
    correct, counts = _check(predictions, targets, mask)
    return float(correct.sum() / counts.sum())


def exact_match(predictions, targets, mask=None) -> float:
    """Fraction of sequences whose scored positions are all predicted right."""
    return float(exact_match_per_sequence(predictions, targets, mask).mean())
