"""Summary.as_latex() in a plain article and RateFit's statsmodels names (issue 30)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from nprates.analysis import compare_rates, fit_rate, simulate_curves
from nprates.analysis.intervals import t_pvalue


@pytest.fixture(scope="module")
def table():
    return simulate_curves({"ssm": 0.6, "transformer": 0.62}, replicates=3, noise=0.1,
                           seed=2, theory_exponent=0.667)


@pytest.fixture(scope="module")
def fit(table):
    return fit_rate(table, estimator="ssm", n_boot=200)


def test_latex_is_stacked_and_ot1_safe(fit, table):
    tex = fit.summary().as_latex() + compare_rates(table, "ssm", "transformer",
                                                  n_boot=200).summary().as_latex()
    assert "P$>$$|$t$|$" in tex and "P>|t|" not in tex
    assert all(ord(ch) < 128 for ch in tex)
    lines = tex.splitlines()
    # every tabular sits alone in a centre environment: the parts stack, never side by side
    for i, line in enumerate(lines):
        if line.startswith(r"\begin{tabular}"):
            assert lines[i - 1] in (r"\begin{center}", r"\textbf{Convergence rate fit}\\[1ex]") \
                or lines[i - 1].startswith(r"\textbf{")
            end = lines.index(r"\end{tabular}", i)
            assert lines[end + 1] == r"\end{center}"
    assert not any(line.startswith("[") for line in lines)  # never an argument of \\


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_compiles_in_a_plain_article(fit, table, tmp_path):
    body = fit.summary().as_latex() + "\n" + compare_rates(
        table, "ssm", "transformer", n_boot=200).summary().as_latex()
    (tmp_path / "s.tex").write_text("\\documentclass{article}\n\\begin{document}\n" + body
                                    + "\n\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "s.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    log = (tmp_path / "s.log").read_text(errors="replace")
    assert "Missing character" not in log and "! " not in log


def test_statsmodels_result_names(fit):
    assert list(fit.params.index) == ["exponent", "intercept"]
    assert fit.params["exponent"] == fit.exponent and fit.bse["exponent"] == fit.se
    assert fit.pvalues["exponent"] == pytest.approx(t_pvalue(fit.exponent, fit.se, fit.df))
    assert fit.tvalues["intercept"] == pytest.approx(fit.intercept / fit.intercept_se)
    ci = fit.conf_int()
    assert isinstance(ci, pd.DataFrame) and list(ci.columns) == [0, 1]
    assert tuple(ci.loc["exponent"]) == pytest.approx(fit.ci)  # level 0.95 = default alpha
    assert fit.nobs == fit.n_ok == 21 and fit.df_resid == fit.df
    assert np.all(fit.conf_int(0.5)[0] > ci[0])
    assert fit._repr_html_().startswith("<table")
