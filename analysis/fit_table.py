"""One row per (target, estimator): ``fit_all`` and its text form ``format_fit_table``."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .formatting import ci_text
from .layout import InsufficientData
from .methods import make_method
from .rates import check_options, fit_rate
from .schema import validate_results
from .summary import Summary
from .theory import check_theory

FIT_ALL_COLUMNS = ["target", "estimator", "method", "exponent", "ci_low", "ci_high", "se",
                   "n_ok", "n_failed", "theory_exponent", "verdict", "reason", "level",
                   "n_sizes", "n_min", "n_max", "excluded_sizes", "n_draws", "warnings"]


def fit_all(results: pd.DataFrame, method="loglog", level: float = 0.95,
            n_boot: int = 2000, seed=0, polylog_k=None, second_opinion: bool = False,
            keep_plateau: bool = False, **check_kwargs) -> pd.DataFrame:
    """One row per (target, estimator): exponent, interval and the theory check.

    Columns: target, estimator, method, exponent, ci_low, ci_high, se, n_ok, n_failed,
    theory_exponent, verdict (``TheoryCheck.verdict``, e.g. "consistent" or
    "inconclusive (pre-asymptotic)"; "no theory" / "no fit" with the reason in
    ``warnings``), reason (``TheoryCheck.reason``), level, n_sizes, n_min, n_max,
    excluded_sizes (list of plateau sizes left out), n_draws, warnings (joined by "; ").
    A group that cannot be fitted (e.g. all fits failed) gets a row with NaN exponent
    and its reason rather than stopping the whole table. ``check_kwargs`` go to
    ``check_theory`` (e.g. ``tolerance``).
    """
    fm = make_method(method, polylog_k)
    check_options(level, n_boot)
    df = validate_results(results)
    rows = []
    for (tgt, est), g in df.groupby([df["target"].astype(str), df["estimator"].astype(str)],
                                    sort=True):
        base = {"target": tgt, "estimator": est, "method": fm.name, "level": level}
        try:
            fit = fit_rate(df, estimator=est, target=tgt, method=fm, level=level,
                           n_boot=n_boot, seed=seed, second_opinion=second_opinion,
                           keep_plateau=keep_plateau)
        except InsufficientData as exc:
            ok = int((g["status"] == "ok").sum())
            rows.append({**base, "exponent": math.nan, "ci_low": math.nan, "ci_high": math.nan,
                         "se": math.nan, "n_ok": ok, "n_failed": len(g) - ok,
                         "theory_exponent": math.nan, "verdict": "no fit", "reason": "",
                         "n_sizes": int(g["n"].nunique()), "n_min": int(g["n"].min()),
                         "n_max": int(g["n"].max()), "excluded_sizes": [],
                         "n_draws": int(g["draw"].nunique()), "warnings": str(exc)})
            continue
        if np.isfinite(fit.theory_exponent):
            check = check_theory(fit, **check_kwargs)
            verdict, reason = check.verdict, check.reason
        else:
            verdict, reason = "no theory", ""
        rows.append({**base, "exponent": fit.exponent, "ci_low": fit.ci[0],
                     "ci_high": fit.ci[1], "se": fit.se, "n_ok": fit.n_ok,
                     "n_failed": fit.n_failed, "theory_exponent": fit.theory_exponent,
                     "verdict": verdict, "reason": reason, "n_sizes": fit.n_sizes,
                     "n_min": fit.sizes[0], "n_max": fit.sizes[-1],
                     "excluded_sizes": list(fit.excluded_sizes), "n_draws": fit.n_draws,
                     "warnings": "; ".join(fit.warnings)})
    return pd.DataFrame(rows, columns=FIT_ALL_COLUMNS)


def format_fit_table(table: pd.DataFrame) -> str:
    """``fit_all``'s table as aligned text, with the warnings (among them the plateau
    sizes left out) as numbered notes."""
    t = table.copy()
    level = float(t["level"].iloc[0]) if len(t) else 0.95
    t["interval"] = [ci_text(lo, hi) for lo, hi in zip(t["ci_low"], t["ci_high"])]
    t["ref"] = ""
    found = []
    for i, w in enumerate(t["warnings"]):
        if isinstance(w, str) and w:
            found.append(f"{t['target'].iloc[i]}/{t['estimator'].iloc[i]}: {w}")
            t.iloc[i, t.columns.get_loc("ref")] = f"[{len(found)}]"
    tw = max([6] + [len(str(v)) for v in t["target"]]) + 2
    ew = max([9] + [len(str(v)) for v in t["estimator"]]) + 2
    vw = max([14] + [len(str(v)) + 2 for v in t["verdict"]])
    s = Summary()
    s.add_frame(t, {"target": ("target", tw, None), "estimator": ("estimator", ew, None),
                    "exponent": ("exponent", 10, ".4f"),
                    "interval": (f"[{level:g} CI]", 18, None), "se": ("se", 8, ".4f"),
                    "n_ok": ("ok", 5, ".0f"), "n_failed": ("failed", 8, ".0f"),
                    "theory_exponent": ("theory", 8, ".4f"),
                    "verdict": ("verdict", vw, None), "ref": ("", 5, None)})
    method = t["method"].iloc[0] if len(t) else ""
    s.add_text(f"exponent: beta in risk ~ n^-beta ({method} fit); verdict: check_theory "
               f"against the theoretical exponent (a reason in brackets: the curve is "
               f"pre-asymptotic or limited by optimisation, so no rate is claimed). With "
               f"several target draws the exponent and interval are the class's (draws "
               f"random: t over the per-draw exponents); the estimate given the drawn "
               f"functions and the variance components are in --json (estimands, "
               f"variance) and each fit's summary.")
    s.add_notes("Warnings", found)
    return s.as_text()
