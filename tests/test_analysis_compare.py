"""compare_rates: paired comparison, equivalence, risk ratios."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from nprates.analysis import RateComparison, compare_rates, risk_ratios, simulate_curves


def test_same_exponent_is_comparable():
    t = simulate_curves({"ssm": 0.6, "transformer": 0.6}, replicates=5, noise=0.2, seed=11)
    c = compare_rates(t, "ssm", "transformer")
    assert isinstance(c, RateComparison)
    assert c.verdict == "comparable" and c.comparable
    assert c.p_equivalence < 0.05
    assert c.ci[0] < 0 < c.ci[1]
    assert c.equivalence_ci[0] > -0.1 and c.equivalence_ci[1] < 0.1
    assert c.pairing == "shared data seeds" and c.n_pairs == 35


def test_exponents_03_apart_are_not_comparable():
    t = simulate_curves({"ssm": 0.4, "transformer": 0.7}, replicates=5, noise=0.2, seed=12)
    c = compare_rates(t, "ssm", "transformer")
    assert c.verdict == "different" and not c.comparable
    assert c.p_value < 0.001
    assert c.ci[0] < -0.3 + 0.12 and c.ci[1] < -0.15
    assert c.faster == "transformer"
    assert c.difference == pytest.approx(c.exponent_a - c.exponent_b)


def test_inconclusive_with_too_little_data():
    t = simulate_curves({"a": 0.5, "b": 0.6}, sizes=[100, 300, 1000], replicates=2,
                        noise=1.0, seed=3)
    c = compare_rates(t, "a", "b")
    assert c.verdict == "inconclusive"
    assert "Inconclusive" in c.summary().as_text()


def test_risk_ratio_per_size():
    t = simulate_curves({"a": 0.5}, replicates=5, noise=0.1, seed=1)
    u = simulate_curves({"b": 0.5}, replicates=5, noise=0.1, seed=2, scale=2.0)
    c = compare_rates(pd.concat([t, u]), "a", "b")
    rr = c.risk_ratio
    assert list(rr["n"]) == sorted(set(t["n"]))
    assert np.all(rr["ci_low"] < rr["ratio"]) and np.all(rr["ratio"] < rr["ci_high"])
    assert np.mean((rr["ci_low"] < 0.5) & (0.5 < rr["ci_high"])) >= 5 / 7
    assert rr["paired"].all()  # paired by (n, replicate)
    assert c.pairing == "different data seeds"  # simulated with different seeds
    assert any("do not share training data" in w for w in c.warnings)


def test_risk_ratios_pair_by_draw_and_replicate_and_keep_plateau_sizes():
    t = simulate_curves({"a": 0.5, "b": 0.5}, replicates=4, noise=0.2, seed=3, draws=2,
                        draw_sd=0.05)
    unit = ["n", "draw", "replicate"]
    a_risk = t[t["estimator"] == "a"].set_index(unit)["risk"]
    is_b = t["estimator"] == "b"
    b_units = pd.MultiIndex.from_frame(t.loc[is_b, unit])
    t.loc[is_b, "risk"] = 3.0 * a_risk.reindex(b_units).to_numpy()   # 3 x a's risk per unit
    t.loc[t["n"] == t["n"].min(), "trivial"] = True  # a plateau size: still has a ratio
    rr = risk_ratios(t, "a", "b", level=0.9)
    assert list(rr["n"]) == sorted(set(t["n"]))
    assert np.allclose(rr["ratio"], 1 / 3)
    assert (rr["n_pairs"] == 8).all() and rr["paired"].all()
    # an ordinary ratio: its value and interval by hand, at one size
    u = simulate_curves({"a": 0.5, "b": 0.6}, replicates=6, noise=0.3, seed=4, draws=2)
    n = sorted(set(u["n"]))[3]
    sub = u[u["n"] == n].pivot_table(index=["draw", "replicate"], columns="estimator",
                                     values="risk")
    d = np.log(sub["a"]) - np.log(sub["b"])
    half = 2.2009851600916384 * d.std(ddof=1) / math.sqrt(len(d))   # t_{0.975, 11}
    row = risk_ratios(u, "a", "b", cluster="unit").set_index("n").loc[n]   # given the draws
    assert row["ratio"] == pytest.approx(math.exp(d.mean()))
    assert row["ci_low"] == pytest.approx(math.exp(d.mean() - half))
    assert row["ci_high"] == pytest.approx(math.exp(d.mean() + half))
    assert row["clustered_by"] == "unit"
    # the default clusters by draw: t over the 2 per-draw mean log ratios, 1 df
    means = d.groupby(level="draw").mean()
    half = 12.706204736174698 * means.std(ddof=1) / math.sqrt(2)     # t_{0.975, 1}
    row = risk_ratios(u, "a", "b").set_index("n").loc[n]
    assert row["ratio"] == pytest.approx(math.exp(means.mean()))
    assert row["ci_low"] == pytest.approx(math.exp(means.mean() - half))
    assert row["ci_high"] == pytest.approx(math.exp(means.mean() + half))
    assert row["clustered_by"] == "draw" and row["n_draws"] == 2
    with pytest.raises(ValueError, match="cluster must be one of"):
        risk_ratios(u, "a", "b", cluster="replicate")
    with pytest.raises(ValueError, match="two different estimator names"):
        risk_ratios(u, "a", "a")
    with pytest.raises(ValueError, match="level"):
        risk_ratios(u, "a", "b", level=95)
    # a ratio needs no rate: one size, or a constant risk, is enough; no successful cell is not
    one = u[u["n"] == n]
    assert list(risk_ratios(one, "a", "b")["n"]) == [n]
    flat = u.assign(risk=np.where(u["estimator"] == "a", 0.2, 0.1))
    assert np.allclose(risk_ratios(flat, "a", "b")["ratio"], 2.0)
    with pytest.raises(ValueError, match="estimator 'a' .* no successful fit"):
        risk_ratios(u.assign(status=np.where(u["estimator"] == "a", "failed", "ok")), "a", "b")


def test_pairing_cancels_shared_noise():
    base = simulate_curves(0.5, replicates=5, noise=0.3, seed=5, estimator="a")
    b = base.assign(estimator="b", risk=base["risk"] * 1.5)  # same noise, same exponent
    c = compare_rates(pd.concat([base, b]), "a", "b")
    assert c.se < 1e-9 and abs(c.difference) < 1e-9
    assert c.verdict == "comparable"
    b2 = b.assign(data_seed="other:" + b["data_seed"])
    assert compare_rates(pd.concat([base, b2]), "a", "b").pairing == "different data seeds"



def test_pairing_is_judged_within_each_target_draw():
    """Draws reuse (n, replicate): the training sets of a and b are matched per draw, so
    shared seeds read as shared however many draws there are."""
    t = simulate_curves({"a": 0.5, "b": 0.5}, replicates=3, noise=0.2, seed=3, draws=3,
                        draw_sd=0.05)
    assert compare_rates(t, "a", "b", n_boot=200).pairing == "shared data seeds"
    is_b = t["estimator"] == "b"
    t.loc[is_b & (t["draw"] == 2), "data_seed"] = "other"
    c = compare_rates(t, "a", "b", n_boot=200)
    assert c.pairing == "different data seeds"
    assert any("do not share training data" in w for w in c.warnings)


def test_failed_cells_and_summary():
    t = simulate_curves({"a": 0.5, "b": 0.55}, replicates=4, noise=0.2, seed=7,
                        fail_rate=0.1)
    c = compare_rates(t, "a", "b", margin=0.15)
    text = c.summary().as_text()
    for part in ("Convergence rate comparison", "diff a-b, given", "Risk ratio", "Verdict:",
                 "+-0.15"):
        assert part in text
    json.dumps(c.to_dict(), allow_nan=False)
    assert c.n_pairs == int(((t[t.estimator == "a"].status == "ok").to_numpy()
                             & (t[t.estimator == "b"].status == "ok").to_numpy()).sum())
    assert c.fit_a.n_failed + c.fit_b.n_failed == int((t.status != "ok").sum())


def test_compare_bad_input():
    t = simulate_curves({"a": 0.5, "b": 0.55}, replicates=3, noise=0.2, seed=7)
    with pytest.raises(ValueError, match="unknown estimator 'zzz'"):
        compare_rates(t, "a", "zzz")
    with pytest.raises(ValueError, match="different estimators"):
        compare_rates(t, "a", "a")
    with pytest.raises(ValueError, match="margin"):
        compare_rates(t, "a", "b", margin=0)
    two = pd.concat([t, t.assign(target="other")])
    with pytest.raises(ValueError, match="target="):
        compare_rates(two, "a", "b")
    assert compare_rates(two, "a", "b", target="other").target == "other"


def test_offset_comparison_runs():
    t = simulate_curves({"a": 0.5, "b": 0.5}, replicates=4, noise=0.1, seed=7, offset=1e-3)
    c = compare_rates(t, "a", "b", method="offset", n_boot=300)
    assert math.isfinite(c.se) and c.method == "offset"
