"""nprates: empirical convergence rates of sequence estimators.

Function classes with direction- and input-dependent smoothness, their theoretical
exponents, token-selection tasks, and studies that fit estimators across sample sizes.
"""

from nprates.smoothness import Smoothness, recommended_t_max, theoretical_exponent
from nprates.studies import Study, StudyError, load_results, run_study
from nprates.targets import GammaSmooth, PiecewiseGammaSmooth
from nprates.tasks import (IGNORE_INDEX, AssociativeRecall, InputCopying, TokenBatch,
                           exact_match, token_accuracy)

__version__ = "0.1.0"

__all__ = ["Smoothness", "GammaSmooth", "PiecewiseGammaSmooth", "theoretical_exponent",
           "Study", "StudyError", "run_study", "load_results",
           "recommended_t_max", "InputCopying", "AssociativeRecall", "TokenBatch", "IGNORE_INDEX",
           "token_accuracy", "exact_match", "__version__"]
