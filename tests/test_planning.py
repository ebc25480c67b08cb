"""Planning rate studies: the predicted half-width, the pilot's models, the design and the
adaptive rule on simulated studies (``nprates.analysis.planning``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nprates.analysis import fit_rate, simulate_curves
from nprates.analysis.planning import (CostModel, SimulatedStudy, design_half_width,
                                       fixed_design, log_risk_spread, look_level, plan_study,
                                       run_adaptive, size_sets)

GRID = [64, 128, 256, 512, 1024, 2048]


def test_predicted_half_width_matches_the_fit():
    widths = []
    for i in range(40):
        table = simulate_curves(0.6, sizes=GRID, replicates=5, noise=0.2, seed=i)
        fit = fit_rate(table, n_boot=200, seed=i, second_opinion=False)
        widths.append((fit.ci[1] - fit.ci[0]) / 2)
    predicted = design_half_width(GRID, 5, 0.2)
    assert np.mean(widths) == pytest.approx(predicted, rel=0.12)


def test_half_width_shapes_and_limits():
    one = design_half_width(GRID, 10, 0.2)
    many = design_half_width(GRID, np.array([[10] * 6, [40] * 6]), 0.2)
    assert many.shape == (2,) and many[0] == pytest.approx(one)
    assert many[1] < one / 1.9  # about 1 / sqrt(4), with a smaller t quantile
    assert design_half_width(GRID, 1, 0.2) == math.inf
    assert design_half_width(GRID, 10, 0.2, level=0.99) > one


def test_pilot_models_recover_cost_and_spread():
    table = SimulatedStudy(0.5, noise=0.3, cost_scale=2e-3, cost_power=1.5, seed=1)(GRID, 30)
    cost = CostModel.from_results(table)
    assert cost.power["sim"] == pytest.approx(1.5, abs=0.05)
    assert cost.seconds("sim", 1000) == pytest.approx(2e-3 * 1000 ** 1.5, rel=0.1)
    spread = log_risk_spread(table)
    assert spread["sd"].iloc[0] == pytest.approx(0.3, rel=0.15)  # about 3 standard errors
    assert spread["df"].iloc[0] == 6 * 29
    with pytest.raises(ValueError, match="fit_seconds"):
        CostModel.from_results(table.assign(fit_seconds=np.nan))
    with pytest.raises(ValueError, match=">= 2 successful replicates"):
        log_risk_spread(table[table["replicate"] == 0])


def test_size_sets_keep_the_range_and_held_sizes():
    sets = size_sets(GRID, keep=[128])
    assert all(len(s) >= 4 and s[0] == 64 and s[-1] == 2048 and 128 in s for s in sets)
    assert sets[-1] == tuple(GRID)
    small = size_sets([100, 10000])
    assert len(small[0]) == 4 and small[0][0] == 100 and small[0][-1] == 10000


def test_plan_reaches_the_width_at_least_cost():
    pilot = SimulatedStudy(0.6, noise=0.2, seed=2)([64, 256, 512, 2048], 3)
    plan = plan_study(pilot, width=0.05, sizes=GRID)
    assert plan.reached and plan.reason == "width"
    assert plan.predicted_half_width <= 0.05 and len(plan.sizes) >= 4
    assert plan.sizes[0] == 64 and plan.sizes[-1] == 2048
    sd = plan.pairs["sd"].iloc[0]
    # one replicate fewer on the same sizes would not reach it
    assert design_half_width(plan.sizes, plan.replicates - 1, sd) > 0.05
    # no other candidate reaching W is cheaper
    for sel in size_sets(GRID, keep=[64, 256, 512, 2048]):
        r = next(r for r in range(3, 1000) if design_half_width(sel, r, sd) <= 0.05)
        seconds = sum(plan.cost_model.seconds("sim", n) * (r - (3 if n in (64, 256, 512, 2048)
                                                                 else 0)) for n in sel)
        assert seconds >= plan.new_seconds - 1e-9
    text = plan.summary()
    assert "replicates per size" in text and "predicted" in text and "budget: none" in text


def test_plan_within_budget_and_bad_input():
    pilot = SimulatedStudy(0.6, noise=0.2, seed=3)([64, 256, 512, 2048], 2)
    spent = pilot["fit_seconds"].sum()
    plan = plan_study(pilot, width=0.001, budget_seconds=spent + 20, sizes=GRID)
    assert not plan.reached and plan.reason == "budget"
    assert plan.new_seconds <= 20
    assert f"budget: {spent + 20:.0f} s" in plan.summary()
    wider = plan_study(pilot, budget_seconds=spent + 5, sizes=GRID)
    assert wider.predicted_half_width > plan.predicted_half_width
    with pytest.raises(ValueError, match="width= or budget_seconds="):
        plan_study(pilot)
    with pytest.raises(ValueError, match="width"):
        plan_study(pilot, width=-1)
    with pytest.raises(ValueError, match="budget_seconds"):
        plan_study(pilot, budget_seconds=spent / 2, sizes=GRID)
    with pytest.raises(ValueError, match="estimators"):
        plan_study(pilot, width=0.1, estimators=["nope"])


def test_look_levels():
    assert look_level(0.95, 1) == pytest.approx(0.95)
    assert look_level(0.95, 4) == pytest.approx(1 - 0.05 / 2)
    assert look_level(0.95, 4, spending="harmonic") == pytest.approx(1 - 0.05 / 4)
    assert look_level(0.95, 4, spending="none") == 0.95
    with pytest.raises(ValueError, match="spending"):
        look_level(0.95, 2, spending="pocock")


def test_adaptive_rule_stops_at_the_width():
    sim = SimulatedStudy(0.6, noise=0.2, seed=4)
    res = run_adaptive(sim, 0.06, GRID, n_boot=200)
    assert res.stopped_by == "width" and res.half_width <= 0.06
    rounds = res.rounds
    assert rounds["replicates"].is_monotonic_increasing and rounds["round"].tolist() == list(
        range(1, len(rounds) + 1))
    assert all(set(a) <= set(b) for a, b in zip(rounds["sizes"], rounds["sizes"][1:]))
    assert res.level == pytest.approx(look_level(0.95, len(rounds)))
    assert res.seconds == pytest.approx(sim.table["fit_seconds"].sum())
    (fit,) = res.fits.values()
    assert fit.ci[1] - fit.ci[0] == pytest.approx(2 * res.half_width)
    assert "stopped by: width" in res.summary() and "budget none" in res.summary()
    same = res.same_compute_design(GRID)
    assert same["seconds"] <= res.seconds and len(same["sizes"]) >= 4


def test_adaptive_rule_stops_on_budget_and_rounds():
    sim = SimulatedStudy(0.6, noise=0.2, seed=5)
    res = run_adaptive(sim, 0.01, GRID, budget_seconds=15, n_boot=200)
    assert res.stopped_by == "budget" and res.half_width > 0.01
    assert res.seconds <= 15 * 1.3  # predicted costs; the cells' own vary by about 10%
    assert f"budget {15 / 3600:.2f} h" in res.summary()
    one = run_adaptive(SimulatedStudy(0.6, noise=0.2, seed=6), 0.01, GRID, max_rounds=1,
                       n_boot=200)
    assert one.stopped_by == "max_rounds" and len(one.rounds) == 1


def test_fixed_design():
    cost = CostModel.power_law(1e-3, 1.0)
    design = fixed_design(GRID, 0.2, cost, width=0.05)
    assert design["reached"] and design["half_width"] <= 0.05
    assert design_half_width(design["sizes"], design["replicates"] - 1, 0.2) > 0.05
    capped = fixed_design(GRID, 0.2, cost, budget_seconds=10)
    assert not capped["reached"] and capped["seconds"] <= 10
    assert capped["half_width"] > design["half_width"]
