"""Common-range paired comparisons, the class and conditional estimands, the heterogeneity
test across draws, the plateau rule on risk / null_risk, and the lr-limited reason."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nprates.analysis import check_theory, compare_rates, fit_rate, simulate_curves
from nprates.analysis.variance_components import slope_components


def with_plateau(t, estimator, sizes):
    """Mark ``estimator``'s cells at ``sizes`` as plateau (risk 0.9 of a null risk 1)."""
    t = t.assign(null_risk=1.0)
    sel = (t["estimator"] == estimator) & t["n"].isin(sizes)
    t.loc[sel, "risk"] = 0.9
    return t


def test_common_range_uses_sizes_where_both_are_off_the_plateau():
    t = simulate_curves({"a": 0.6, "b": 0.6}, replicates=4, noise=0.1, seed=1, scale=0.05)
    t = with_plateau(t, "b", [100, 215])
    c = compare_rates(t, "a", "b", n_boot=200)
    assert c.sizes == [464, 1000, 2154, 4642, 10000] and c.common_range
    assert c.fit_a.sizes == c.fit_b.sizes == c.sizes
    assert "b is on the plateau at n = 100, 215" in c.sizes_why
    assert c.ci[0] < 0 < c.ci[1] and c.estimand == "conditional"  # one draw
    sep = compare_rates(t, "a", "b", n_boot=200, common_range=False)
    assert sep.fit_a.sizes[0] == 100 and sep.fit_b.sizes[0] == 464 and not sep.common_range
    text = c.summary().as_text()
    assert "Sizes compared: n = 464, 1000" in text and "p-value, diff = 0" in text
    assert "P(equal" not in text


def test_common_range_names_an_optimisation_limited_size_apart_from_the_plateau():
    """A size below the plateau level but optimisation-limited (optimisation gap above
    half its risk) before the curve leaves the plateau is left out, and the reason says
    which it is; a size above the level stays "on the plateau"."""
    t = simulate_curves({"a": 0.6, "b": 0.6}, replicates=4, noise=0.1, seed=1, scale=0.05)
    t = with_plateau(t, "b", [100])
    t["stopped_by"] = "patience"
    t["opt_gap"] = 0.1 * t["risk"]
    held = (t["estimator"] == "b") & (t["n"] == 215)
    t.loc[held, "opt_gap"] = 0.8 * t.loc[held, "risk"]
    c = compare_rates(t, "a", "b", n_boot=200)
    assert c.sizes == [464, 1000, 2154, 4642, 10000]
    assert "b is on the plateau at n = 100;" in c.sizes_why
    assert "b is optimisation-limited at n = 215, before it leaves the plateau" in c.sizes_why
    # past the first clean size an optimisation-limited size stays in (the fit is flagged)
    t.loc[held, "opt_gap"] = 0.1 * t.loc[held, "risk"]
    late = (t["estimator"] == "b") & (t["n"] == 1000)
    t.loc[late, "opt_gap"] = 0.8 * t.loc[late, "risk"]
    assert compare_rates(t, "a", "b", n_boot=200).sizes == [215, 464, 1000, 2154, 4642, 10000]


def test_paired_difference_is_the_slope_of_the_log_ratio():
    t = simulate_curves({"a": 0.5, "b": 0.7}, replicates=3, noise=0.2, seed=2, draws=4,
                        draw_sd=0.05)
    c = compare_rates(t, "a", "b", n_boot=200)
    piv = t.pivot_table(index=["draw", "n"], columns="estimator", values="risk",
                        aggfunc=lambda r: np.mean(np.log(r)))
    ratio = (piv["a"] - piv["b"]).unstack("n")
    x = np.log(ratio.columns.to_numpy(dtype=float))
    per_draw = [-np.polyfit(x, row, 1)[0] for row in ratio.to_numpy()]
    assert c.estimands["class"]["estimate"] == pytest.approx(np.mean(per_draw))
    assert c.estimands["class"]["se"] == pytest.approx(np.std(per_draw, ddof=1) / 2)
    assert c.estimands["class"]["df"] == 3 and c.estimand == "class" and c.df == 3
    assert c.estimands["conditional"]["se"] < c.estimands["class"]["se"] * 5
    assert c.verdict == "different" and c.faster == "b"
    d = json.loads(json.dumps(c.to_dict(), allow_nan=False))
    assert d["estimands"]["class"]["df"] == 3 and d["sizes"] == c.sizes


