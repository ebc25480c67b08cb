"""The exponent of a class of targets and of the drawn functions: ``slope_components``.

A study draws D target functions from a class and fits R replicates of each at K
sizes. The log-log exponent of draw d is ``beta_d = c_d @ ybar_d`` (``ybar_d`` the
per-size means of draw d, ``c_d`` the exponent contrast of the weighted least-squares
line, ``nprates.analysis.contrasts.line_contrasts``). In a random-slope model

    beta_d = beta + u_d + e_d,   var(u_d) = tau^2 (between draws),
                                 var(e_d) = v_d   (within a draw: replicate noise),

two estimands share the point estimate ``mean_d beta_d`` and differ in their error:

class (draws random)
    the exponent of the class the functions were drawn from: the t interval over the
    per-draw estimates, ``sd(beta_d) / sqrt(D)`` with D - 1 degrees of freedom. It is
    exact under normal beta_d whatever tau^2 and v_d are (equal v_d), so it needs no
    variance component and no bootstrap of D points.
conditional (draws fixed)
    the mean exponent of the D drawn functions: ``sqrt(sum_d v_d) / D`` with
    ``v_d = sum_k c_dk^2 s_k^2 / m_dk``, ``s_k^2`` the within-(draw, size) variance of log
    risk pooled over draws at size k, and Satterthwaite degrees of freedom. With one
    replicate per cell there is no within-cell variance; the residual variance about the
    per-draw lines stands in (it includes any lack of fit, so it is conservative).

Components: within = mean_d v_d; between = max(0, var(beta_d) - within) (method of
moments). Heterogeneity: Cochran's Q = sum_d (beta_d - beta_w)^2 / v_d about the
precision-weighted mean beta_w; ``Q / (D - 1)`` is referred to F(D - 1, df_within) (the
exact F test of equal slopes when the within variance is constant). As a second
opinion, statsmodels ``MixedLM`` fits the random intercept and slope model to the cells
(REML): its fixed exponent, standard error and slope variance.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .contrasts import line_contrasts
from .intervals import t_interval, t_pvalue

ESTIMANDS = ("class", "conditional")
LABELS = {"class": "class (draws random)", "conditional": "given the drawn functions"}


def estimand(est, se, df, level) -> dict:
    """An estimand's dict: estimate, se, df, ci (``level`` t interval; NaN without a
    positive df and finite se), p_value (two-sided, of 0)."""
    if np.isfinite(se) and np.isfinite(df) and df > 0:
        lo, hi = t_interval(est, se, df, level)
    else:
        lo = hi = math.nan
    return {"estimate": float(est), "se": float(se), "df": float(df),
            "ci": (float(lo), float(hi)), "p_value": t_pvalue(est, se, df)}


def class_estimand(values, level) -> dict:
    """The class estimand from per-draw estimates: their mean with the t interval over
    them (``sd / sqrt(D)``, D - 1 df); all NaN but the estimate with fewer than 2."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return estimand(v.mean() if len(v) else math.nan, math.nan, math.nan, level)
    return estimand(v.mean(), v.std(ddof=1) / math.sqrt(len(v)), len(v) - 1, level)


def _mixedlm_note(converged: bool, messages) -> str:
    """What the MixedLM fit's convergence state and warnings say about its estimates."""
    if not converged:
        return "did not converge"
    if any("boundary" in m or "singular" in m for m in messages):
        # with few sizes per draw the random intercept and slope are weakly identified, and
        # REML puts a variance (or their correlation) at its limit
        return ("on the boundary of its parameter space (a random-effect variance near 0 "
                "or a singular covariance)")
    return f"converged with a warning: {messages[-1]}" if messages else ""


def _mixedlm(Y, x, draw) -> dict:
    import statsmodels.formula.api as smf

    K, U = Y.shape
    use = np.isfinite(Y)
    df = pd.DataFrame({"y": Y[use], "x": np.broadcast_to(x[:, None], (K, U))[use],
                       "g": np.broadcast_to(draw[None, :], (K, U))[use]})
    out = {"exponent": math.nan, "se": math.nan, "between": math.nan, "note": ""}
    if df["g"].nunique() < 2:
        out["note"] = "one draw"
        return out
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = smf.mixedlm("y ~ x", df, groups=df["g"], re_formula="~x").fit(reml=True)
        out.update(exponent=float(-res.fe_params["x"]), se=float(res.bse_fe["x"]),
                   between=float(res.cov_re.iloc[1, 1]))
        out["note"] = _mixedlm_note(res.converged, [str(w.message) for w in caught])
    except (ValueError, np.linalg.LinAlgError) as exc:
        out["note"] = f"failed: {exc}"
    return out


