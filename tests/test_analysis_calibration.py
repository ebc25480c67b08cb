"""Calibration: the intervals cover the true exponent as often as they claim.

7 sizes over two decades, log-normal noise, nominal 95%. The 1,000-simulation checks
for 5 and 3 replicates run by default (about 5 s each); 10 replicates and the full
offset check are marked slow; the benchmark with more scenarios is
``benchmarks/bench_calibration.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nprates.analysis import coverage, fit_rate, simulate_curves


def test_simulate_curves_schema_and_options():
    t = simulate_curves(0.5, replicates=3, noise=0.2, seed=1)
    assert len(t) == 21 and set(t["status"]) == {"ok"}
    assert t["data_seed"].nunique() == 21
    nested = simulate_curves(0.5, replicates=3, noise=0.2, seed=1, nested=True)
    assert nested["data_seed"].nunique() == 3
    heavy = simulate_curves(0.5, replicates=200, noise=0.2, seed=1, noise_dist="t")
    z = np.log(heavy["risk"]) + 0.5 * np.log(heavy["n"])
    assert abs(z.std() - 0.2) < 0.03 and z.kurt() > 1  # unit variance, heavy tails
    two = simulate_curves({"a": 0.5, "b": 0.6}, replicates=2, noise=0.1, seed=1)
    assert set(two["estimator"]) == {"a", "b"}
    assert np.isnan(two["theory_exponent"]).all()
    pd.testing.assert_frame_equal(simulate_curves(0.5, seed=4), simulate_curves(0.5, seed=4))
    with pytest.raises(ValueError, match="noise_dist"):
        simulate_curves(0.5, noise_dist="cauchy")


def test_loglog_coverage_1000_simulations():
    res = coverage("loglog", n_sim=1000, replicates=5, exponent=0.5, noise=0.3, seed=1)
    assert res.n_errors == 0
    assert 0.93 <= res.coverage <= 0.97, res.summary().as_text()
    assert abs(res.bias) < 0.01
    assert 0.9 < res.mean_se / res.sd_estimate < 1.1


def test_loglog_coverage_three_replicates_1000_simulations():
    res = coverage("loglog", n_sim=1000, replicates=3, exponent=0.5, noise=0.3, seed=2)
    assert 0.93 <= res.coverage <= 0.97, res.summary().as_text()
    assert abs(res.bias) < 0.01


def test_offset_coverage_small():
    res = coverage("offset", n_sim=40, replicates=5, exponent=0.5, noise=0.3, seed=3,
                   n_boot=300)
    assert res.n_errors == 0
    assert res.coverage >= 0.8, res.summary().as_text()
    assert abs(res.bias) < 0.1


@pytest.mark.slow
def test_loglog_coverage_ten_replicates_full():
    res = coverage("loglog", n_sim=1000, replicates=10, seed=4)
    assert 0.93 <= res.coverage <= 0.97, res.summary().as_text()


@pytest.mark.slow
def test_offset_coverage_full():
    res = coverage("offset", n_sim=1000, replicates=5, n_boot=500, seed=5)
    assert 0.9 <= res.coverage <= 0.99, res.summary().as_text()


def test_coverage_goes_through_fit_rate():
    """coverage() reports exactly what fit_rate gives on the same simulated tables."""
    res = coverage("loglog", n_sim=3, replicates=4, seed=9, n_boot=200)
    child = np.random.SeedSequence(9).spawn(3)[1]
    t = simulate_curves(0.5, None, 4, 0.3, 0.0, seed=np.random.default_rng(child))
    f = fit_rate(t, n_boot=200, seed=1, second_opinion=False)
    assert res.estimates[1] == pytest.approx(f.exponent)
    assert "Coverage" in res.summary().as_text()
    d = json.loads(json.dumps(res.to_dict(), allow_nan=False))
    assert d["n_sim"] == 3 and d["settings"]["replicates"] == 4
    assert d["coverage"] == pytest.approx(float(np.mean(res.covered)))