def test_class_interval_is_exact_t_over_draws_and_conditional_is_narrower():
    t = simulate_curves(0.6, replicates=3, noise=0.1, seed=3, draws=5, draw_sd=0.1)
    f = fit_rate(t, n_boot=200)
    own = f.draw_exponents["exponent"].to_numpy()
    q = 2.7764451051977987  # t_{0.975, 4}
    half = q * own.std(ddof=1) / math.sqrt(5)
    assert f.ci == pytest.approx((own.mean() - half, own.mean() + half))
    assert f.estimands["class"]["ci"] == pytest.approx(f.ci)
    cond = f.estimands["conditional"]
    assert cond["estimate"] == pytest.approx(f.exponent) and cond["se"] < f.se / 3
    assert f.variance["between"] > 5 * f.variance["within"]
    assert f.variance["heterogeneity"]["p_value"] < 1e-6
    assert abs(f.variance["mixedlm"]["exponent"] - f.exponent) < 0.01
    text = f.summary().as_text()
    assert "class (draws random)" in text and "given the drawn functions" in text
    assert "equal exponents across draws: F =" in text


def test_heterogeneity_test_holds_its_level_without_draw_spread():
    rng = np.random.default_rng(0)
    x = np.log(np.array([100, 300, 1000, 3000.0]))
    p = []
    for _ in range(300):
        Y = -0.6 * x[:, None] + 0.2 * rng.standard_normal((4, 12))
        p.append(slope_components(Y, x, np.repeat(np.arange(6), 2), mixedlm=False)
                 ["heterogeneity"]["p_value"])
    assert 0.02 < np.mean(np.array(p) < 0.05) < 0.09


def test_mixedlm_note_names_a_boundary_fit_not_few_draws():
    """30 draws with equal slopes and one cell per (draw, size), as in the decisive study:
    REML puts the slope variance at its boundary; the note says so rather than blaming
    the number of draws, and a clean fit carries no note."""
    from nprates.analysis.variance_components import _mixedlm_note

    rng = np.random.default_rng(1)
    x = np.log(np.array([689, 1485, 3200.0]))
    Y = -0.6 * x[:, None] + 0.2 * rng.standard_normal((3, 30))
    m = slope_components(Y, x, np.arange(30))["mixedlm"]
    assert m["note"].startswith("on the boundary of its parameter space")
    assert m["between"] < 0.01 and abs(m["exponent"] - 0.6) < 0.15
    assert _mixedlm_note(False, []) == "did not converge"
    assert _mixedlm_note(True, []) == ""
    assert _mixedlm_note(True, ["x"]) == "converged with a warning: x"


def test_plateau_rule_uses_the_level_and_optimisation():
    t = simulate_curves(0.6, replicates=5, noise=0.05, seed=4, scale=0.5)
    t["null_risk"] = 1.0
    f = fit_rate(t, n_boot=200)  # 0.5 * 100^-0.6 = 0.031: every size is off
    assert f.excluded_sizes == []
    t2 = t.assign(null_risk=t["risk"] / 0.15)  # risk 0.15 of the null at every size...
    t2.loc[t2["n"] >= 1000, "null_risk"] = t2["risk"] / 0.05  # ...but 0.05 from 1000 on
    assert fit_rate(t2, n_boot=200).excluded_sizes == [100, 215, 464]
    t3 = t.assign(stopped_by="early_stopping")
    t3.loc[t3["n"] == 100, "stopped_by"] = "cap"  # a leading optimisation-limited size
    assert fit_rate(t3, n_boot=200).excluded_sizes == [100]


def test_lr_edge_share_adds_the_lr_limited_reason():
    t = simulate_curves({"a": 0.6, "b": 0.6}, replicates=5, noise=0.1, seed=5)
    f = fit_rate(t, estimator="a", n_boot=200)
    assert not f.optimisation["lr_limited"] and math.isnan(f.optimisation["lr_edge_share"])
    t["lr_edge"] = False
    assert math.isnan(fit_rate(t, estimator="a", n_boot=200).optimisation["lr_edge_share"])
    t["lr_grid"] = "[0.003, 0.01]"  # cells that record their final grid
    t.loc[t.index[:4], "lr_edge"] = True  # 4 of 35 cells of a: 11%
    f = fit_rate(t, estimator="a", n_boot=200)
    assert f.optimisation["lr_edge_share"] == pytest.approx(4 / 35)
    assert check_theory(f, 0.6).verdict.endswith("(lr-limited)")
    c = compare_rates(t, "a", "b", n_boot=200)
    assert "lr-limited" in c.reasons and "lr-limited" in c.summary().as_text()
    t.loc[t.index[:1], "lr_edge"] = False  # 3 of 35: under 10%
    assert not fit_rate(t, estimator="a", n_boot=200).optimisation["lr_limited"]
