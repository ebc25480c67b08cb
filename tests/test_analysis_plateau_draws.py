"""Plateau sizes left out of the fit, and several target draws per class."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nprates.analysis import (InsufficientData, compare_rates, fit_all, fit_rate,
                              simulate_curves)


def plateau_table(trivial_sizes=(100, 215), seed=1):
    t = simulate_curves(0.6, replicates=5, noise=0.15, seed=seed, theory_exponent=0.6)
    t["trivial"] = t["n"].isin(trivial_sizes)
    t.loc[t["n"].isin(trivial_sizes), "risk"] = 0.9  # flat at the trivial level
    return t


def test_plateau_sizes_are_left_out_by_default():
    t = plateau_table()
    fit = fit_rate(t, n_boot=300)
    assert fit.excluded_sizes == [100, 215]
    assert fit.sizes[0] == 464 and fit.n_sizes == 5
    rest = fit_rate(t[~t["n"].isin([100, 215])], n_boot=300)
    assert fit.exponent == pytest.approx(rest.exponent)
    assert abs(fit.exponent - 0.6) < 0.1
    kept = fit_rate(t, n_boot=300, keep_plateau=True)
    assert kept.excluded_sizes == [] and kept.n_sizes == 7
    assert abs(kept.exponent - fit.exponent) > 0.1  # the plateau drags the exponent
    text = fit.summary().as_text()
    assert "Plateau, left out:" in text and "100, 215" in text and "keep_plateau" in text
    per = fit.per_n.set_index("n")
    assert per.loc[100, "plateau"] and per.loc[100, "geo_mean_risk"] == pytest.approx(0.9)


def test_plateau_in_fit_all_and_json():
    t = plateau_table()
    row = fit_all(t, n_boot=300).iloc[0]
    assert row["excluded_sizes"] == [100, 215]
    d = json.loads(json.dumps(fit_rate(t, n_boot=300).to_dict(), allow_nan=False))
    assert d["excluded_sizes"] == [100, 215]


def test_plateau_needs_a_majority_of_trivial_cells():
    t = plateau_table(trivial_sizes=())
    first = t.index[t["n"] == 100]
    t.loc[first[:2], "trivial"] = True  # 2 of 5: not the plateau
    assert fit_rate(t, n_boot=200).excluded_sizes == []
    t.loc[first[:3], "trivial"] = True  # 3 of 5: the plateau
    assert fit_rate(t, n_boot=200).excluded_sizes == [100]


def test_too_few_sizes_after_the_plateau():
    t = plateau_table(trivial_sizes=(100, 215, 464, 1000, 2154))
    with pytest.raises(InsufficientData, match="keep_plateau=True"):
        fit_rate(t)
    assert fit_rate(t, keep_plateau=True, n_boot=200).n_sizes == 7
    assert fit_all(t, n_boot=200).iloc[0]["verdict"] == "no fit"


def test_one_draw_keeps_todays_numbers():
    t = simulate_curves(0.6, replicates=5, noise=0.2, seed=1)
    a = fit_rate(t.drop(columns=["draw"]), n_boot=300)
    b = fit_rate(t, n_boot=300)
    assert (a.exponent, a.se, a.ci, a.resampling) == (b.exponent, b.se, b.ci, "stratified")
    assert b.n_draws == 1 and list(b.draw_exponents["exponent"]) == [b.exponent]


def test_several_draws_give_a_class_interval():
    t = simulate_curves(0.6, replicates=5, noise=0.1, seed=3, draws=6, draw_sd=0.1)
    fit = fit_rate(t, n_boot=500)
    assert fit.resampling == "draws" and fit.n_draws == 6 and fit.df == 5
    de = fit.draw_exponents
    assert list(de["draw"]) == list(range(6)) and (de["n_ok"] == 35).all()
    single = [fit_rate(t[t["draw"] == d], n_boot=200) for d in range(6)]
    own = [f.exponent for f in single]
    assert de["exponent"].to_numpy() == pytest.approx(own)
    assert fit.exponent == pytest.approx(np.mean(own))  # balanced design
    # the interval reflects the spread between functions, not only replicate noise
    assert fit.se == pytest.approx(np.std(own, ddof=1) / np.sqrt(6), rel=0.2)
    replicate_only = np.mean([f.se for f in single]) / np.sqrt(6)
    assert fit.se > 2 * replicate_only
    text = fit.summary().as_text()
    assert "Target draws:" in text and "each target draw" in text


def test_compare_carries_the_optimisation_reason():
    t = simulate_curves({"a": 0.8, "b": 0.4}, replicates=5, noise=0.1, seed=2)
    c = compare_rates(t, "a", "b", n_boot=300)
    assert c.verdict == c.status == "different" and c.reason == ""
    t.loc[t["estimator"] == "a", "stopped_by"] = "cap"
    c = compare_rates(t, "a", "b", n_boot=300)
    assert c.status == "different" and c.verdict == "different (optimisation-limited)"
    assert "training budgets" in c.summary().as_text()


def test_rows_without_a_draw_are_draw_0():
    t = simulate_curves(0.6, replicates=3, noise=0.1, seed=1)
    mixed = t.astype({"draw": float})
    mixed.loc[mixed.index[:5], "draw"] = np.nan  # e.g. concatenated with an older table
    assert fit_rate(mixed, n_boot=200).exponent == pytest.approx(
        fit_rate(t, n_boot=200).exponent)
    mixed.loc[mixed.index[0], "draw"] = 0.5
    with pytest.raises(ValueError, match="column 'draw'"):
        fit_rate(mixed)
