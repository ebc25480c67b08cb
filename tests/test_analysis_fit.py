"""fit_rate / fit_all: known answers, diagnostics, bad input, result objects."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from nprates.analysis import RateFit, fit_all, fit_rate, simulate_curves
from nprates.analysis.schema import REQUIRED

SIZES = [100, 215, 464, 1000, 2154, 4642, 10000]


def exact(exponent=0.6, offset=0.0, polylog_k=0.0, replicates=2, scale=1.0):
    return simulate_curves(exponent, SIZES, replicates, noise=0.0, offset=offset,
                           polylog_k=polylog_k, scale=scale, seed=0)


# --------------------------------------------------------------------------- known answers

@pytest.mark.parametrize("beta", [0.3, 0.667, 1.2])
def test_exact_power_law_recovered_to_1e6(beta):
    fit = fit_rate(exact(beta, scale=3.0))
    assert abs(fit.exponent - beta) < 1e-6
    assert abs(fit.intercept - math.log(3.0)) < 1e-6
    assert fit.se < 1e-6
    assert np.allclose(fit.local_slopes["exponent"], beta, atol=1e-6)
    assert np.allclose(fit.per_n["fitted_risk"], fit.per_n["geo_mean_risk"], rtol=1e-6)


def test_exact_polylog_and_offset_recovered():
    fit = fit_rate(exact(0.667, polylog_k=2.0), method="polylog", polylog_k=2.0)
    assert abs(fit.exponent - 0.667) < 1e-6
    loglog = fit_rate(exact(0.667, polylog_k=2.0))
    assert abs(fit.polylog_shift - (fit.exponent - loglog.exponent)) < 1e-9
    assert abs(fit.polylog_shift - 2.0 * fit.polylog_shift_per_k) < 1e-9
    # a (log n)^k factor lowers the log-log slope by about k / ln n (0.11 k at n = 1e4)
    assert 0.1 < fit.polylog_shift_per_k < 0.25
    off = fit_rate(exact(0.5, offset=0.002), method="offset")
    assert abs(off.exponent - 0.5) < 1e-6
    assert abs(off.floor - 0.002) < 1e-8
    pure = fit_rate(exact(0.7), method="offset")
    assert abs(pure.exponent - 0.7) < 1e-6 and pure.floor < 1e-10


def test_noisy_fit_close_and_interval_sensible():
    table = simulate_curves(0.6, replicates=5, noise=0.2, seed=3)
    fit = fit_rate(table)
    assert abs(fit.exponent - 0.6) < 0.1
    lo, hi = fit.conf_int().loc["exponent"]
    assert lo < fit.exponent < hi
    assert 0.01 < fit.se < 0.1
    # stratified Rao-Wu bootstrap with Bell-McCaffrey df (16 for 7 sizes x 5 replicates)
    assert fit.resampling == "stratified"
    assert fit.df == pytest.approx(16.0, abs=0.05)
    # statsmodels second opinion: same point estimate, similar standard error
    assert abs(fit.exponent_ols - fit.exponent) < 1e-9
    assert 0.6 < fit.se_ols / fit.se < 1.6
    assert fit.ci_ols[0] < fit.exponent < fit.ci_ols[1]


def test_reproducible_with_seed():
    table = simulate_curves(0.6, replicates=5, noise=0.2, seed=3)
    a, b = fit_rate(table, seed=7), fit_rate(table, seed=7)
    assert a.ci == b.ci and a.se == b.se
    assert fit_rate(table, seed=8).se != a.se


def test_default_fit_is_fast():
    table = simulate_curves(0.6, replicates=14, noise=0.2, seed=3)  # 98 rows
    fit_rate(table)  # imports
    t0 = time.perf_counter()
    fit_rate(table)
    assert time.perf_counter() - t0 < 1.0


# --------------------------------------------------------------------------- failures

def test_failed_fits_counted_and_shown():
    table = simulate_curves(0.6, replicates=5, noise=0.2, seed=3)
    table.loc[[0, 1], "status"] = "failed"
    table.loc[[0, 1], "risk"] = np.nan
    table.loc[7, "status"] = "diverged"
    table.loc[7, "risk"] = 1e9
    fit = fit_rate(table)
    assert fit.n_failed == 3 and fit.n_diverged == 1 and fit.n_ok == 32
    per = fit.per_n.set_index("n")
    assert per.loc[100, "n_failed"] == 2 and per.loc[100, "n_ok"] == 3
    assert per.loc[215, "n_diverged"] == 1
    text = fit.summary().as_text()
    assert "Failed / diverged:" in text and "2 / 1" in text
    assert "3 fit(s) did not succeed" in text


def test_size_with_all_fits_failed_is_left_out_with_warning():
    table = simulate_curves(0.6, replicates=3, noise=0.2, seed=3)
    bad = table["n"] == 10000
    table.loc[bad, "status"] = "failed"
    table.loc[bad, "risk"] = np.nan
    fit = fit_rate(table)
    assert 10000 not in fit.sizes and fit.n_sizes == 6
    assert any("no successful fit at n=10000" in w for w in fit.warnings)
    assert 10000 in set(fit.per_n["n"])


# --------------------------------------------------------------------------- diagnostics

def test_few_sizes_and_short_span_warn():
    fit = fit_rate(simulate_curves(0.6, [100, 200, 400], 4, noise=0.1, seed=1))
    assert any("fewer than 4" in w for w in fit.warnings)
    assert any("less than one" in w for w in fit.warnings)
    assert math.isfinite(fit.exponent)
    assert fit.local_slopes.shape[0] == 2


def test_curvature_flags_saturation_and_preasymptotic():
    floor = simulate_curves(0.8, replicates=5, noise=0.05, offset=3e-3, seed=2)
    fit = fit_rate(floor)
    assert fit.curvature["flag"] == "saturation"
    assert any("flattens" in w and "offset" in w for w in fit.warnings)
    off = fit_rate(floor, method="offset")
    assert abs(off.exponent - 0.8) < abs(fit.exponent - 0.8)
    # steepening: a curve whose log-log slope grows with n
    t = simulate_curves(0.5, replicates=5, noise=0.05, seed=2)
    x = np.log(t["n"].to_numpy(float))
    t["risk"] = t["risk"] * np.exp(-0.08 * (x - x.mean()) ** 2)
    steep = fit_rate(t)
    assert steep.curvature["flag"] == "pre-asymptotic"
    assert any("pre-asymptotic" in w for w in steep.warnings)
    straight = fit_rate(simulate_curves(0.5, replicates=5, noise=0.05, seed=4))
    assert straight.curvature["flag"] is None


def test_nested_data_resamples_whole_curves():
    t = simulate_curves(0.5, replicates=5, noise=0.2, nested=True, seed=1)
    fit = fit_rate(t)
    assert fit.resampling == "curves" and fit.df == 4
    ind = fit_rate(simulate_curves(0.5, replicates=5, noise=0.2, seed=1))
    assert ind.resampling == "stratified"
    t["data_seed"] = ""  # no seed information: independence across n is assumed
    assert fit_rate(t).resampling == "stratified"


def test_single_replicate_uses_residual_bootstrap():
    t = simulate_curves(0.5, replicates=1, noise=0.1, seed=1)
    fit = fit_rate(t)
    assert fit.resampling == "residual"
    assert any("fewer than 2 successful replicates" in w for w in fit.warnings)
    assert fit.ci[0] < 0.5 < fit.ci[1] or abs(fit.exponent - 0.5) < 0.1
    assert fit.df == len(t) - 2


def test_theory_exponent_from_column():
    t = simulate_curves(0.5, replicates=3, noise=0.1, seed=1, theory_exponent=0.667)
    assert fit_rate(t).theory_exponent == pytest.approx(0.667)
    t["theory_exponent"] = np.nan
    assert math.isnan(fit_rate(t).theory_exponent)
    assert math.isnan(fit_rate(t.drop(columns="theory_exponent")).theory_exponent)


# --------------------------------------------------------------------------- bad input

def _table():
    return simulate_curves(0.5, replicates=3, noise=0.1, seed=1)


def test_empty_table():
    with pytest.raises(ValueError, match="empty"):
        fit_rate(_table().iloc[:0])


def test_single_size():
    t = _table()
    with pytest.raises(ValueError, match=r"'n'.*got 1"):
        fit_rate(t[t["n"] == 100])


@pytest.mark.parametrize("value", [0.0, -1.0, np.nan, np.inf])
def test_bad_risk_names_column_and_rows(value):
    t = _table()
    t.loc[4, "risk"] = value
    with pytest.raises(ValueError, match=r"'risk'.*n=215 replicate=1"):
        fit_rate(t)


def test_unknown_names():
    t = _table()
    with pytest.raises(ValueError, match=r"unknown estimator 'nope'.*'sim'"):
        fit_rate(t, estimator="nope")
    with pytest.raises(ValueError, match="unknown target 'x'"):
        fit_rate(t, target="x")
    with pytest.raises(ValueError, match="unknown method"):
        fit_rate(t, method="cubic")
    two = pd.concat([t, t.assign(estimator="other")])
    with pytest.raises(ValueError, match="estimator="):
        fit_rate(two)


@pytest.mark.parametrize("column", REQUIRED)
def test_missing_column(column):
    with pytest.raises(ValueError, match=column):
        fit_rate(_table().drop(columns=column))


def test_other_bad_input():
    t = _table()
    with pytest.raises(ValueError, match="polylog_k"):
        fit_rate(t, method="polylog")
    with pytest.raises(ValueError, match="duplicate"):
        fit_rate(pd.concat([t, t.iloc[:1]]))
    with pytest.raises(ValueError, match="level"):
        fit_rate(t, level=1.5)
    with pytest.raises(ValueError, match="DataFrame"):
        fit_rate([1, 2, 3])


# --------------------------------------------------------------------------- objects

def test_result_object_contract():
    fit = fit_rate(simulate_curves(0.6, replicates=4, noise=0.2, seed=3, fail_rate=0.1),
                   method="offset")
    assert isinstance(fit, RateFit)
    d = fit.to_dict()
    json.dumps(d, allow_nan=False)
    for key in ("exponent", "ci", "se", "intercept", "method", "per_n", "local_slopes",
                "n_failed", "warnings", "curvature", "theory_exponent", "floor"):
        assert key in d
    text = fit.summary().as_text()
    for part in ("Convergence rate fit", "Method:", "offset", "exponent", "floor E",
                 "local exp."):
        assert part in text
    assert max(len(line) for line in text.splitlines()) <= 90
    assert list(fit.local_slopes.columns) == ["n_low", "n_high", "exponent", "se", "df",
                                              "ci_low", "ci_high"]


def test_fit_all_table():
    t = pd.concat([
        simulate_curves({"ssm": 0.6, "tf": 0.62}, replicates=3, noise=0.1, seed=1,
                        target="a", theory_exponent=0.6),
        simulate_curves(0.5, replicates=3, noise=0.1, seed=2, target="b", estimator="ssm",
                        theory_exponent=np.nan),
    ])
    dead = simulate_curves(0.5, replicates=2, noise=0.1, seed=3, target="b", estimator="tf")
    dead["status"], dead["risk"] = "failed", np.nan
    table = fit_all(pd.concat([t, dead]), n_boot=500)
    assert list(table[["target", "estimator"]].itertuples(index=False, name=None)) == [
        ("a", "ssm"), ("a", "tf"), ("b", "ssm"), ("b", "tf")]
    for col in ("exponent", "ci_low", "ci_high", "se", "n_ok", "n_failed", "theory_exponent",
                "verdict", "method"):
        assert col in table.columns
    row = table.set_index(["target", "estimator"])
    assert row.loc[("a", "ssm"), "verdict"] == "consistent"
    assert row.loc[("b", "ssm"), "verdict"] == "no theory"
    assert row.loc[("b", "tf"), "verdict"] == "no fit"
    assert row.loc[("b", "tf"), "n_failed"] == 14
    assert row.loc[("a", "ssm"), "n_draws"] == 1 and row.loc[("a", "ssm"), "reason"] == ""
    assert row.loc[("a", "ssm"), "excluded_sizes"] == []
    assert row.loc[("a", "ssm"), "exponent"] == pytest.approx(
        fit_rate(t, estimator="ssm", target="a", n_boot=500).exponent)
