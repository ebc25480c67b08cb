"""The objects a study may name without any trust: nprates' registered study objects and
scikit-learn's public estimator classes.

A study names classes (``[estimators.*] class``) and factories (``kind = "callable"``
targets) by import path. Without trust from the person running (``nprates.studies.trust``)
a path may resolve only to:

- an object listed in ``STUDY_OBJECTS`` (nprates' target, smoothness and task classes);
- a public estimator class of ``nprates.estimators`` (the classes in its ``__all__``
  with ``fit`` and ``get_params``: a class added there is registered with it);
- a public scikit-learn estimator class (a subclass of ``sklearn.base.BaseEstimator``
  defined in scikit-learn and named by a path without private parts).

Nothing else of nprates is ever a factory, whatever is trusted: its running, storage
and command-line functions (``run_study``, ``nprates.cli.main``, ``write_cell``) would
let a study write files or start other studies.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

#: Import paths of nprates' objects a study may name, besides the estimator classes.
#: A documented factory that studies may call is registered by adding its path here.
STUDY_OBJECTS = (
    "nprates.targets:GammaSmooth",
    "nprates.targets:PiecewiseGammaSmooth",
    "nprates.smoothness:Smoothness",
    "nprates.tasks:InputCopying",
    "nprates.tasks:AssociativeRecall",
)
#: nprates packages a study's paths may import from (their public submodules too).
STUDY_PACKAGES = ("nprates.estimators", "nprates.targets", "nprates.tasks",
                  "nprates.smoothness")
#: The nprates package itself, which re-exports the target classes lazily.
ROOT = "nprates"
#: Parts of a scikit-learn module path that are never imported for a study.
_SKLEARN_EXCLUDED = ("tests", "conftest", "externals")


def is_private(path: str) -> bool:
    """Whether a dotted path has a part with a leading underscore."""
    return any(part.startswith("_") for part in path.split("."))


def under(module: str, root: str) -> bool:
    """Whether ``module`` is ``root`` or one of its submodules."""
    return module == root or module.startswith(root + ".")


def importable_module(module: str) -> bool:
    """Whether a study may import ``module`` without trust (nprates or scikit-learn)."""
    if is_private(module):
        return False
    if under(module, "sklearn"):
        return not set(module.split(".")) & set(_SKLEARN_EXCLUDED)
    return module == ROOT or any(under(module, pkg) for pkg in STUDY_PACKAGES)


@lru_cache(maxsize=1)
def _nprates_objects() -> tuple:
    objects = []
    for path in STUDY_OBJECTS:
        module, _, attr = path.partition(":")
        objects.append(getattr(importlib.import_module(module), attr))
    return tuple(objects)


@lru_cache(maxsize=1)
def estimator_classes() -> tuple[type, ...]:
    """The public estimator classes of ``nprates.estimators`` (from its ``__all__``)."""
    estimators = importlib.import_module("nprates.estimators")
    found = (getattr(estimators, name) for name in estimators.__all__)
    return tuple(obj for obj in found if isinstance(obj, type)
                 and callable(getattr(obj, "fit", None))
                 and callable(getattr(obj, "get_params", None)))


def is_sklearn_estimator(obj) -> bool:
    """A public scikit-learn estimator class (defined in scikit-learn)."""
    module = getattr(obj, "__module__", None)
    if not isinstance(obj, type) or not isinstance(module, str) or not under(module, "sklearn"):
        return False
    from sklearn.base import BaseEstimator

    return issubclass(obj, BaseEstimator) and not obj.__name__.startswith("_") \
        and not set(module.split(".")) & set(_SKLEARN_EXCLUDED)


def is_registered(obj) -> bool:
    """Whether ``obj`` is one of nprates' registered study objects or estimator classes."""
    if any(obj is known for known in _nprates_objects()):
        return True
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and under(module, "nprates.estimators") \
        and any(obj is cls for cls in estimator_classes())
