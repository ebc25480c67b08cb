"""Fit-method objects, the Summary object, conf_int at any level, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nprates.analysis import (METHODS, FitMethod, InsufficientData, LogLog, Offset, PolyLog,
                              Summary, compare_rates, fit_rate, simulate_curves)


@pytest.fixture(scope="module")
def table():
    return simulate_curves(0.6, replicates=5, noise=0.2, seed=1)


def test_names_and_objects_give_the_same_fit(table):
    assert set(METHODS) == {"loglog", "offset", "polylog"}
    for name, obj in [("loglog", LogLog()), ("offset", Offset()), ("polylog", PolyLog(1.0))]:
        a = fit_rate(table, method=name, polylog_k=1.0, n_boot=200)
        b = fit_rate(table, method=obj, n_boot=200)
        assert a.method == b.method == name
        assert (a.exponent, a.se, a.ci) == (b.exponent, b.se, b.ci)


def test_a_new_method_is_one_class(table):
    class Halved(FitMethod):
        """A toy method: the log-log fit of the risk's square root (exponent / 2)."""
        name = "halved"

        def adjust(self, Y, x):
            return Y / 2

        def fitted_log(self, est, x):
            return 2 * super().fitted_log(est, x)

    full = fit_rate(table, n_boot=200)
    half = fit_rate(table, method=Halved(), n_boot=200)
    assert half.method == "halved"
    assert half.exponent == pytest.approx(full.exponent / 2)
    assert half.se == pytest.approx(full.se / 2)
    assert "halved" in half.summary().as_text()


def test_unknown_method_and_missing_k(table):
    with pytest.raises(ValueError, match="unknown method 'cubic'"):
        fit_rate(table, method="cubic")
    with pytest.raises(ValueError, match="polylog_k="):
        fit_rate(table, method="polylog")


def test_conf_int_recomputes_at_any_level(table):
    fit = fit_rate(table, n_boot=300)
    assert tuple(fit.conf_int().loc["exponent"]) == pytest.approx(fit.ci)
    lo90, hi90 = fit.conf_int(alpha=0.1).loc["exponent"]
    lo95, hi95 = fit.conf_int().loc["exponent"]
    lo99, hi99 = fit.conf_int(alpha=0.01).loc["exponent"]
    assert lo99 < lo95 < lo90 < fit.exponent < hi90 < hi95 < hi99
    assert fit_rate(table, n_boot=300, level=0.9).ci == pytest.approx((lo90, hi90))
    with pytest.raises(ValueError, match="alpha"):
        fit.conf_int(alpha=1.5)


def test_summary_object(table):
    fit = fit_rate(table, n_boot=300)
    s = fit.summary()
    assert isinstance(s, Summary)
    text = s.as_text()
    assert str(s) == text == str(fit)
    assert "Convergence rate fit" in text and f"{fit.exponent:.4f}" in text
    latex = s.as_latex()
    assert latex.count(r"\begin{tabular}") == latex.count(r"\end{tabular}") >= 2
    assert f"{fit.exponent:.4f}" in latex and "[0.025" in latex
    html = s.as_html()
    assert html.count("<table") == html.count("</table>") >= 2
    assert f"<td>{fit.exponent:.4f}</td>" in html
    cmp = compare_rates(simulate_curves({"a": 0.6, "b": 0.5}, replicates=4, seed=2),
                        "a", "b", n_boot=200)
    assert r"\begin{tabular}" in cmp.summary().as_latex()


def test_fractional_or_missing_n_is_refused(table):
    t = table.copy()
    t["n"] = t["n"].astype(float)
    t.loc[3, "n"] = 64.5
    with pytest.raises(ValueError, match="column 'n'.*64.5"):
        fit_rate(t)
    t.loc[3, "n"] = np.nan
    with pytest.raises(ValueError, match="column 'n'"):
        fit_rate(t)
    t = table.copy()
    t["replicate"] = t["replicate"].astype(float) + 0.5
    with pytest.raises(ValueError, match="column 'replicate'"):
        fit_rate(t)


def test_constant_risk_is_an_error_not_a_zero_interval(table):
    t = table.copy()
    t["risk"] = 0.25
    with pytest.raises(InsufficientData, match="'risk' is constant"):
        fit_rate(t)


def test_fit_all_and_compare_accept_method_objects(table):
    from nprates.analysis import fit_all
    two = pd.concat([table, table.assign(estimator="b")])
    rows = fit_all(two, method=PolyLog(0.5), n_boot=200)
    assert set(rows["method"]) == {"polylog"}
    assert compare_rates(two, "sim", "b", method=Offset(), n_boot=200).method == "offset"
