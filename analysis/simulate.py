"""Synthetic results tables with a known exponent, and the calibration of the intervals
(``coverage`` for one curve, ``estimand_coverage`` for the class and conditional
estimands over target draws).

``simulate_curves`` draws risk = (offset + scale * n^-exponent * drift factor) *
(log n)^polylog_k * exp(noise * eps) for every (estimator, draw, n, replicate) cell, in
the results schema:
log-normal noise by default (eps standard normal), heavy-tailed on request (eps a
Student t with ``tail_df`` degrees of freedom, scaled to unit variance). Cells are
independent across n unless ``nested=True``, where a replicate's curve shares its
training data across n (one ``data_seed`` per replicate) and eps has a per-replicate
component of share ``correlation``. ``drift`` makes the local exponent change linearly in
log n by ``drift`` over the range of sizes (a curved, pre-asymptotic curve whose local
exponent at the middle size is ``exponent``). ``draws`` target draws, each with its own
exponent ``exponent + draw_sd * z`` (z standard normal), model a study with
``target_draws``.

``coverage`` fits many such tables and reports how often the interval covers the
true exponent and the bias of the estimate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .formatting import jsonable, num
from .summary import Summary
from .schema import COLUMNS, OPTIONAL

NOISE_DISTS = ("lognormal", "t")


def default_sizes(n_sizes: int = 7, low: float = 100, high: float = 10_000) -> np.ndarray:
    """``n_sizes`` sample sizes log-spaced over [low, high] (7 over two decades)."""
    return np.unique(np.round(np.geomspace(low, high, n_sizes)).astype(np.int64))


def _eps(rng, shape, noise_dist, tail_df):
    if noise_dist == "lognormal":
        return rng.standard_normal(shape)
    if noise_dist == "t":
        if not tail_df > 2:
            raise ValueError(f"tail_df must be > 2 for unit-variance t noise, got {tail_df}")
        return rng.standard_t(tail_df, shape) / math.sqrt(tail_df / (tail_df - 2))
    raise ValueError(f"unknown noise_dist {noise_dist!r}; choose one of {list(NOISE_DISTS)}")


def simulate_curves(exponent, sizes=None, replicates: int = 5, noise: float = 0.3,
                    offset: float = 0.0, seed=0, *, scale: float = 1.0,
                    noise_dist: str = "lognormal", tail_df: float = 3.0, nested: bool = False,
                    correlation: float = 0.5, polylog_k: float = 0.0, estimator: str = "sim",
                    target: str = "sim", theory_exponent=None,
                    fail_rate: float = 0.0, drift: float = 0.0, draws: int = 1,
                    draw_sd: float = 0.0) -> pd.DataFrame:
    """A results table with a known exponent.

    exponent : the true beta, or a dict {estimator name: beta} for several estimators
        (they share data seeds, as in a study, with independent noise).
    sizes : sample sizes (default: 7 log-spaced over 100..10000).
    replicates : replicates per size; noise : standard deviation of log risk.
    offset : the floor E in risk = (E + scale n^-beta) ...; polylog_k : a (log n)^k factor.
    nested, correlation : replicate curves sharing training data across n.
    theory_exponent : the column's value (default: beta when a single exponent is given).
    fail_rate : probability that a cell is marked "failed" (risk NaN).
    drift : change of the local exponent over the range of log n (positive: the curve
        steepens at large n); the local exponent at the middle of the range is beta.
    draws, draw_sd : target draws (column ``draw``) and the standard deviation of their
        exponents around beta.
    """
    exps = dict(exponent) if isinstance(exponent, dict) else {estimator: float(exponent)}
    if not exps:
        raise ValueError("exponent must be a number or a non-empty dict")
    sizes = default_sizes() if sizes is None else np.asarray(sizes, dtype=np.int64)
    if sizes.ndim != 1 or len(sizes) == 0 or (sizes <= 0).any():
        raise ValueError(f"sizes must be a non-empty list of positive integers, got {sizes}")
    if int(replicates) < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    if noise < 0 or offset < 0 or scale <= 0:
        raise ValueError("noise and offset must be >= 0 and scale > 0")
    if not 0 <= correlation <= 1:
        raise ValueError(f"correlation must be in [0, 1], got {correlation}")
    if int(draws) < 1 or draw_sd < 0:
        raise ValueError(f"draws must be >= 1 and draw_sd >= 0, got {draws}, {draw_sd}")
    R, K = int(replicates), len(sizes)
    rng = np.random.default_rng(seed)
    if theory_exponent is None:
        theory_exponent = next(iter(exps.values())) if len(exps) == 1 else math.nan
    n = np.repeat(sizes, R)
    rep = np.tile(np.arange(R), K)
    tag = seed if isinstance(seed, (int, np.integer)) else "sim"
    x = np.log(sizes.astype(float))
    span = max(x[-1] - x[0], 1e-12)
    bend = np.exp(-drift * (x - (x[0] + x[-1]) / 2) ** 2 / (2 * span))
    shifts = draw_sd * rng.standard_normal(int(draws)) if draws > 1 else np.zeros(1)
    frames = []
    for d, shift in enumerate(shifts):
        pre = f"{tag}:d{d}" if draws > 1 else f"{tag}"
        if nested:
            seeds = np.array([f"{pre}:r{r}" for r in rep])
        else:
            seeds = np.array([f"{pre}:n{a}:r{r}" for a, r in zip(n, rep)])
        for name, beta in exps.items():
            eps = _eps(rng, (K, R), noise_dist, tail_df)
            if nested:
                u = _eps(rng, (1, R), noise_dist, tail_df)
                eps = math.sqrt(correlation) * u + math.sqrt(1 - correlation) * eps
            mean = offset + scale * sizes.astype(float) ** -(float(beta) + shift) * bend
            if polylog_k:
                mean = mean * np.log(sizes.astype(float)) ** polylog_k
            risk = (mean[:, None] * np.exp(noise * eps)).ravel()
            status = np.full(K * R, "ok", dtype=object)
            error = np.full(K * R, "", dtype=object)
            if fail_rate > 0:
                fail = rng.random(K * R) < fail_rate
                status[fail], error[fail], risk[fail] = "failed", "simulated failure", np.nan
            frames.append(pd.DataFrame({
                "target": target, "estimator": name, "n": n, "replicate": rep, "draw": d,
                "risk": risk, "status": status, "study": "simulated", "error": error,
                "theory_exponent": float(theory_exponent), "data_seed": seeds,
                "cell_key": [f"{target}/{name}/d{d}/n{a}/r{r}" if draws > 1 else
                             f"{target}/{name}/n{a}/r{r}" for a, r in zip(n, rep)]}))
    out = pd.concat(frames, ignore_index=True)
    for col, default in OPTIONAL.items():
        if col not in out:
            out[col] = default
    return out[list(COLUMNS)]


@dataclass(eq=False)
class CoverageResult:
    """Empirical calibration of a method's interval on simulated tables.

    coverage : share of intervals containing the true exponent; coverage_se : its
    binomial standard error; bias : mean(estimate) - true; rmse; mean_se : mean
    reported SE; sd_estimate : spread of the estimates (mean_se / sd_estimate near 1
    means honest standard errors); mean_width : mean interval width; n_errors : fits
    that raised (not counted in coverage); seconds; settings : the simulation.
    """

    method: str
    level: float
    n_sim: int
    coverage: float
    coverage_se: float
    bias: float
    rmse: float
    mean_se: float
    sd_estimate: float
    mean_width: float
    n_errors: int
    seconds: float
    settings: dict = field(default_factory=dict)
    estimates: np.ndarray = field(default=None, repr=False)
    covered: np.ndarray = field(default=None, repr=False)

    def summary(self) -> Summary:
        s = self.settings
        left = [("Method", self.method), ("Simulations", self.n_sim),
                ("True exponent", num(s.get("exponent"))),
                ("Sizes", f"{len(s.get('sizes', []))} ({min(s['sizes'])}-{max(s['sizes'])})"),
                ("Replicates", s.get("replicates")),
                ("Noise", f"{s.get('noise_dist')} {num(s.get('noise'), '.3g')}")]
        right = [(f"Coverage ({self.level:g})", f"{self.coverage:.3f} +- "
                  f"{self.coverage_se:.3f}"),
                 ("Bias", num(self.bias, "+.4f")), ("RMSE", num(self.rmse)),
                 ("Mean SE / SD", num(self.mean_se / self.sd_estimate
                                      if self.sd_estimate > 0 else math.nan, ".3f")),
                 ("Mean width", num(self.mean_width)), ("Errors", self.n_errors)]
        out = Summary()
        out.add_header("Interval calibration", left, right)
        return out

    def to_dict(self) -> dict:
        return jsonable({k: getattr(self, k) for k in self.__dataclass_fields__
                         if k not in ("estimates", "covered")})


def coverage(method: str = "loglog", n_sim: int = 1000, exponent: float = 0.5, sizes=None,
             replicates: int = 5, noise: float = 0.3, offset: float = 0.0,
             level: float = 0.95, seed: int = 0, n_boot: int = 1000,
             noise_dist: str = "lognormal", nested: bool = False, polylog_k=None,
             **fit_kwargs) -> CoverageResult:
    """Fit ``n_sim`` simulated tables with ``method`` and measure calibration.

    Each simulation draws a fresh table with ``simulate_curves`` (seeded from
    ``seed``) and fits it with ``fit_rate`` (bootstrap seeded per simulation, no
    statsmodels second opinion). ``polylog_k`` is used both to simulate and to fit
    when ``method="polylog"``. Other keywords go to ``simulate_curves`` (e.g.
    ``tail_df``, ``correlation``, ``scale``) or ``fit_rate``.
    """
    from .rates import fit_rate

    sim_keys = {"scale", "tail_df", "correlation", "fail_rate"}
    sim_kw = {k: fit_kwargs.pop(k) for k in list(fit_kwargs) if k in sim_keys}
    sizes = default_sizes() if sizes is None else np.asarray(sizes, dtype=np.int64)
    k = float(polylog_k) if polylog_k is not None else 0.0
    children = np.random.SeedSequence(seed).spawn(int(n_sim))
    est, lo, hi, se = (np.full(n_sim, np.nan) for _ in range(4))
    errors = 0
    t0 = time.perf_counter()
    for i, child in enumerate(children):
        table = simulate_curves(exponent, sizes, replicates, noise, offset,
                                seed=np.random.default_rng(child), noise_dist=noise_dist,
                                nested=nested, polylog_k=k, **sim_kw)
        try:
            fit = fit_rate(table, method=method, level=level, n_boot=n_boot, seed=i,
                           polylog_k=polylog_k, second_opinion=False, **fit_kwargs)
        except ValueError:
            errors += 1
            continue
        est[i], se[i] = fit.exponent, fit.se
        lo[i], hi[i] = fit.ci
    seconds = time.perf_counter() - t0
    ok = np.isfinite(est)
    covered = (lo[ok] <= exponent) & (exponent <= hi[ok])
    cov = float(covered.mean()) if ok.any() else math.nan
    m = int(ok.sum())
    settings = {"exponent": float(exponent), "sizes": [int(s) for s in sizes],
                "replicates": int(replicates), "noise": float(noise),
                "noise_dist": noise_dist, "offset": float(offset), "nested": bool(nested),
                "polylog_k": polylog_k, "n_boot": int(n_boot), "seed": seed, **sim_kw,
                **{k_: v for k_, v in fit_kwargs.items()}}
    return CoverageResult(
        method=method, level=float(level), n_sim=int(n_sim), coverage=cov,
        coverage_se=math.sqrt(cov * (1 - cov) / m) if m else math.nan,
        bias=float(np.nanmean(est) - exponent),
        rmse=float(np.sqrt(np.nanmean((est - exponent) ** 2))),
        mean_se=float(np.nanmean(se)), sd_estimate=float(np.nanstd(est, ddof=1)),
        mean_width=float(np.nanmean(hi - lo)), n_errors=errors, seconds=seconds,
        settings=settings, estimates=est, covered=covered)


def verdict_rates(exponent: float, theory_exponent: float, n_sim: int = 200, *,
                  sizes=None, replicates: int = 5, noise: float = 0.15, drift: float = 0.0,
                  tolerance=None, level: float = 0.95, n_boot: int = 1000, seed: int = 0,
                  **fit_kwargs) -> dict:
    """How often ``check_theory`` gives each verdict on simulated studies with known truth.

    Each of ``n_sim`` studies draws a table with ``simulate_curves`` (true ``exponent``,
    local-slope ``drift``, log-normal noise) and checks its loglog fit against
    ``theory_exponent``. Returns {verdict: share of studies} (verdicts as in
    ``TheoryCheck.verdict``, e.g. "consistent" or "inconclusive (pre-asymptotic)"), plus
    "flagged": the share whose curvature test fired. ``fit_kwargs`` go to ``fit_rate``
    (e.g. ``curvature_alpha``).
    """
    from .rates import fit_rate
    from .theory import TOLERANCE, check_theory

    tol = TOLERANCE if tolerance is None else float(tolerance)
    children = np.random.SeedSequence(seed).spawn(int(n_sim))
    counts: dict = {}
    flagged = 0
    for i, child in enumerate(children):
        table = simulate_curves(exponent, sizes, replicates, noise,
                                seed=np.random.default_rng(child), drift=drift,
                                theory_exponent=theory_exponent)
        fit = fit_rate(table, level=level, n_boot=n_boot, seed=i, second_opinion=False,
                       **fit_kwargs)
        verdict = check_theory(fit, tolerance=tol).verdict
        counts[verdict] = counts.get(verdict, 0) + 1
        flagged += fit.curvature["flag"] is not None
    out = {k: v / n_sim for k, v in sorted(counts.items())}
    out["flagged"] = flagged / n_sim
    return out


def estimand_coverage(n_draws: int, replicates: int, n_sim: int = 2000,
                      exponent: float = 0.0, draw_sd: float = 0.05, noise: float = 0.2,
                      sizes=(689, 1485, 3200), level: float = 0.95, seed: int = 0) -> dict:
    """Coverage of the class and conditional intervals of ``slope_components``.

    Each simulation draws ``n_draws`` per-draw exponents ``exponent + draw_sd * z`` and
    log values ``-beta_d log n + noise * eps`` (eps standard normal) for ``replicates``
    replicates at each of ``sizes`` (e.g. the paired log risk ratios of a comparison).
    The class interval should cover ``exponent``, the conditional one the mean of the
    drawn exponents. Returns n_draws, replicates, n_sim, class_coverage,
    conditional_coverage (conditional NaN with one replicate and a straight line: its
    residual variance is then all noise, so it is reported too), their binomial standard
    errors, and the mean class half-width.
    """
    from .variance_components import slope_components

    if int(n_draws) < 2 or int(replicates) < 1 or int(n_sim) < 1:
        raise ValueError("need n_draws >= 2, replicates >= 1 and n_sim >= 1")
    rng = np.random.default_rng(seed)
    x = np.log(np.asarray(sizes, dtype=float))
    draw = np.repeat(np.arange(int(n_draws)), int(replicates))
    hit_c = hit_k = 0
    width = 0.0
    for _ in range(int(n_sim)):
        beta = exponent + draw_sd * rng.standard_normal(int(n_draws))
        Y = -np.outer(x, beta[draw]) + noise * rng.standard_normal((len(x), len(draw)))
        comp = slope_components(Y, x, draw, level, mixedlm=False)
        lo, hi = comp["class"]["ci"]
        hit_k += lo <= exponent <= hi
        width += (hi - lo) / 2
        lo, hi = comp["conditional"]["ci"]
        hit_c += lo <= beta.mean() <= hi
    k, c = hit_k / n_sim, hit_c / n_sim
    return {"n_draws": int(n_draws), "replicates": int(replicates), "n_sim": int(n_sim),
            "class_coverage": k, "class_se": math.sqrt(k * (1 - k) / n_sim),
            "conditional_coverage": c, "conditional_se": math.sqrt(c * (1 - c) / n_sim),
            "class_half_width": width / n_sim}