def slope_components(Y: np.ndarray, x: np.ndarray, unit_draw: np.ndarray,
                     level: float = 0.95, mixedlm: bool = True) -> dict:
    """The two estimands of the log-log exponent of ``Y`` and its variance components.

    Y : (K, U) log risks (or log risk ratios), NaN where absent; x : (K,) log sizes;
    unit_draw : (U,) the target draw of each unit (column of Y); level : of the
    intervals; mixedlm : also fit statsmodels MixedLM (second opinion).

    Returns a dict: draws (list), exponents (per-draw exponents, list), within_var
    (per-draw v_d, list), class and conditional (``estimand`` dicts), within, between
    (variance components of the exponent), within_source ("replicates" or "residuals"),
    cell_var (the pooled within-cell variance of Y: what one more cell adds),
    heterogeneity (Q, F, df1, df2, p_value, i2), mixedlm (exponent, se, between, note).
    Draws with fits at fewer than 2 sizes are left out.
    """
    Y = np.asarray(Y, dtype=float)
    x = np.asarray(x, dtype=float)
    draws, betas, gs, resid_ss, resid_df = [], [], [], 0.0, 0.0
    for d in np.unique(unit_draw):
        Yd = Y[:, unit_draw == d]
        md = np.isfinite(Yd).sum(axis=1).astype(float)
        if (md > 0).sum() < 2:
            continue
        ybar = np.divide(np.nansum(Yd, axis=1), md, out=np.zeros(len(md)), where=md > 0)
        c_exp, c_int = line_contrasts(x, md)
        beta = float(c_exp @ ybar)
        fitted = c_int @ ybar - beta * x
        resid_ss += float((md * (ybar - fitted) ** 2)[md > 0].sum())
        resid_df += (md > 0).sum() - 2
        draws.append(d)
        betas.append(beta)
        gs.append(np.divide(c_exp ** 2, md, out=np.zeros(len(md)), where=md > 0))
    if not draws:
        raise ValueError("no target draw has fits at 2 or more sizes")
    betas = np.asarray(betas)
    G = np.stack(gs)                                                     # (D, K)
    D = len(draws)
    # within-(draw, size) variance per size, pooled over draws
    ss = np.zeros(len(x))
    dfk = np.zeros(len(x))
    for d in draws:
        Yd = Y[:, unit_draw == d]
        m = np.isfinite(Yd).sum(axis=1)
        mean = np.divide(np.nansum(Yd, axis=1), m, out=np.zeros(len(m)), where=m > 0)
        ss += np.nansum((Yd - mean[:, None]) ** 2, axis=1)
        dfk += np.maximum(m - 1, 0)
    used = G.sum(axis=0) > 0
    if (dfk[used] > 0).all():
        s2 = np.divide(ss, dfk, out=np.zeros_like(ss), where=dfk > 0)
        cell_var = float(ss[used].sum() / dfk[used].sum())
        source = "replicates"
        a = G.sum(axis=0) * s2 / D ** 2                                   # (K,)
        var_cond = float(a.sum())
        df_cond = (float(var_cond ** 2 / (a[used] ** 2 / dfk[used]).sum())
                   if var_cond > 0 else math.inf)
        v = G @ s2
    elif resid_df > 0:
        s2 = cell_var = resid_ss / resid_df
        source = "residuals"
        v = G.sum(axis=1) * s2
        var_cond = float(v.sum()) / D ** 2
        df_cond = float(resid_df)
    else:
        source = "none"
        cell_var = math.nan
        v = np.full(D, math.nan)
        var_cond, df_cond = math.nan, math.nan
    est = float(betas.mean())
    class_ = class_estimand(betas, level)
    cond = estimand(est, math.sqrt(var_cond) if var_cond >= 0 else math.nan, df_cond,
                     level)
    within = float(np.mean(v))
    between = (max(0.0, float(betas.var(ddof=1)) - within) if D >= 2 else math.nan)
    het = {"Q": math.nan, "F": math.nan, "df1": float(D - 1), "df2": float(df_cond),
           "p_value": math.nan, "i2": math.nan}
    if D >= 2 and np.all(v > 0) and np.isfinite(df_cond):
        w = 1 / v
        bw = float((w * betas).sum() / w.sum())
        Q = float((w * (betas - bw) ** 2).sum())
        F = Q / (D - 1)
        het.update(Q=Q, F=F, p_value=float(stats.f.sf(F, D - 1, df_cond)),
                   i2=max(0.0, (Q - (D - 1)) / Q) if Q > 0 else 0.0)
    mixed = (_mixedlm(Y, x, np.asarray(unit_draw)) if mixedlm and D >= 2
             else {"exponent": math.nan, "se": math.nan, "between": math.nan,
                   "note": "not fitted"})
    return {"draws": [int(d) for d in draws], "exponents": betas.tolist(),
            "within_var": [float(t) for t in v], "class": class_, "conditional": cond,
            "within": within, "between": between, "within_source": source,
            "cell_var": cell_var,
            "heterogeneity": het, "mixedlm": mixed}
