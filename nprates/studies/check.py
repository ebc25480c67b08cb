"""``check_study``: import, construct and smoke-test a study before any work starts.

``run_study`` calls it first; it returns a ``CheckedStudy``, the cells the runner runs.
A ``Study`` (``spec``) is a plain typed spec that knows nothing of this module: the
dependency goes one way, checker to spec.
Before anything is built, sizes that cannot fit in this machine's memory are refused
with an estimate (``memory``). ``trial.trial_fits``, which ``run_study`` calls next,
fits each estimator once on a tiny sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import is_classifier

from nprates.estimators.replicates import supports_batching
from nprates.studies.build import (accepts_sequences, batches_replicates, build_target, call,
                                   check_keywords, estimator_class, make_estimator, needs_basis)
from nprates.studies.capacity import is_rule
from nprates.studies.capability import TASK_SET_PARAMS, build_task, make_classifier
from nprates.studies.errors import StudyError
from nprates.studies.fields import DEVICE_RE
from nprates.studies.memory import check_memory, check_sampled_memory

if TYPE_CHECKING:
    from nprates.studies.spec import Study


@dataclass(frozen=True)
class CheckedStudy:
    """What ``check_study`` found: the cells to run and notes about skipped ones."""

    study: Study
    device: str
    cells: tuple  # (target or task setting, estimator, n, replicate), in run order
    skipped: tuple  # (target, estimator, reason)
    batched: frozenset  # estimator labels trained with replicates batched together


def _check_device(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise StudyError("device", f"{device!r} requested but CUDA is not available on "
                             f"this machine; use 'auto' or 'cpu'")


def _smoke_target(study: Study, label: str):
    name = f"targets.{label}"
    target = build_target(study, label)
    if not callable(getattr(target, "sample", None)):
        raise StudyError(name, f"{type(target).__name__} has no sample(n, length, noise, rng) "
                         f"method (the target contract)")
    try:
        X, y, f = target.sample(2, length=study.length, noise=study.noise,
                                rng=np.random.default_rng(0))
        X, y, f = (np.asarray(a, dtype=np.float64) for a in (X, y, f))
    except Exception as exc:
        raise StudyError(name, f"sample(2, length={study.length}, noise={study.noise}, rng) "
                         f"failed: {type(exc).__name__}: {exc}") from None
    if X.ndim != 3 or X.shape[0] != 2 or X.shape[1] < study.length:
        raise StudyError(name, f"sample() must return X of shape (n, T >= length, d), got "
                         f"{X.shape} for n=2, length={study.length}")
    for arr, what in ((y, "y"), (f, "f")):
        if arr.shape != (2, study.length):
            raise StudyError(name, f"sample() must return {what} of shape (n, length) = "
                             f"(2, {study.length}), got {arr.shape}")
    return target, X.shape[1], X.shape[2]


def _estimator_class(study: Study, label: str):
    """The class of estimator ``label``, checked to be scikit-learn-style."""
    cls = estimator_class(study, label)
    if not isinstance(cls, type) or not all(callable(getattr(cls, m, None))
                                            for m in ("fit", "predict", "get_params")):
        raise StudyError(f"estimators.{label}.class", f"{study.estimators[label].cls!r} is not "
                         f"a scikit-learn-style estimator class (fit, predict, get_params)")
    return cls


def _validate_params(est, name: str) -> None:
    """Run scikit-learn's own parameter checks, where the estimator has them."""
    validate = getattr(est, "_validate_params", None)
    if callable(validate) and hasattr(est, "_parameter_constraints"):
        try:
            validate()
        except (ValueError, TypeError) as exc:
            raise StudyError(f"{name}.params", str(exc)) from None


