"""Exceptions of the torch estimators."""

from __future__ import annotations


class TrainingDiverged(RuntimeError):
    """The training or validation loss of a fit became NaN or inf.

    Raised by ``fit`` instead of returning a model that predicts garbage; returned in
    place of the fitted estimator by ``fit_replicates`` for the replicates that diverged
    (the others are unaffected). A sweep records it as status "diverged".

    Attributes: ``epoch`` (1-based epoch at whose end the loss was not finite) and
    ``random_state`` (the seed of the fit), either None when unknown.
    """

    def __init__(self, message: str, epoch: int | None = None, random_state=None):
        super().__init__(message)
        self.epoch = epoch
        self.random_state = random_state
