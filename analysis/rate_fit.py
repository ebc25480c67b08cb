"""``RateFit``: a fitted convergence exponent, its interval and diagnostics."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .formatting import ci_text, jsonable, num
from .intervals import t_interval, t_pvalue
from .summary import Summary


@dataclass(eq=False)
class RateFit:
    """A fitted convergence exponent: risk ~ n^-exponent.

    Attributes
    ----------
    target, estimator, method, level
        what was fitted and how (``method`` is the method's name, ``fit_method`` the
        FitMethod object); ``level`` is the interval's confidence level.
    exponent, se, ci, df
        the estimate of beta, its bootstrap standard error, the ``level`` interval
        ``exponent +- t_df * se`` (a (low, high) tuple) and the t degrees of freedom.
    intercept, intercept_se
        log risk at n = 1 (loglog, polylog) or log A (offset).
    floor, floor_ci
        the offset E and its interval (offset only; NaN otherwise).
    polylog_k, polylog_shift, polylog_shift_per_k
        the polylog power used (NaN unless the method divides one out), how much it
        moved the exponent, and how much one unit of k moves it over these sizes.
    exponent_ols, se_ols, ci_ols
        statsmodels OLS with cluster-robust standard errors (linear methods).
    curvature
        dict: coef (of (log n - mean)^2 in the adjusted log risk), se, t, df, p_value,
        alpha (the test's level), flag ("saturation": the curve flattens at large n,
        "pre-asymptotic": it steepens, or None).
    optimisation
        dict: cap_share, n_stopped, gap_ratio, n_gap, limited, why
        (``nprates.analysis.diagnostics.optimisation``) and lr_edge_share, n_lr,
        lr_limited (``nprates.analysis.diagnostics.lr_edges``).
    per_n
        DataFrame, one row per sample size (all sizes, also those without a fit):
        n, n_ok, n_failed, n_diverged, plateau, mean_log_risk, sd_log_risk,
        geo_mean_risk, mean_risk, median_risk, fitted_risk, and means of train_loss /
        val_loss / opt_gap / fit_seconds and noise where known.
    local_slopes
        DataFrame: n_low, n_high, exponent, se, df, ci_low, ci_high (the exponent
        between consecutive fitted sizes).
    excluded_sizes
        sizes left out of the fit as the trivial plateau (empty with keep_plateau).
    draw_exponents
        DataFrame draw, exponent, n_ok, n_sizes: the exponent of each target draw
        fitted on its own (one row when the table holds one draw).
    n_draws
        target draws with fits; with more than one the headline exponent, se, df and
        interval are the class estimand.
    estimands
        dict "class" (draws random: mean of the per-draw exponents, t interval with
        draws - 1 df; NaN with one draw) and "conditional" (given the drawn functions:
        replicate noise only), each a dict estimate, se, df, ci, p_value
        (``nprates.analysis.variance_components``).
    variance
        with several draws (linear methods): within and between (variance components of
        the exponent), within_source, heterogeneity (Q, F, df1, df2, p_value, i2: a test
        of equal per-draw exponents), mixedlm (statsmodels MixedLM random-slope fit:
        exponent, se, between, note); empty otherwise.
    n_ok, n_failed, n_diverged, n_sizes, sizes
        row counts (n_failed counts every row with status != "ok"; n_diverged is
        the diverged part of it) and the sizes used in the fit.
    theory_exponent
        from the ``theory_exponent`` column (NaN if unknown).
    resampling, n_boot, seed
        the bootstrap unit ("stratified", "curves", "draws" or "residual"), draws and
        seed.
    warnings
        list of plain-language cautions.
    """

    target: str
    estimator: str
    method: str
    level: float
    exponent: float
    se: float
    ci: tuple
    df: float
    intercept: float
    intercept_se: float
    floor: float
    floor_ci: tuple
    polylog_k: float
    polylog_shift: float
    polylog_shift_per_k: float
    exponent_ols: float
    se_ols: float
    ci_ols: tuple
    curvature: dict
    optimisation: dict
    per_n: pd.DataFrame
    local_slopes: pd.DataFrame
    excluded_sizes: list
    draw_exponents: pd.DataFrame
    n_draws: int
    n_ok: int
    n_failed: int
    n_diverged: int
    n_sizes: int
    sizes: list
    theory_exponent: float
    resampling: str
    n_boot: int
    seed: object
    warnings: list = field(default_factory=list)
    estimands: dict = field(default_factory=dict)
    variance: dict = field(default_factory=dict)
    fit_method: object = field(default=None, repr=False)
    _boot: np.ndarray = field(default=None, repr=False)

    @property
    def p_value(self) -> float:
        """Two-sided p-value of exponent = 0 (does the risk fall at all?)."""
        return t_pvalue(self.exponent, self.se, self.df)

    def summary(self) -> Summary:
        """The fit as a statsmodels-style Summary (``print`` it, or ``as_latex()``)."""
        lev = f"{self.level:g}"
        span = f"{self.n_sizes} ({self.sizes[0]}-{self.sizes[-1]})"
        left = [("Target", self.target), ("Estimator", self.estimator), ("Sizes", span),
                ("Fits ok", self.n_ok),
                ("Failed / diverged", f"{self.n_failed - self.n_diverged} / {self.n_diverged}"),
                ("Theory exponent", num(self.theory_exponent))]
        right = [("Method", self.method), ("Level", lev),
                 ("Resampling", self.resampling), ("Bootstrap draws", self.n_boot),
                 ("df (t)", num(self.df, ".1f")),
                 ("Curvature p", num(self.curvature.get("p_value"), ".3f"))]
        if self.excluded_sizes:
            left.append(("Plateau, left out", ", ".join(str(s) for s in self.excluded_sizes)))
        if self.n_draws > 1:
            right.append(("Target draws", self.n_draws))
        if self.fit_method is not None:
            more_left, more_right = self.fit_method.summary_pairs(self)
            left += more_left
            right += more_right
        s = Summary()
        s.add_header("Convergence rate fit", left, right)
        t = self.exponent / self.se if self.se > 0 else math.nan
        rows = [("exponent", self.exponent, self.se, t, self.p_value, *self.ci)]
        ilo, ihi = t_interval(self.intercept, self.intercept_se, self.df, self.level)
        rows.append(("intercept (log)", self.intercept, self.intercept_se,
                     self.intercept / self.intercept_se if self.intercept_se > 0 else math.nan,
                     t_pvalue(self.intercept, self.intercept_se, self.df), ilo, ihi))
        if self.fit_method is not None:
            rows += self.fit_method.summary_rows(self)
        if np.isfinite(self.exponent_ols):
            tt = self.exponent_ols / self.se_ols if self.se_ols > 0 else math.nan
            rows.append(("exponent (OLS)", self.exponent_ols, self.se_ols, tt, math.nan,
                         *self.ci_ols))
        s.add_coefficients(rows, self.level)
        s.add_rule("=")
        per = self.per_n.copy()
        loc = {int(r.n_high): ci_text(r.ci_low, r.ci_high, ".2f") for r in
               self.local_slopes.itertuples()}
        val = {int(r.n_high): r.exponent for r in self.local_slopes.itertuples()}
        per["local"] = [num(val.get(int(n)), ".3f") for n in per["n"]]
        per["local_ci"] = [loc.get(int(n), "") for n in per["n"]]
        if self.excluded_sizes:
            per["local"] = [("plateau" if p else v) for p, v in zip(per["plateau"],
                                                                    per["local"])]
        s.add_frame(per, {"n": ("n", 9, ".0f"), "n_ok": ("ok", 5, ".0f"),
                          "n_failed": ("failed", 8, ".0f"),
                          "n_diverged": ("diverged", 10, ".0f"),
                          "geo_mean_risk": ("geo-mean risk", 15, ".4g"),
                          "fitted_risk": ("fitted", 11, ".4g"),
                          "local": ("local exp.", 12, None),
                          "local_ci": (f"[{lev} CI]", 16, None)})
        if self.n_draws > 1:
            s.add_rule("-")
            for line in self.estimands_text().splitlines():
                s.add_text(line)
            s.add_text("Exponent of each target draw fitted on its own:")
            s.add_frame(self.draw_exponents, {"draw": ("draw", 9, ".0f"),
                                              "exponent": ("exponent", 11, ".4f"),
                                              "n_ok": ("ok", 6, ".0f"),
                                              "n_sizes": ("sizes", 7, ".0f")})
        s.add_rule("-")
        s.add_text("exponent: beta in risk ~ n^-beta; interval: " + (
            "the class's, t over the per-draw exponents (draws - 1 df);" if self.n_draws > 1
            else "exponent +- t_df x bootstrap SE;"))
        s.add_text("local exp.: exponent between this size and the previous one.")
        if self.n_failed:
            s.add_text(f"{self.n_failed} fit(s) did not succeed (status != 'ok') and are "
                       f"excluded from the fit; see the failed/diverged columns.")
        s.add_notes("Warnings", self.warnings)
        return s

    def estimands_text(self) -> str:
        """The two estimands and the variance components, as lines of text."""
        from .variance_components import LABELS

        lines = []
        for key in ("class", "conditional"):
            e = self.estimands.get(key)
            if e and np.isfinite(e["estimate"]):
                lines.append(f"exponent, {LABELS[key]}: {e['estimate']:.4f} "
                             f"{ci_text(*e['ci'], '.4f')} (se {e['se']:.4f}, df "
                             f"{e['df']:.1f})")
        v = self.variance
        if v:
            h, m = v["heterogeneity"], v["mixedlm"]
            lines.append(f"variance of the exponent: within a draw {v['within']:.3g} (from "
                         f"{v['within_source']}), between draws {v['between']:.3g}")
            lines.append(f"equal exponents across draws: F = {num(h['F'], '.3g')} on "
                         f"({h['df1']:.0f}, {num(h['df2'], '.1f')}) df, p = "
                         f"{num(h['p_value'], '.3g')}")
            if np.isfinite(m["exponent"]):
                lines.append(f"MixedLM (random slope): exponent {m['exponent']:.4f} (se "
                             f"{m['se']:.4f}), between-draw slope variance "
                             f"{m['between']:.3g}" + (f"; {m['note']}" if m["note"] else ""))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary().as_text()

    def to_dict(self) -> dict:
        """A JSON-serialisable dict of every attribute (NaN -> None)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__
               if not k.startswith("_") and k != "fit_method"}
        out["p_value"] = self.p_value
        return jsonable(out)

    # -- statsmodels results names ---------------------------------------------------------
    # ``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int()``, ``nobs``, ``df_resid``
    # as on a statsmodels results object, for the two parameters of the fitted line: the
    # exponent and the intercept (log risk at n = 1, or log A for the offset method).

    @property
    def params(self) -> pd.Series:
        """Estimates, indexed "exponent", "intercept"."""
        return pd.Series({"exponent": self.exponent, "intercept": self.intercept},
                         dtype=float)

    @property
    def bse(self) -> pd.Series:
        """Bootstrap standard errors of ``params``."""
        return pd.Series({"exponent": self.se, "intercept": self.intercept_se}, dtype=float)

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided t p-values (``df_resid`` degrees of freedom) of each parameter = 0."""
        return pd.Series({k: t_pvalue(self.params[k], self.bse[k], self.df)
                          for k in ("exponent", "intercept")}, dtype=float)

    @property
    def nobs(self) -> int:
        """Fitted cells (rows with status "ok" at the sizes of the fit)."""
        return int(self.n_ok)

    @property
    def df_resid(self) -> float:
        """Degrees of freedom of the t intervals and p-values."""
        return float(self.df)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """``1 - alpha`` t intervals ``param +- t_df * bse`` of ``params``, as statsmodels
        gives them: a DataFrame indexed like ``params`` with columns 0 (low) and 1 (high).
        The default is the 95% interval whatever ``level`` was; ``fit.ci`` is the
        ``level`` interval of the exponent as a (low, high) tuple."""
        if not 0 < float(alpha) < 1:
            raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
        rows = {k: [float(v) for v in t_interval(self.params[k], self.bse[k], self.df,
                                                  1 - float(alpha))]
                for k in ("exponent", "intercept")}
        return pd.DataFrame.from_dict(rows, orient="index", columns=[0, 1])

    def _repr_html_(self) -> str:
        """The summary as HTML (what Jupyter shows for a RateFit)."""
        return self.summary().as_html()