def _check_estimator(study: Study, label: str, targets: dict, device: str):
    """Validate one estimator on every target it runs on.

    Returns ``(skipped, estimator)``: the targets it skips as (target, estimator,
    reason), and one constructed (unfitted) instance, None if it runs on no target.
    """
    name = f"estimators.{label}"
    spec = study.estimators[label]
    cls = _estimator_class(study, label)
    if needs_basis(cls) and "basis" in spec.params:
        raise StudyError(f"{name}.params.basis", "is set by the study (the target itself)")
    check_keywords(cls, spec.params, f"{name}.params", cls.__name__)
    skipped, usable, est = [], {}, None
    for tlabel, (target, T, _) in targets.items():
        if needs_basis(cls) and not callable(getattr(target, "design_matrix", None)):
            skipped.append((tlabel, label, f"{cls.__name__} needs the target's basis and "
                            f"target {tlabel!r} has no design_matrix"))
            continue
        if not accepts_sequences(cls):
            window = getattr(target, "window", None)
            if isinstance(window, bool) or not isinstance(window, (int, np.integer)) \
                    or not 1 <= window <= T - study.length + 1:
                raise StudyError(name, f"{cls.__name__} takes 2-D inputs, which are the "
                                 f"target's windows; target {tlabel!r} needs an integer "
                                 f"attribute window <= burn-in + 1 (got {window!r})")
        usable[tlabel] = target
    each = needs_basis(cls) or any(is_rule(v) for v in spec.params.values())
    for tlabel, target in (usable.items() if each else list(usable.items())[:1]):
        est = call(make_estimator, {"study": study, "label": label, "target": target,
                                    "device": device}, f"{name}.params", cls.__name__)
        _validate_params(est, name)
        if is_classifier(est):
            raise StudyError(f"{name}.class", f"{spec.cls!r} is a classifier; a rate study "
                             f"needs regressors (fit(X, y) with real-valued y), e.g. "
                             f"nprates.estimators.SSMRegressor")
    return skipped, est


def _check_classifier(study: Study, label: str, device: str):
    """Validate one estimator of a capability study on every task setting; returns one
    constructed (unfitted) instance."""
    name = f"estimators.{label}"
    spec = study.estimators[label]
    cls = _estimator_class(study, label)
    for key in TASK_SET_PARAMS:
        if key in spec.params:
            raise StudyError(f"{name}.params.{key}", "is set by the study from each task "
                             "setting (the task's vocabulary)")
    check_keywords(cls, spec.params, f"{name}.params", cls.__name__)
    est = None
    for setting in study.settings:
        est = call(make_classifier, {"study": study, "label": label,
                                     "task": build_task(study, setting), "device": device},
                   f"{name}.params", cls.__name__)
        if not is_classifier(est):
            raise StudyError(f"{name}.class", f"{spec.cls!r} is not a classifier; a capability "
                             f"study needs token classifiers (fit(tokens (n, T), targets "
                             f"(n, T)), predict -> (n, T)), e.g. "
                             f"nprates.estimators.classifiers.SSMClassifier")
        _validate_params(est, name)
    return est


def _check_capability(study: Study, device: str) -> CheckedStudy:
    batched = set()
    for label in study.estimators:
        est = _check_classifier(study, label, device)
        if study.replicates > 1 and supports_batching(est):
            batched.add(label)
    cells = tuple((s, e, study.train_size, r) for s in study.settings for e in study.estimators
                  for r in range(study.replicates))
    return CheckedStudy(study=study, device=device, cells=cells, skipped=(),
                        batched=frozenset(batched))


def check_study(study: Study, device: str | None = None, check_device: bool = True) -> CheckedStudy:
    """Import, construct and smoke-test everything in ``study``; raise StudyError (naming
    the study file, where it came from one) on the first problem.

    ``device`` overrides the study's device; ``check_device=False`` skips the check
    that a requested CUDA device exists here (for remote workers).
    """
    try:
        return _check(study, device, check_device)
    except StudyError as exc:
        raise exc.with_source(study.source) from None


def _check(study: Study, device: str | None, check_device: bool) -> CheckedStudy:
    device = study.device if device is None else device
    if not isinstance(device, str) or not DEVICE_RE.match(device):
        raise StudyError("device", f"must be 'auto', 'cpu', 'cuda' or 'cuda:K', got {device!r}")
    if check_device:
        _check_device(device)
    check_memory(study)
    if study.kind == "capability":
        return _check_capability(study, device)
    targets = {label: _smoke_target(study, label) for label in study.targets}
    check_sampled_memory(study, {label: (T, d) for label, (_, T, d) in targets.items()})
    skipped, batched = [], set()
    for label in study.estimators:
        skips, est = _check_estimator(study, label, targets, device)
        skipped += skips
        if est is not None and study.replicates > 1 and batches_replicates(est):
            batched.add(label)
    skip = {(t, e) for t, e, _ in skipped}
    cells = tuple((slot, e, n, r) for n in study.sizes for t in study.targets
                  for slot in study.target_slots(t) for e in study.estimators
                  if (t, e) not in skip for r in range(study.replicates))
    return CheckedStudy(study=study, device=device, cells=cells, skipped=tuple(skipped),
                        batched=frozenset(batched))

