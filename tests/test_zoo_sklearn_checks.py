"""scikit-learn's own estimator checks on MixerRegressor and ModuleRegressor, through the
one-token view of tests/test_sklearn_checks.py (2-D X read as one-token sequences).

Slow (about 30 s); the default run keeps the fast contract tests (clone, parameters,
refused arguments) in test_mixer_estimators.py and test_module_estimator.py."""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from nprates.estimators import MixerRegressor, ModuleRegressor
from test_module_estimator import make_gru
from test_sklearn_checks import (EXPECTED_FAILURES, FAST_NEURAL, TRANSFORMER_EXPECTED,
                                 one_token_view)

pytestmark = pytest.mark.slow


def _with_poor_score(view):
    """Three epochs are not meant to fit well: scikit-learn's ``poor_score`` tag, as the
    one-token view sets it for the built-in networks."""
    own = view.__sklearn_tags__

    def tags(self):
        t = own(self)
        t.regressor_tags.poor_score = True
        return t

    view.__sklearn_tags__ = tags
    return view


MixerOneToken = _with_poor_score(one_token_view(MixerRegressor))
ModuleOneToken = _with_poor_score(one_token_view(ModuleRegressor))
REGRESSORS = [
    MixerOneToken("ssd", 8, 1, d_state=4, n_heads=2, fnn_width=8, **FAST_NEURAL),
    MixerOneToken("hyena", 8, 1, filter_width=8, fnn_width=8, **FAST_NEURAL),
    ModuleOneToken(make_gru, 8, **FAST_NEURAL),
]


def expected_failures(estimator) -> dict:
    """As for the built-in networks; SSD's einsum products, like attention's, round
    differently for different numbers of sequences per call (float32)."""
    if getattr(estimator, "mixer", None) == "ssd":
        return {**EXPECTED_FAILURES, **TRANSFORMER_EXPECTED}
    return EXPECTED_FAILURES


@parametrize_with_checks(REGRESSORS, expected_failed_checks=expected_failures)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
