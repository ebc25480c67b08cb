"""Convergence exponents with confidence intervals: ``fit_rate``.

The exponent ``beta`` is the rate in ``risk ~ n^-beta``, fitted by a fit method
(``nprates.analysis.methods``: "loglog", "offset", "polylog", or any ``FitMethod``
object) to the per-size mean log risks of one (target, estimator).

Intervals: ``exponent +- t_df * SE``, SE from a bootstrap over the independent units
and df from the design; see ``nprates.analysis.bootstrap`` for why (a naive percentile
bootstrap of 5 replicates per size covers about 89% instead of 95%, 83% with 3). With
several target draws (column ``draw``) the exponent is for the class: the mean of the
per-draw exponents with the exact t interval over them (D - 1 df), and the fit also
gives the exponent conditional on the drawn functions, the within- and between-draw
variance of the exponent and a test of equal per-draw exponents
(``nprates.analysis.variance_components``; ``RateFit.estimands``, ``RateFit.variance``). As a second opinion for the linear methods, statsmodels
OLS with cluster-robust standard errors (clusters = the independent units) is reported
as ``exponent_ols`` / ``ci_ols``.

Rows whose status is not "ok" are left out of the fit and counted per size
(``per_n``) and in total (``n_failed``, of which ``n_diverged`` diverged). Sizes at the
trivial plateau are left out unless ``keep_plateau=True`` (``nprates.analysis.layout``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import diagnostics
from .bootstrap import boot_means, contrast_df
from .completeness import warn_if_incomplete
from .contrasts import line_contrasts
from .intervals import boot_se, t_interval
from .layout import layout
from .methods import FitMethod, make_method
from .rate_fit import RateFit
from .variance_components import class_estimand, estimand, slope_components


def check_options(level, n_boot) -> None:
    """ValueError for a level outside (0, 1) or fewer than 50 bootstrap draws."""
    if not (0 < float(level) < 1):
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if int(n_boot) < 50:
        raise ValueError(f"n_boot must be at least 50, got {n_boot}")


def _second_opinion(lay, e, method: FitMethod, sizes, level):
    """statsmodels OLS with cluster-robust SE; clusters are the resampling units."""
    import statsmodels.api as sm

    rows = lay.rows[(lay.rows["estimator"] == lay.estimators[e]) & lay.rows["n"].isin(sizes)]
    x = np.log(rows["n"].to_numpy(dtype=float))
    y = method.adjust(np.log(rows["risk"].to_numpy(dtype=float)), x)
    if lay.mode == "curves":
        groups = pd.factorize(rows["replicate"])[0]
    elif lay.mode == "draws":
        groups = pd.factorize(rows["draw"])[0]
    else:
        groups = np.arange(len(rows))
    if len(np.unique(groups)) < 3 or len(np.unique(x)) < 2:
        return math.nan, math.nan, (math.nan, math.nan)
    res = sm.OLS(y, sm.add_constant(x)).fit(cov_type="cluster", cov_kwds={"groups": groups},
                                           use_t=True)
    lo, hi = res.conf_int(alpha=1 - level)[1]
    return float(-res.params[1]), float(res.bse[1]), (float(-hi), float(-lo))


def _rate_fit(lay, e, method: FitMethod, point: dict, Ma: np.ndarray, boot: dict, *,
              level: float, n_boot: int, seed, second_opinion: bool,
              curvature_alpha: float) -> RateFit:
    """The RateFit of estimator ``e``: point estimate, bootstrap statistics and checks."""
    x = lay.x
    w = lay.m[e].astype(float)
    ya = method.adjust(lay.ybar()[e], x)
    warnings = list(lay.warnings)
    if len(lay.estimators) > 1:
        warnings = [wn for wn in warnings if not wn.startswith(tuple(
            f"{o}:" for o in lay.estimators if o != lay.estimators[e]))]
    se = float(boot_se(boot["exponent"], robust=method.robust_se))
    se_int = float(boot_se(boot["intercept"], robust=method.robust_se))
    df = contrast_df(lay, method.exponent_contrast(ya, x, w, point), w, method.n_params)
    beta = float(point["exponent"][0])
    ci = t_interval(beta, se, df, level)
    extra = {"floor": math.nan, "floor_ci": (math.nan, math.nan),
             **method.extra_fields(point, boot, level)}
    warnings += method.warnings(point, ya, w)
    if not se > 0:
        warnings.append("the bootstrap standard error is 0 (no variation between the "
                        "resampled units): the interval has no width and means nothing")
    b_per_k = float(-(line_contrasts(x, w)[0] @ np.log(x)))  # +1 in k raises beta by this
    curv = diagnostics.curvature(lay, ya, Ma, w, curvature_alpha)
    warnings += diagnostics.curvature_warning(curv, floor_fitted=np.isfinite(extra["floor"]))
    sizes = [int(s) for s in lay.sizes[w > 0]]
    opt = diagnostics.optimisation(lay, e, sizes)
    warnings += [f"optimisation-limited: {why}" for why in opt["why"]]
    if method.second_opinion and second_opinion:
        b_ols, se_ols, ci_ols = _second_opinion(lay, e, method, sizes, level)
    else:
        b_ols, se_ols, ci_ols = math.nan, math.nan, (math.nan, math.nan)
    per_draw = diagnostics.draw_exponents(lay, e, method, beta)
    estimands, variance = _estimands(lay, e, method, per_draw, (beta, se, df), level,
                                     second_opinion)
    if np.isfinite(estimands["class"]["se"]):  # the class is the headline: t over draws
        beta, se, df = (estimands["class"][k] for k in ("estimate", "se", "df"))
        ci = estimands["class"]["ci"]
    lr = diagnostics.lr_edges(lay, e, sizes)
    opt.update(lr)
    n_ok, n_fail, n_div = (int(v) for v in lay.status_counts[e].sum(axis=1))
    return RateFit(
        target=lay.target, estimator=lay.estimators[e], method=method.name, level=level,
        exponent=beta, se=se, ci=(float(ci[0]), float(ci[1])), df=df,
        intercept=float(point["intercept"][0]), intercept_se=se_int, **extra,
        polylog_k=float(method.polylog_k), polylog_shift=float(method.polylog_k) * b_per_k,
        polylog_shift_per_k=b_per_k, exponent_ols=b_ols, se_ols=se_ols, ci_ols=ci_ols,
        curvature=curv, optimisation=opt,
        per_n=diagnostics.per_size(lay, e, method.fitted_log(point, x)),
        local_slopes=diagnostics.local_slopes(lay, ya, Ma, w, level),
        excluded_sizes=list(lay.excluded[e]),
        draw_exponents=per_draw, estimands=estimands, variance=variance,
        n_draws=len(lay.draws), n_ok=n_ok, n_failed=n_fail + n_div, n_diverged=n_div,
        n_sizes=len(sizes), sizes=sizes, theory_exponent=lay.theory_exponent,
        resampling=lay.mode, n_boot=n_boot, seed=seed, warnings=warnings,
        fit_method=method, _boot=np.asarray(boot["exponent"]))


def _estimands(lay, e, method: FitMethod, per_draw, headline, level, mixedlm):
    """(estimands, variance) of estimator ``e`` (``RateFit.estimands``, ``.variance``).

    One draw: the conditional estimand is the headline (bootstrap) fit and the class
    is not estimable. Several: the class is the t interval over the per-draw exponents;
    the conditional one and the variance components come from the linear slope of the
    method-adjusted log risks (NaN for a non-linear method).
    """
    beta, se, df = headline
    nan = estimand(math.nan, math.nan, math.nan, level)
    if len(lay.draws) < 2:
        return {"class": nan, "conditional": estimand(beta, se, df, level)}, {}
    klass = class_estimand(per_draw["exponent"], level)
    if not method.second_opinion:
        return {"class": klass, "conditional": nan}, {}
    comp = slope_components(method.adjust(lay.Y[e].T, lay.x).T, lay.x, lay.unit_draw, level,
                            mixedlm=mixedlm)
    variance = {k: comp[k] for k in ("within", "between", "within_source", "heterogeneity",
                                     "mixedlm")}
    return {"class": klass, "conditional": comp["conditional"]}, variance


def fit_layout(lay, method: FitMethod, level=0.95, n_boot=2000, seed=0,
               second_opinion=True, curvature_alpha=diagnostics.CURVATURE_ALPHA) -> list:
    """RateFits for every estimator of a prepared layout (bootstrap draws shared)."""
    check_options(level, n_boot)
    method.check_sizes(lay.sizes)
    x = lay.x
    ybar = lay.ybar()
    m = lay.m.astype(float)
    points = [method.estimate(method.adjust(ybar[e][None], x), x, m[e])
              for e in range(len(lay.estimators))]
    fitted = np.stack([method.fitted_log(p, x) for p in points])
    Mb = boot_means(lay, int(n_boot), np.random.default_rng(seed), fitted=fitted,
                    n_params=method.n_params)
    fits = []
    for e, point in enumerate(points):
        Ma = method.adjust(Mb[e], x)
        boot = method.estimate(Ma, x, m[e], warm=point)
        fits.append(_rate_fit(lay, e, method, point, Ma, boot, level=float(level),
                              n_boot=int(n_boot), seed=seed, second_opinion=second_opinion,
                              curvature_alpha=float(curvature_alpha)))
    return fits


def fit_rate(results: pd.DataFrame, estimator=None, target=None, method="loglog",
             level: float = 0.95, n_boot: int = 2000, seed=0, polylog_k=None,
             second_opinion: bool = True, keep_plateau: bool = False,
             curvature_alpha: float = diagnostics.CURVATURE_ALPHA) -> RateFit:
    """Fit the convergence exponent beta in risk ~ n^-beta for one (target, estimator).

    Parameters
    ----------
    results : DataFrame in the results schema (``nprates.analysis.schema``); any table with
        the required columns works.
    estimator, target : which group to fit; may be omitted when the table holds one.
    method : "loglog", "offset", "polylog" (``nprates.analysis.methods.METHODS``) or a
        ``FitMethod`` object.
    level : confidence level of the intervals.
    n_boot : bootstrap draws (the default 2000 keeps the Monte Carlo error of the
        standard error near 1.6%).
    seed : seed of the bootstrap (fits are reproducible).
    polylog_k : the power k of the (log n)^k factor, required by method="polylog".
    second_opinion : also fit statsmodels OLS with cluster-robust errors (linear
        methods).
    keep_plateau : also fit sizes at the trivial plateau (column ``trivial``); by
        default they are left out and listed in ``excluded_sizes``.
    curvature_alpha : level of the curvature test (``RateFit.curvature``).

    Raises ValueError naming the problem: empty table, missing column, unknown
    target/estimator/method, NaN or fractional ``n``, fewer than 2 sizes with successful
    fits (3 once plateau sizes are left out), a constant risk, NaN, infinite or
    non-positive risk in a row with status "ok".
    """
    fm = make_method(method, polylog_k)
    lay = layout(results, target, [estimator], keep_plateau=keep_plateau)
    fit = fit_layout(lay, fm, level, n_boot, seed, second_opinion, curvature_alpha)[0]
    partial = warn_if_incomplete(results)
    if partial:
        fit.warnings.append(partial)
    return fit
