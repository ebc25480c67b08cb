"""Planning a class comparison (draws x replicates x sizes) and the coverage of the class
and conditional intervals over target draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nprates.analysis import simulate_curves
from nprates.analysis.planning import design_power, plan_comparison
from nprates.analysis.simulate import estimand_coverage


def test_class_interval_covers_at_its_level():
    r = estimand_coverage(8, 1, n_sim=400, seed=1)
    assert abs(r["class_coverage"] - 0.95) < 0.035      # 400 sims: se 0.011
    assert abs(r["conditional_coverage"] - 0.95) < 0.035


def test_design_power_formula():
    p = design_power([100, 1000], 1, 10, between=0.01, cell_var=0.02, margin=0.1)
    c2 = 2 / math.log(10) ** 2  # sum of squared slope contrasts over two sizes
    se = math.sqrt((0.01 + 0.02 * c2) / 10)
    assert p["se"] == pytest.approx(se) and p["df"] == 9
    assert 0 < p["power"] < 1


def test_plan_comparison_prefers_draws_over_replicates():
    t = simulate_curves({"a": 0.6, "b": 0.6}, replicates=2, noise=0.2, seed=2, draws=4,
                        draw_sd=0.1)
    t["fit_seconds"] = t["n"] / 100.0
    plan = plan_comparison(t, "a", "b", margin=0.1, power=0.8)
    assert plan.reached and plan.replicates == 1
    assert plan.predicted["power"].min() >= 0.8
    assert (plan.designs["replicates"] == 1).any() and len(plan.designs) >= 4
    assert "designs compared" in plan.summary()
    tight = plan_comparison(t, "a", "b", power=0.8, budget_seconds=plan.seconds / 4)
    assert not tight.reached and tight.seconds <= plan.seconds / 4
    with pytest.raises(ValueError, match="power"):
        plan_comparison(t, "a", "b", power=1.5)
