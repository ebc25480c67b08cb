"""``trial_fits``: fit each estimator of a checked study once on a tiny sample.

``run_study`` calls it after ``check_study`` and before anything is written. The fit
goes through the code of a cell (``cells.run_task``) on a shrunk copy of the study,
so that a study whose cells would all fail (``width = -8``, ``max_epochs = 0``,
``lr = nan``) is refused with a StudyError naming the field before any work starts.
"""

from __future__ import annotations

import inspect
import re

from nprates.studies.cells import Task, run_task
from nprates.studies.build import estimator_class
from nprates.studies.check import CheckedStudy
from nprates.studies.errors import StudyError
from nprates.studies.spec import Study

#: Sequences of the trial fit (fewer if the study's smallest size is smaller).
TRIAL_SIZE = 8
_TRIAL_TEST_SIZE = 16


def _trial_study(study: Study) -> Study:
    """``study`` shrunk for trial fits: one replicate of a tiny size, a tiny test set,
    and at most one epoch for estimators with a valid ``max_epochs``."""
    estimators = {}
    for label, spec in study.estimators.items():
        params = dict(spec.params)
        epochs = params.get("max_epochs")
        if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1:
            params["max_epochs"] = 1
        estimators[label] = {"class": spec.cls, "params": params}
    changes = {"replicates": 1, "test_size": min(study.test_size, _TRIAL_TEST_SIZE),
               "estimators": estimators}
    if study.kind == "capability":
        changes["train_size"] = min(study.train_size, TRIAL_SIZE)
    else:
        changes["sizes"] = [min(study.sizes[0], TRIAL_SIZE)]
    return study.replace(**changes)


def _blamed_param(params: dict, defaults: dict, message: str) -> str | None:
    """The parameter a failure message points at, when exactly one does: by its name,
    else by its value, else the one string given where the default is a number."""
    rules = (lambda k, v: re.search(rf"\b{re.escape(k)}\b", message),
             lambda k, v: not isinstance(v, bool) and re.search(
                 rf"(?<![\w.]){re.escape(str(v))}(?![\w.])", message),
             lambda k, v: isinstance(v, str) and isinstance(defaults.get(k), (int, float))
             and not isinstance(defaults.get(k), bool))
    for rule in rules:
        hits = sorted((k for k, v in params.items() if rule(k, v)),
                      key=lambda k: -len(str(params[k])))
        if len(hits) == 1 or (hits and len(str(params[hits[0]])) > len(str(params[hits[1]]))):
            return hits[0]  # the one hit, or the longest (most specific) value
    return None


def trial_fits(checked: CheckedStudy) -> None:
    """Fit every estimator once on a tiny sample (``TRIAL_SIZE`` sequences, at most one
    epoch) of its first target or task setting, through the code of a cell; raise
    StudyError naming the estimator's field when that fit fails. Diverged fits pass."""
    study = checked.study
    trial = _trial_study(study)
    first = {}
    for target, estimator, _, _ in checked.cells:
        first.setdefault(estimator, target)
    n = trial.sizes[0]
    for label, target in first.items():
        task = Task(study=trial, target=target, estimator=label, n=n, replicates=(0,),
                    device=checked.device)
        row = run_task(task)[0]
        if row["status"] != "failed":
            continue
        spec = study.estimators[label]
        cls = estimator_class(study, label)
        defaults = {p.name: p.default for p in inspect.signature(cls).parameters.values()}
        key = _blamed_param(spec.params, defaults, row["error"])
        field = f"estimators.{label}.params.{key}" if key else f"estimators.{label}"
        given = f"{spec.params[key]!r}: " if key else ""
        raise StudyError(field, f"{given}a trial fit on {n} sequences of {target!r} failed: "
                         f"{row['error']}", study.source)
