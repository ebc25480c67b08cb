"""Running a rate study in rounds until its exponent intervals are narrow enough.

``run_until_width`` drives ``nprates.analysis.planning.run_adaptive`` (the rule: pilot,
fit, re-plan, run the new cells, stop at half-width W or when the budget is spent)
with rounds run by ``run_study`` into one ordinary results directory. Round r runs the
study with ``sizes`` and ``replicates`` replaced by the plan's (joined with every size
and replicate the directory already holds), so every cell is an ordinary cell: same
seeds and cell keys as in the full study, resumable (a killed run keeps its finished
cells; running again resumes from them) and readable by ``nprates fit`` / ``report``.
The directory's ``study.toml`` records the last round's study.

A directory holding another study (differing in anything but sizes and replicates, e.g.
holding estimators left out by ``estimators=``) is refused. Since each round's sizes and
replicates include every size and replicate already there, no cell is ever deleted.
"""

from __future__ import annotations

import math

import pandas as pd

from nprates.analysis.planning import AdaptiveResult, run_adaptive, size_sets
from nprates.studies.errors import StudyError
from nprates.studies.spec import Study
from nprates.studies.store import ResultsStore, load_results

_ROUND_FIELDS = ("sizes", "replicates")


def select_estimators(study: Study, estimators) -> Study:
    """``study`` with only the named estimators (None or empty: all of them)."""
    if not estimators:
        return study
    unknown = [e for e in estimators if e not in study.estimators]
    if unknown:
        raise StudyError("estimators", f"unknown estimator(s) {unknown}; the study has "
                         f"{list(study.estimators)}")
    keep = {k: v.to_dict() for k, v in study.estimators.items() if k in estimators}
    return study.replace(estimators=keep)


class _Rounds:
    """``run_design`` for ``run_adaptive``: one ``run_study`` per round into ``out``."""

    def __init__(self, study: Study, out, run_kwargs: dict):
        self.study, self.out, self.run_kwargs = study, out, run_kwargs
        self.store = ResultsStore(out)

    def held(self) -> pd.DataFrame:
        if not self.store.study_file.exists():
            return pd.DataFrame(columns=["target", "estimator", "n", "replicate"])
        return load_results(self.out)

    def round_study(self, sizes, replicates) -> tuple[Study, bool]:
        """The study of a round and whether it replaces the one recorded in ``out``."""
        held = self.held()
        sizes = sorted({int(v) for v in sizes} | {int(v) for v in held["n"]})
        reps = max([int(replicates)] + [int(r) + 1 for r in held["replicate"]])
        study = self.study.replace(sizes=sizes, replicates=reps)
        if not self.store.study_file.exists():
            return study, False
        diff = self.store.stored_study().differences(study)
        other = [d for d in diff if d not in _ROUND_FIELDS]
        if other:
            raise StudyError("--out", f"{self.out} holds a different study (differs in "
                             f"{', '.join(other[:6])}); choose another directory")
        return study, bool(diff)

    def __call__(self, sizes, replicates) -> pd.DataFrame:
        from nprates.studies.runner import run_study

        study, replaces = self.round_study(sizes, replicates)
        run_study(study, self.out, force=replaces, **self.run_kwargs)
        return load_results(self.out)


def _checked(study, width, budget_hours, estimators) -> Study:
    if not isinstance(study, Study):
        study = Study.from_toml(study)
    if study.kind != "rate":
        raise StudyError("targets", "planning and adaptive runs are for rate studies "
                         "([targets.LABEL]), not capability studies")
    if not (isinstance(width, (int, float)) and math.isfinite(width) and width > 0):
        raise StudyError("width", f"must be a positive number, got {width}")
    if budget_hours is not None and not (math.isfinite(budget_hours) and budget_hours > 0):
        raise StudyError("budget_hours", f"must be a positive number, got {budget_hours}")
    return select_estimators(study, estimators)


def pilot_results(study, out, *, estimators=None, replicates: int = 2, min_sizes: int = 4,
                  **run_kwargs) -> pd.DataFrame:
    """The cells of ``study``'s (named) estimators already in ``out``, or, when there are
    none, a first pass run into ``out``: ``min_sizes`` sizes spread over the study's
    range x ``replicates`` replicates (the first round of ``run_until_width``, so a
    later adaptive run resumes from it). ``run_kwargs`` go to ``run_study``."""
    study = _checked(study, 1.0, None, estimators)
    rounds = _Rounds(study, out, run_kwargs)
    held = rounds.held()
    held = held[held["estimator"].isin(list(study.estimators))]
    if len(held):
        return held
    return rounds(size_sets(study.sizes, (), min_sizes)[0], replicates)


def run_until_width(study, out, width: float, budget_hours=None, *, estimators=None,
                    level: float = 0.95, max_rounds: int = 8, executor=None,
                    workers: int | None = None, scheduler: str | None = None,
                    device: str | None = None, progress: bool | None = None, trust=(),
                    on_round=None) -> AdaptiveResult:
    """Run ``study`` in rounds into ``out`` until every (target, estimator) exponent
    interval has half-width at most ``width`` or ``budget_hours`` of compute (the sum
    of ``fit_seconds`` of the estimators' cells in ``out``) are spent.

    study : Study or path to a TOML file (a rate study); estimators : names to run and
    judge (default: all). Other keywords go to ``run_study`` (executor, workers,
    scheduler, device, progress, trust) and ``run_adaptive`` (level, max_rounds, on_round).
    Returns the ``AdaptiveResult``; its ``stopped_by`` says which condition ended it.
    """
    study = _checked(study, width, budget_hours, estimators)
    rounds = _Rounds(study, out, dict(executor=executor, workers=workers, scheduler=scheduler,
                                      device=device, progress=progress, trust=trust))
    budget = None if budget_hours is None else 3600.0 * float(budget_hours)
    return run_adaptive(rounds, float(width), list(study.sizes), budget_seconds=budget,
                        estimators=list(study.estimators), level=level,
                        max_rounds=max_rounds, seed=study.seed, on_round=on_round)
