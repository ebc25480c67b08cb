"""Building a study's pieces from its spec: targets, data sets and estimators.

Everything here is deterministic given the study: targets from their construction
seeds, training data from the (target, n, replicate) streams, the test set from the
target's test stream (see ``seeds``). Targets and test sets are cached per process,
so a worker builds each once however many tasks it runs.

The functions taking a target ``slot`` accept a target label (its draw 0) or
``TARGET/draw=D`` (draw D of the class, ``seeds.draw_slot``). Estimators get their size
hyperparameters resolved for the cell's n (``nprates.studies.capacity``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from nprates.estimators.replicates import supports_batching
from nprates.studies import seeds
from nprates.studies.capacity import resolve_params
from nprates.studies.errors import StudyError
from nprates.studies.fields import did_you_mean
from nprates.studies.imports import accepted_keywords, import_object
from nprates.studies.serialise import canonical_json
from nprates.studies.tables import SMOOTHNESS_CLASS, TARGET_KINDS
from nprates.studies.trust import trusted_names

if TYPE_CHECKING:
    from nprates.studies.spec import Study

_SEED_KEYWORDS = ("seed", "random_state")
_CACHE_SIZE = 8
_targets: dict = {}
_test_sets: dict = {}


# -- targets -------------------------------------------------------------------------------

def target_seed(study: Study, slot: str) -> int:
    """The construction seed of a target draw: the target's own ``seed`` if given (draw 0;
    draw D >= 1 a stream spawned from it), else the study's target stream."""
    label, draw = seeds.split_slot(slot)
    spec = study.targets[label]
    if spec.seed is None:
        return seeds.target_seed(study.seed, label, draw)
    return spec.seed if draw == 0 else seeds.target_seed(spec.seed, label, draw)


def call(factory, params: dict, name: str, what: str):
    """``factory(**params)``; any exception becomes a StudyError naming ``name``."""
    try:
        return factory(**params)
    except StudyError:
        raise
    except Exception as exc:
        raise StudyError(name, f"{what}(...) failed: {type(exc).__name__}: {exc}") from None


def check_keywords(factory, params: dict, name: str, what: str) -> set[str] | None:
    """Refuse a keyword ``factory`` does not take (StudyError naming ``name.key``).

    Returns the accepted keywords, or None when ``factory`` takes ``**kwargs``.
    """
    accepted = accepted_keywords(factory)
    if accepted is not None:
        for key in params:
            if key not in accepted:
                raise StudyError(f"{name}.{key}", f"unknown parameter of {what}; "
                                 f"{did_you_mean(key, accepted)}expected one of "
                                 f"{', '.join(sorted(accepted))}")
    return accepted


def construct_target(study: Study, slot: str):
    """Build the target ``slot`` (a label, or ``TARGET/draw=D``) of ``study`` (not cached)."""
    label, _ = seeds.split_slot(slot)
    spec = study.targets[label]
    name = f"targets.{label}"
    seed = target_seed(study, slot)
    params = dict(spec.params)
    if spec.kind == "callable":
        factory = import_object(spec.factory, f"{name}.factory", study.trust)
        if not callable(factory):
            raise StudyError(f"{name}.factory", f"{spec.factory!r} is not callable")
        prefix = f"{name}.params"
    else:
        factory = import_object(TARGET_KINDS[spec.kind], f"{name}.kind")
        prefix = name
        if isinstance(params.get("smoothness"), dict):
            smoothness_cls = import_object(SMOOTHNESS_CLASS, f"{name}.smoothness")
            sm = dict(params["smoothness"])
            accepted = check_keywords(smoothness_cls, sm, f"{name}.smoothness", "Smoothness")
            if "seed" not in sm and accepted is not None and "seed" in accepted:
                sm["seed"] = seed
            params["smoothness"] = call(smoothness_cls, sm, f"{name}.smoothness", "Smoothness")
        if params.get("t_max") == "auto":
            params["t_max"] = auto_t_max(params.get("smoothness"), study, f"{name}.t_max")
    what = getattr(factory, "__name__", str(spec.factory))
    accepted = check_keywords(factory, params, prefix, what)
    for key in _SEED_KEYWORDS:
        if accepted is not None and key in accepted:
            params.setdefault(key, seed)
            break
    return call(factory, params, name, what)


def auto_t_max(smoothness, study: Study, name: str) -> float:
    """``t_max = "auto"``: the truncation rule of docs/theory.md section 4 at the study's
    largest n, ``(a_dagger / (2 a_dagger + 1)) log2(n_max) + 3``, so the truncated tail
    stays below every risk the study measures however large its sizes grow."""
    from nprates.smoothness import recommended_t_max

    if not hasattr(smoothness, "a_dagger"):
        raise StudyError(name, "t_max = \"auto\" needs a smoothness table to size it from")
    return recommended_t_max(smoothness, n_max=int(max(study.sizes)))


