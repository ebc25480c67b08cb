"""The rows of one target arranged for the rate fits: ``layout``.

Everything the fits report is a function of the *per-size means of log risk*
``ybar_k`` (k over sample sizes), weighted by the number of successful fits ``m_k``
at each size, so a weighted fit on the means equals least squares on the raw rows.
``layout`` validates the table, picks the rows of one target and some estimators and
puts their log risks on a (estimator x size x unit) grid, where a unit is one
(target draw, replicate) pair: the bootstrap (``nprates.analysis.bootstrap``) resamples
units, or groups of them.

Sizes on the plateau are left out of the fit unless ``keep_plateau=True``: there the
estimator has not yet left the risk of predicting the training mean, and such sizes would
drive the exponent (docs/theory.md section 8). The rule (``plateau_sizes``): a size is off
the plateau only when the median over its ok cells of ``risk / null_risk`` is at most
``PLATEAU_LEVEL`` (0.1) and, for the sizes before the first such clean size, its cells are
not optimisation-limited (a curve with no clean size keeps its sizes: its fit carries the
reason "optimisation-limited") (``CAP_SHARE``, ``GAP_RATIO``, as for a whole fit in
``nprates.analysis.diagnostics.optimisation``). Where ``null_risk`` is unknown the column
``trivial`` decides (most ok cells have risk >= half the null risk).

Why 0.1: a curve leaving a plateau R0 towards C n^-b, r = (R0^-p + (C n^-b)^-p)^(-1/p),
has local exponent b (1 - (r / R0)^p). With the gentlest exit (p = 1) the log-log fit
over 7 sizes in 32..3200, from the first size with r / R0 <= tau on, is biased low by at
most 0.043 at tau = 0.1 (0.066 at 0.15, 0.089 at 0.2, 0.25 at the old 0.5), for
b = 2/3 and every position of the exit: under half the default margin 0.1. The one exit
the published study shows in a non-compared estimator (the WindowMLP on the selection
class) is sharper (p of about 4 at b = 2/3), for which 0.1 leaves a bias under 0.001
(0.003 at p = 2).
``benchmarks/bench_draws.py`` recomputes these numbers; docs/results.md lists the
sizes the rule drops.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .schema import validate_results

#: Per-size means over ok rows kept for the per-size table (where the column is known).
EXTRA_COLUMNS = ("train_loss", "val_loss", "noise", "fit_seconds", "opt_gap")
#: Median risk / null_risk at or under which a size is off the plateau (module docstring).
PLATEAU_LEVEL = 0.1
#: Share of trained cells stopped by their step cap above which cells are cap-limited.
CAP_SHARE = 0.1
#: Median optimisation gap / risk above which cells are optimisation-limited.
GAP_RATIO = 0.5


class InsufficientData(ValueError):
    """Too few successful fits to estimate a rate (a ValueError)."""


def _names(values) -> str:
    return ", ".join(repr(v) for v in values)


def _resolve(values: pd.Series, name, kind: str) -> str:
    known = sorted(pd.unique(values.astype(str)))
    if name is None:
        if len(known) != 1:
            raise ValueError(f"results hold {len(known)} {kind}s ({_names(known)}): "
                             f"pass {kind}= to choose one")
        return known[0]
    if str(name) not in known:
        raise ValueError(f"unknown {kind} {name!r}; the results hold: {_names(known)}")
    return str(name)


def select(results: pd.DataFrame, target, estimators):
    """Validate ``results`` and return (rows of target and estimators, target, names).

    ``estimators`` is a list of names or Nones (None: the only estimator of the target).
    Raises ValueError for non-positive n, a non-finite or non-positive risk in an ok row
    and duplicate (estimator, draw, n, replicate) cells.
    """
    df = validate_results(results)
    df["target"] = df["target"].astype(str)
    df["estimator"] = df["estimator"].astype(str)
    target = _resolve(df["target"], target, "target")
    df = df[df["target"] == target]
    names = [_resolve(df["estimator"], e, "estimator") for e in estimators]
    sub = df[df["estimator"].isin(names)]
    if (sub["n"] <= 0).any():
        raise ValueError("results column 'n' must hold positive sample sizes; got "
                         f"{sorted(set(sub.loc[sub['n'] <= 0, 'n']))}")
    ok = sub["status"] == "ok"
    risk = sub["risk"].to_numpy(dtype=float)
    bad = ok.to_numpy() & ~(np.isfinite(risk) & (risk > 0))
    if bad.any():
        rows = sub[bad]
        where = "; ".join(f"estimator={r.estimator} n={r.n} replicate={r.replicate} "
                          f"risk={r.risk}" for r in rows.head(5).itertuples())
        more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
        raise ValueError(f"results column 'risk' must be finite and positive where status "
                         f"is 'ok'; bad row(s): {where}{more} (mark failed fits with status "
                         f"'failed' or 'diverged')")
    dup = sub.duplicated(["estimator", "draw", "n", "replicate"], keep=False)
    if dup.any():
        r = sub[dup].iloc[0]
        raise ValueError(f"results hold duplicate rows for estimator={r.estimator} "
                         f"draw={r.draw} n={r.n} replicate={r.replicate}: each (estimator, "
                         f"draw, n, replicate) cell must appear once")
    return sub, target, names


@dataclass
class Layout:
    """Log risks of one target and one or more estimators on a (size x unit) grid.

    Sizes are all sizes present for these estimators, also those where every fit
    failed or that sit at the trivial plateau (their weight is 0 there).
    """

    target: str
    estimators: list
    sizes: np.ndarray          # (K,)
    units: np.ndarray          # (U, 2) (draw, replicate) of each unit
    Y: np.ndarray              # (E, K, U) log risk; NaN = failed, absent or excluded
    mode: str                  # stratified | curves | draws | residual
    status_counts: np.ndarray  # (E, 3, K) rows with status ok, failed, diverged
    plateau: np.ndarray        # (E, K) bool: size at the trivial plateau
    limited: np.ndarray        # (E, K) bool: plateau sizes below the level, left out as
                               # optimisation-limited before the curve leaves the plateau
    excluded: list             # per estimator: sizes left out as plateau
    extras: list               # per estimator: {column: (K,) mean over ok rows}
    theory_exponent: float
    rows: pd.DataFrame         # the selected ok rows
    warnings: list = field(default_factory=list)

    @property
    def x(self) -> np.ndarray:
        """(K,) natural log of the sizes."""
        return np.log(self.sizes.astype(float))

    @property
    def valid(self) -> np.ndarray:
        return ~np.isnan(self.Y)

    @property
    def m(self) -> np.ndarray:
        """(E, K) number of fitted cells per estimator and size."""
        return self.valid.sum(axis=2)

    @property
    def unit_draw(self) -> np.ndarray:
        """(U,) target draw of each unit."""
        return self.units[:, 0]

    @property
    def draws(self) -> np.ndarray:
        """The target draws with at least one fitted cell."""
        return np.unique(self.unit_draw[self.valid.any(axis=(0, 1))])

    def ybar(self, Y=None) -> np.ndarray:
        """(E, K) mean log risk (of ``Y``, default the layout's); 0 where no fit (weight 0)."""
        Y = self.Y if Y is None else Y
        valid = ~np.isnan(Y)
        m = valid.sum(axis=-1)
        s = np.where(valid, Y, 0.0).sum(axis=-1)
        return np.divide(s, m, out=np.zeros_like(s), where=m > 0)

    @property
    def n_groups(self) -> int:
        """Resampling groups with a fit: draws in "draws" mode, units otherwise."""
        if self.mode == "draws":
            return len(self.draws)
        return int(self.valid.any(axis=(0, 1)).sum())


def _nested(unit, n, seed) -> bool:
    """Does some unit use one data_seed at several sizes?"""
    seen: dict = {}
    for u, k, s in zip(unit, n, seed):
        if s and s not in ("nan", "None"):
            first = seen.setdefault((u, s), k)
            if first != k:
                return True
    return False


def optimisation_limited(rows: pd.DataFrame) -> bool:
    """Are these cells (one estimator and size) optimisation-limited? Over the cells
    trained by an optimiser (``stopped_by`` recorded): more than CAP_SHARE stopped at their
    cap, or the median of opt_gap / risk (train_loss - noise^2 where opt_gap is missing)
    is above GAP_RATIO."""
    stopped = rows["stopped_by"].fillna("").astype(str)
    trained = rows[(stopped != "").to_numpy()]
    if trained.empty:
        return False
    if (stopped[stopped != ""] == "cap").mean() > CAP_SHARE:
        return True
    gap = pd.to_numeric(trained["opt_gap"], errors="coerce").to_numpy(dtype=float)
    fallback = (pd.to_numeric(trained["train_loss"], errors="coerce")
                - pd.to_numeric(trained["noise"], errors="coerce") ** 2).to_numpy(dtype=float)
    ratio = np.where(np.isfinite(gap), gap, fallback) / trained["risk"].to_numpy(dtype=float)
    ratio = ratio[np.isfinite(ratio)]
    return bool(len(ratio) and np.median(ratio) > GAP_RATIO)


def plateau_sizes(sub, ok, ei, ki, n_ok, n_trivial) -> tuple:
    """(plateau, limited), each (E, K) bool: the sizes on the plateau by the rule of the
    module docstring, and those of them left out only as optimisation-limited (their risk is
    below the level).

    sub : the selected rows; ok : (rows,) status ok; ei, ki : (rows,) estimator and size
    index of each row; n_ok, n_trivial : (E, K) ok cells and ok cells marked trivial.
    """
    E, K = n_ok.shape
    level = np.full((E, K), np.nan)
    limited = np.zeros((E, K), dtype=bool)
    null = pd.to_numeric(sub["null_risk"], errors="coerce").to_numpy(dtype=float)
    ratio = sub["risk"].to_numpy(dtype=float) / null
    for e in range(E):
        for k in range(K):
            sel = ok & (ei == e) & (ki == k)
            if not sel.any():
                continue
            r = ratio[sel]
            if np.isfinite(r).all():
                level[e, k] = np.median(r)
            limited[e, k] = optimisation_limited(sub[sel])
    above = np.where(np.isfinite(level), level > PLATEAU_LEVEL, 2 * n_trivial > n_ok)
    above &= n_ok > 0
    clean = (n_ok > 0) & ~above & ~limited
    # with no clean size at all the fit keeps its sizes and is flagged optimisation-limited
    first = np.where(clean.any(axis=1), clean.argmax(axis=1), 0)
    leading = np.arange(K)[None, :] < first[:, None]
    held = leading & limited & (n_ok > 0) & ~above
    return above | held, held


def _cell_means(sub, ok, ei, ki, E, K) -> list:
    extras = [{} for _ in range(E)]
    for col in EXTRA_COLUMNS:
        vals = pd.to_numeric(sub[col], errors="coerce").to_numpy(dtype=float)
        use = ok & np.isfinite(vals)
        if not use.any():
            continue
        tot = np.zeros((E, K))
        cnt = np.zeros((E, K))
        np.add.at(tot, (ei[use], ki[use]), vals[use])
        np.add.at(cnt, (ei[use], ki[use]), 1)
        for e in range(E):
            if cnt[e].any():
                extras[e][col] = np.divide(tot[e], cnt[e], out=np.full(K, np.nan),
                                           where=cnt[e] > 0)
    return extras


def layout(results: pd.DataFrame, target=None, estimators=(None,),
           keep_plateau: bool = False, rate: bool = True) -> Layout:
    """Arrange the rows of ``target`` and ``estimators`` for the fits (module docstring).

    Raises InsufficientData when an estimator has successful fits at fewer than 2
    sizes, or fewer than 3 once plateau sizes are left out, or a constant risk. With
    ``rate=False`` (risks set side by side, no rate fitted) one successful fit is enough.
    """
    sub, target, names = select(results, target, list(estimators))
    warnings: list = []
    est = sub["estimator"].to_numpy()
    n = sub["n"].to_numpy(dtype=np.int64)
    draw = sub["draw"].to_numpy(dtype=np.int64)
    rep = sub["replicate"].to_numpy(dtype=np.int64)
    status = sub["status"].astype(str).to_numpy()
    risk = sub["risk"].to_numpy(dtype=float)
    trivial = sub["trivial"].fillna(False).astype(bool).to_numpy()
    sizes, ki = np.unique(n, return_inverse=True)
    units, ui = np.unique(np.column_stack([draw, rep]), axis=0, return_inverse=True)
    ui = ui.ravel()
    E, K, U = len(names), len(sizes), len(units)
    ei = np.zeros(len(sub), dtype=int)
    for e, name in enumerate(names):
        ei[est == name] = e
    counts = np.zeros((E, 3, K), dtype=np.int64)
    for j, s in enumerate(("ok", "failed", "diverged")):
        sel = status == s
        np.add.at(counts[:, j], (ei[sel], ki[sel]), 1)
    ok = status == "ok"
    n_trivial = np.zeros((E, K), dtype=np.int64)
    np.add.at(n_trivial, (ei[ok & trivial], ki[ok & trivial]), 1)
    plateau, limited = plateau_sizes(sub, ok, ei, ki, counts[:, 0], n_trivial)
    Y = np.full((E, K, U), np.nan)
    Y[ei[ok], ki[ok], ui[ok]] = np.log(risk[ok])
    excluded = [[] for _ in names]
    if not keep_plateau:
        Y[plateau] = np.nan
        excluded = [[int(s) for s in sizes[plateau[e]]] for e in range(E)]
    for e, name in enumerate(names):
        n_ok, n_f, n_d = counts[e]
        for k in np.flatnonzero((n_ok == 0) & (n_f + n_d > 0)):
            warnings.append(f"{name}: no successful fit at n={sizes[k]} ({n_f[k]} failed, "
                            f"{n_d[k]} diverged); that size is left out")
        got = sizes[(~np.isnan(Y[e])).any(axis=1)]
        if excluded[e]:
            warnings.append(f"{name}: n={excluded[e]} sit on the plateau (median risk above "
                            f"{PLATEAU_LEVEL:g} of the risk of predicting the mean, or cells "
                            f"optimisation-limited before the curve leaves it) and are "
                            f"left out of the fit (keep_plateau=True keeps them)")
            if len(got) < 3:
                raise InsufficientData(
                    f"estimator {name!r} on target {target!r}: only {len(got)} sample "
                    f"size(s) remain once the plateau sizes n={excluded[e]} are left out "
                    f"(column 'trivial'); a rate needs >= 3 (pass keep_plateau=True to fit "
                    f"them anyway)")
        if not rate:
            if not len(got):
                raise InsufficientData(f"estimator {name!r} on target {target!r} has no "
                                       f"successful fit (status 'ok')")
            continue
        if len(got) < 2:
            raise InsufficientData(
                f"estimator {name!r} on target {target!r}: a rate needs successful fits at "
                f">= 2 distinct sample sizes (column 'n'); got {len(got)}"
                + (f" (n={got.tolist()})" if len(got) else ""))
        fitted = Y[e][~np.isnan(Y[e])]
        if np.ptp(fitted) == 0:
            raise InsufficientData(
                f"estimator {name!r} on target {target!r}: column 'risk' is constant "
                f"({math.exp(fitted[0]):.6g}) in every fitted cell, so there is no rate to "
                f"estimate (an estimator that predicts a constant, or copied cells?)")
    th = pd.to_numeric(sub["theory_exponent"], errors="coerce").dropna().unique()
    theory = float(np.median(th)) if len(th) else math.nan
    if len(th) > 1:
        warnings.append(f"column 'theory_exponent' is not constant within target {target!r} "
                        f"({sorted(th)}); using the median {theory:.4g}")
    lay = Layout(target=target, estimators=names, sizes=sizes, units=units, Y=Y,
                 mode="stratified", status_counts=counts, plateau=plateau, limited=limited,
                 excluded=excluded, extras=_cell_means(sub, ok, ei, ki, E, K),
                 theory_exponent=theory, rows=sub[ok], warnings=warnings)
    _choose_mode(lay, ui, n, sub["data_seed"].astype(str).to_numpy())
    return lay


def _choose_mode(lay: Layout, ui, n, seeds) -> None:
    """Set the resampling mode of ``lay`` and add warnings about the design."""
    warnings, sizes = lay.warnings, lay.sizes
    per_size = lay.valid.any(axis=0).sum(axis=1)
    used = per_size > 0
    if len(lay.draws) > 1:
        lay.mode = "draws"
        if len(lay.draws) < 5:
            warnings.append(f"{len(lay.draws)} target draws: the interval describes the "
                            f"class with {len(lay.draws) - 1} degree(s) of freedom and is "
                            f"wide; more draws narrow it")
    elif _nested(ui, n, seeds):
        lay.mode = "curves" if lay.n_groups >= 2 else "residual"
        if lay.mode == "residual":
            warnings.append("replicates share training data across n but there is only one "
                            "replicate curve: the interval treats sizes as independent")
    elif per_size[used].min() < 2:
        lay.mode = "residual"
        thin = sizes[used & (per_size < 2)].tolist()
        warnings.append(f"fewer than 2 successful replicates at n={thin}: the interval "
                        f"resamples residuals and assumes the fitted form and a constant "
                        f"variance")
    fitted_sizes = sizes[used]
    span = math.log10(fitted_sizes[-1] / fitted_sizes[0])
    if len(fitted_sizes) < 4:
        warnings.append(f"only {len(fitted_sizes)} sample sizes (fewer than 4): the exponent "
                        f"and its interval rest on very few points and curvature cannot be "
                        f"judged well")
    if span < 1:
        warnings.append(f"the sample sizes span {span:.2f} decades (less than one): the "
                        f"exponent is poorly determined and may be pre-asymptotic")

