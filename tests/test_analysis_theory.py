"""check_theory: verdicts against the theoretical exponent."""

from __future__ import annotations

import json
import numpy as np
import pytest

from nprates.analysis import TheoryCheck, check_theory, fit_rate, simulate_curves


def fit(exponent, **kw):
    kw.setdefault("replicates", 5)
    kw.setdefault("noise", 0.15)
    kw.setdefault("seed", 1)
    return fit_rate(simulate_curves(exponent, **kw))


def test_consistent():
    c = check_theory(fit(0.667), 0.667)
    assert isinstance(c, TheoryCheck)
    assert c.status == "consistent" and c.contains and not c.rejected
    assert "Consistent" in c.verdict
    json.dumps(c.to_dict(), allow_nan=False)
    assert "Theory check" in c.summary()


def test_slower_with_polylog_explanation():
    f = fit(0.667, polylog_k=2.0)
    c = check_theory(f, 0.667)
    assert c.status == "slower" and c.rejected and c.p_value < 0.05
    assert "(log n)^k" in c.verdict and "polylog" in c.verdict
    assert c.polylog_k_needed == pytest.approx(2.0, abs=0.6)
    # fitting with the factor removes the gap
    fp = fit_rate(simulate_curves(0.667, replicates=5, noise=0.15, seed=1, polylog_k=2.0),
                  method="polylog", polylog_k=2.0)
    assert check_theory(fp, 0.667).status == "consistent"


def test_faster_is_not_a_contradiction():
    c = check_theory(fit(0.9), 0.667)
    assert c.status == "faster" and not c.rejected
    assert "upper bound" in c.verdict


def test_inconclusive_when_interval_is_wide():
    f = fit(0.6, sizes=[100, 200, 400, 800], replicates=2, noise=1.0, seed=3)
    c = check_theory(f, 0.6)
    assert c.status == "inconclusive" and c.width > 0.4
    assert "Caution" in c.verdict  # the fit warns about its short span


def test_tolerance_and_one_sided_p():
    f = fit(0.62, noise=0.05)
    strict = check_theory(f, 0.667, tolerance=0.0)
    loose = check_theory(f, 0.667, tolerance=0.1)
    assert strict.p_value < loose.p_value
    assert loose.status == "consistent" and not loose.rejected


def test_default_from_column_and_missing():
    t = simulate_curves(0.6, replicates=3, noise=0.1, seed=1, theory_exponent=0.6)
    assert check_theory(fit_rate(t)).exponent == pytest.approx(0.6)
    t["theory_exponent"] = np.nan
    with pytest.raises(ValueError, match="theoretical exponent"):
        check_theory(fit_rate(t))
    with pytest.raises(ValueError, match="tolerance"):
        check_theory(fit_rate(t), 0.6, tolerance=-1)