def _target_key(study: Study, slot: str) -> str:
    label, _ = seeds.split_slot(slot)
    spec = study.targets[label]
    # a factory's target is reused only under the same trust: a study that does not trust
    # its module must be refused even after a trusting one built the same target here
    trust = trusted_names(study.trust) if spec.kind == "callable" else ()
    return canonical_json([spec.to_dict(), target_seed(study, slot), list(trust)])


def build_target(study: Study, slot: str):
    """The target ``slot`` (a label, or ``TARGET/draw=D``), built once per process."""
    key = _target_key(study, slot)
    if key not in _targets:
        if len(_targets) >= _CACHE_SIZE:
            _targets.clear()
        _targets[key] = construct_target(study, slot)
    return _targets[key]


def test_set(study: Study, slot: str) -> tuple[np.ndarray, np.ndarray]:
    """The noise-free test set ``(X, f)`` of a target draw, drawn once per process."""
    key = (_target_key(study, slot), study.seed, study.test_size, study.length)
    if key not in _test_sets:
        if len(_test_sets) >= _CACHE_SIZE:
            _test_sets.clear()
        label, draw = seeds.split_slot(slot)
        X, _, f = build_target(study, slot).sample(
            study.test_size, length=study.length, noise=0.0,
            rng=seeds.test_rng(study.seed, label, draw))
        _test_sets[key] = (np.asarray(X, dtype=np.float64), np.asarray(f, dtype=np.float64))
    return _test_sets[key]


def train_set(study: Study, slot: str, n: int, replicate: int) -> tuple[np.ndarray, np.ndarray]:
    """Training data of (target draw, n, replicate): the same for every estimator."""
    label, draw = seeds.split_slot(slot)
    X, y, _ = build_target(study, slot).sample(
        n, length=study.length, noise=study.noise,
        rng=seeds.data_rng(study.seed, label, n, replicate, draw))
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)


def target_number(target, attr: str) -> float:
    """An optional numeric attribute of a target (``exponent``, ``a_dagger``), else NaN."""
    value = getattr(target, attr, None)
    try:
        value = value() if callable(value) else value
        return float(value) if value is not None else math.nan
    except Exception:
        return math.nan


# -- estimators ----------------------------------------------------------------------------

def estimator_class(study: Study, label: str):
    """The class of estimator ``label`` (StudyError naming ``nprates.estimators.LABEL.class``)."""
    return import_object(study.estimators[label].cls, f"estimators.{label}.class", study.trust)


def accepts_sequences(cls) -> bool:
    """Estimators with ``accepts_sequences = True`` take (n, T, d) and (n, L) natively."""
    return bool(getattr(cls, "accepts_sequences", False))


def needs_basis(cls) -> bool:
    """Estimators with ``needs_target_basis = True`` get the target as ``basis``."""
    return bool(getattr(cls, "needs_target_basis", False))


def make_estimator(study: Study, label: str, target, device: str, n: int | None = None):
    """An unfitted estimator: its params with size rules resolved for ``n`` (default: the
    study's smallest size), import paths resolved for the params the class lists in
    ``import_path_params``, the target basis if it needs one, the device."""
    spec = study.estimators[label]
    cls = estimator_class(study, label)
    n = study.sizes[0] if n is None else n
    params = resolve_params(spec.params, n, target_number(target, "a_dagger"),
                            f"estimators.{label}.params")
    for key in getattr(cls, "import_path_params", ()):   # e.g. ModuleRegressor's factory
        if isinstance(params.get(key), str):
            params[key] = import_object(params[key], f"estimators.{label}.params.{key}",
                                        study.trust)
    if needs_basis(cls):
        params["basis"] = target
    est = cls(**params)
    if "device" not in spec.params and "device" in params_of(est):
        est.set_params(device=device)
    return est


def params_of(est) -> dict:
    """The estimator's hyperparameters (empty if it has no ``get_params``)."""
    get = getattr(est, "get_params", None)
    return get(deep=False) if callable(get) else {}


def with_random_state(est, random_state: int):
    """Set ``random_state`` if the estimator has that hyperparameter; return it."""
    if "random_state" in params_of(est):
        est.set_params(random_state=random_state)
    return est


def batches_replicates(est) -> bool:
    """Whether ``fit_replicates`` trains this estimator's replicates in one computation."""
    return accepts_sequences(type(est)) and supports_batching(est)
