"""nprates: empirical convergence rates of sequence estimators.

Function classes with direction- and input-dependent smoothness, their theoretical
exponents, token-selection tasks, and studies that fit estimators across sample sizes.
The estimators, the analysis and the reports live in ``nprates.estimators``,
``nprates.analysis`` and ``nprates.reports``.

The names below are imported on first use, so that ``import nprates`` (and the CLI's
``--help``) does not pay for torch or scikit-learn.
"""

from importlib import import_module

__version__ = "0.1.0"

_PUBLIC = {
    "Smoothness": "nprates.smoothness",
    "recommended_t_max": "nprates.smoothness",
    "theoretical_exponent": "nprates.smoothness",
    "Study": "nprates.studies",
    "StudyError": "nprates.studies",
    "check_study": "nprates.studies",
    "load_results": "nprates.studies",
    "run_study": "nprates.studies",
    "GammaSmooth": "nprates.targets",
    "PiecewiseGammaSmooth": "nprates.targets",
    "IGNORE_INDEX": "nprates.tasks",
    "AssociativeRecall": "nprates.tasks",
    "InputCopying": "nprates.tasks",
    "TokenBatch": "nprates.tasks",
    "exact_match": "nprates.tasks",
    "token_accuracy": "nprates.tasks",
}

__all__ = [*_PUBLIC, "__version__"]


def __getattr__(name):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'nprates' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
