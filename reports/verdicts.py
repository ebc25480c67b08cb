"""What the report says about a fit's verdict, its fit range and a comparison's intervals.

The one place where the pages and figures read these from ``nprates.analysis`` objects:

- a fit's verdict: ``TheoryCheck.status`` and its ``reason`` ("" or e.g. "pre-asymptotic",
  "optimisation-limited"), written "status (reason)" as ``fit_all``'s verdict column;
- the plateau sizes a fit left out: ``RateFit.excluded_sizes``;
- the interval a comparison's "comparable" verdict uses: ``RateComparison.equivalence_ci``,
  the ``1 - 2 (1 - level)`` interval of the two one-sided tests (TOST).
"""

from __future__ import annotations

from . import style


def verdict(item) -> str:
    """A ``data.Fit``'s verdict against the theory: "status" or "status (reason)"; fit_all's
    verdict column where there is no theory check; "no fit" without a fit."""
    if item.fit is None:
        return "no fit"
    if item.check is None:
        return str((item.row or {}).get("verdict", "") or "")
    return str(item.check.verdict)


def excluded_sizes(fit) -> list:
    """The sample sizes (ints, ascending) a RateFit left out as sitting at the trivial
    plateau; empty when it kept every size."""
    return sorted(int(n) for n in fit.excluded_sizes)


def excluded_text(fit) -> str:
    """'n = 64, 128' for the left-out sizes of ``fit``, '' when none."""
    sizes = excluded_sizes(fit)
    return f"n = {', '.join(str(n) for n in sizes)}" if sizes else ""


def check_sentence(item) -> str:
    """A theory check in one sentence: estimate, interval, theory, tolerance and verdict."""
    f, c = item.fit, item.check
    text = (f"Fitted exponent {f.exponent:.3f} {style.fmt_ci(*f.ci)} against the theoretical "
            f"{c.exponent:.3f} (tolerance +-{c.tolerance:g}): {verdict(item)}.")
    left = excluded_text(f)
    if left:
        text += f" Left out of the fit as at the trivial plateau: {left}."
    return text


def tost_level(comparison) -> float:
    """Confidence level of the TOST interval (0.90 for a 0.95 comparison)."""
    return 1 - 2 * (1 - float(comparison.level))


def tost_interval(comparison) -> tuple:
    """(low, high) of the interval the "comparable" verdict is read from."""
    lo, hi = comparison.equivalence_ci
    return float(lo), float(hi)
