"""check_theory: equivalence verdicts against the theoretical exponent, with reasons."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nprates.analysis import TheoryCheck, check_theory, fit_all, fit_rate, simulate_curves
from nprates.analysis.simulate import verdict_rates


def fit(exponent, **kw):
    kw.setdefault("replicates", 5)
    kw.setdefault("noise", 0.15)
    kw.setdefault("seed", 1)
    return fit_rate(simulate_curves(exponent, **kw))


def test_consistent_is_an_equivalence():
    c = check_theory(fit(0.667), 0.667)
    assert isinstance(c, TheoryCheck)
    assert c.status == "consistent" and c.verdict == "consistent" and c.reason == ""
    lo, hi = c.equivalence_ci
    assert 0.567 < lo and hi < 0.767 and c.p_equivalence < 0.05
    assert "Consistent" in c.explanation
    json.dumps(c.to_dict(), allow_nan=False)
    assert "Theory check" in c.summary().as_text()


def test_default_tolerance_matches_compare_margin():
    import inspect

    from nprates.analysis import compare_rates
    margin = inspect.signature(compare_rates).parameters["margin"].default
    assert inspect.signature(check_theory).parameters["tolerance"].default == margin == 0.1


def test_slower_with_polylog_explanation():
    f = fit(0.667, polylog_k=2.0)
    c = check_theory(f, 0.667)
    assert c.status == "slower" and c.p_value < 0.05 and c.ci[1] < 0.667
    assert "(log n)^k" in c.explanation and "plausible" not in c.explanation
    assert c.polylog_k_needed == pytest.approx(2.0, abs=0.6)
    # fitting with the factor removes the gap
    fp = fit_rate(simulate_curves(0.667, replicates=5, noise=0.15, seed=1, polylog_k=2.0),
                  method="polylog", polylog_k=2.0)
    assert check_theory(fp, 0.667).status == "consistent"


def test_faster():
    c = check_theory(fit(0.9), 0.667)
    assert c.status == "faster" and c.ci[0] > 0.667
    assert "upper bound" in c.explanation


def test_wide_interval_containing_theory_is_inconclusive():
    f = fit(0.6, sizes=[100, 200, 400, 800], replicates=2, noise=1.0, seed=3)
    c = check_theory(f, 0.6)
    assert c.contains and c.status == "inconclusive" and c.width > 0.2
    assert "Caution" in c.explanation  # the fit warns about its short span


def test_tolerance_decides_equivalence():
    f = fit(0.62, noise=0.05)
    strict = check_theory(f, 0.667, tolerance=0.0)
    loose = check_theory(f, 0.667, tolerance=0.1)
    assert strict.status == "slower" and loose.status == "consistent"
    assert strict.p_equivalence > loose.p_equivalence


def test_curvature_makes_the_verdict_inconclusive():
    f = fit(0.667, drift=0.6, noise=0.05)
    assert f.curvature["flag"] == "pre-asymptotic"
    c = check_theory(f, 0.667)
    assert c.status == "inconclusive" and c.reason == "pre-asymptotic"
    assert c.verdict == "inconclusive (pre-asymptotic)"
    assert c.data_status in ("consistent", "faster", "slower", "inconclusive")
    assert "curvature" in c.explanation


def test_cap_limited_cells_make_the_verdict_inconclusive():
    t = simulate_curves(0.667, replicates=5, noise=0.15, seed=1)
    t["stopped_by"] = "early_stopping"
    assert check_theory(fit_rate(t), 0.667).verdict == "consistent"
    # 5 of 35 cells: 14% > 10%, at the largest n (cap-limited cells at the smallest n
    # would be left out as the plateau)
    t.loc[t.index[-5:], "stopped_by"] = "cap"
    f = fit_rate(t)
    assert f.optimisation["limited"] and f.optimisation["cap_share"] == pytest.approx(5 / 35)
    c = check_theory(f, 0.667)
    assert c.verdict == "inconclusive (optimisation-limited)" and c.data_status == "consistent"
    t.loc[t.index[-5:-2], "stopped_by"] = "early_stopping"  # 2 of 35: under 10%
    assert check_theory(fit_rate(t), 0.667).status == "consistent"


def test_optimisation_gap_rule():
    t = simulate_curves(0.667, replicates=5, noise=0.15, seed=1)
    t["stopped_by"] = "early_stopping"                  # cells trained by an optimiser
    t["opt_gap"] = 0.4 * t["risk"]
    assert not fit_rate(t).optimisation["limited"]
    t["opt_gap"] = 0.6 * t["risk"]
    f = fit_rate(t)
    assert f.optimisation["gap_ratio"] == pytest.approx(0.6)
    assert check_theory(f, 0.667).reason == "optimisation-limited"
    # where opt_gap is missing, train_loss - noise**2 stands in for it
    t["opt_gap"] = np.nan
    t["noise"] = 0.1
    t["train_loss"] = 0.01 + 0.9 * t["risk"]
    assert fit_rate(t).optimisation["limited"]
    # a closed-form fit (k-NN, kernel ridge, least squares) records no stopped_by: its
    # training error is statistical error, not an optimisation that failed
    t["stopped_by"] = ""
    assert not fit_rate(t).optimisation["limited"]


def test_fit_all_verdict_column_is_the_check_verdict():
    t = simulate_curves(0.667, replicates=5, noise=0.15, seed=1, theory_exponent=0.667)
    t["stopped_by"] = "cap"
    row = fit_all(t, n_boot=300).iloc[0]
    assert row["verdict"] == check_theory(fit_rate(t, n_boot=300)).verdict
    assert row["verdict"] == "inconclusive (optimisation-limited)"
    assert row["reason"] == "optimisation-limited"


def test_verdict_rates_on_known_truth():
    """Small version of benchmarks/bench_calibration.py --verdicts (the full run uses
    thousands of studies): 7 sizes over 2 decades, 5 replicates, noise sd 0.15."""
    below = verdict_rates(0.667 - 0.117, 0.667, n_sim=40, n_boot=300, seed=1)
    equal = verdict_rates(0.667, 0.667, n_sim=40, n_boot=300, seed=2)
    assert below.get("consistent", 0.0) <= 0.05
    assert equal.get("consistent", 0.0) >= 0.8


def test_default_from_column_and_missing():
    t = simulate_curves(0.6, replicates=3, noise=0.1, seed=1, theory_exponent=0.6)
    assert check_theory(fit_rate(t)).exponent == pytest.approx(0.6)
    t["theory_exponent"] = np.nan
    with pytest.raises(ValueError, match="theoretical exponent"):
        check_theory(fit_rate(t))
    with pytest.raises(ValueError, match="tolerance"):
        check_theory(fit_rate(t), 0.6, tolerance=-1)
