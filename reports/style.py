"""Look of the reports: page size, fonts, the colour and marker of each estimator, captions.

Colours come from the Okabe-Ito palette (Okabe & Ito 2008), which stays distinguishable
under the common forms of colour blindness; every estimator also gets its own marker,
so no page depends on colour alone. An estimator keeps its colour on every page of a
report: ``estimator_styles`` assigns them once, SSMs first (blue), Transformers
second (vermillion), then the rest in the order given.
"""

from __future__ import annotations

import math
import textwrap
from contextlib import contextmanager

import matplotlib

from nprates.analysis.ordering import family, order_estimators  # noqa: F401 (re-exported)

#: A4 landscape, in inches.
PAGE_SIZE = (11.69, 8.27)

#: Okabe-Ito colours (the yellow, hard to see on white, comes last).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
           "#F0E442")
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*", "h", "<", ">", "p")
GREY = "#555555"
LIGHT = "#DDDDDD"
THEORY_COLOR = "#333333"

#: Font sizes (points).
TITLE_SIZE = 17
SUBTITLE_SIZE = 11
BODY_SIZE = 10
CAPTION_SIZE = 9
SMALL_SIZE = 8

RC = {
    "font.family": "DejaVu Sans",
    "font.size": BODY_SIZE,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": BODY_SIZE,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.frameon": True,
    "legend.framealpha": 0.9,
    "axes.grid": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.6,
    "axes.edgecolor": "#888888",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,  # TrueType: text stays selectable and extractable
    "svg.hashsalt": "nprates",
    "path.simplify": False,
}


@contextmanager
def report_style():
    """Matplotlib settings of the reports (restored afterwards).

    Reports draw on ``matplotlib.figure.Figure`` objects saved by the PDF backend, never
    through pyplot, so building one changes no interactive state of the caller.
    """
    import seaborn as sns

    with matplotlib.rc_context():
        sns.set_theme(context="paper", style="whitegrid", font="DejaVu Sans")
        matplotlib.rcParams.update(RC)
        yield


def estimator_styles(labels) -> dict:
    """{label: {"color", "marker"}} in the order of ``labels`` (colours cycle past 8)."""
    return {lab: {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)]}
            for i, lab in enumerate(labels)}


# ------------------------------------------------------------------------------ text

def chars_per_line(width_fraction: float, fontsize: float) -> int:
    """How many characters of DejaVu Sans fit across ``width_fraction`` of the page."""
    width_pt = PAGE_SIZE[0] * 72 * width_fraction
    return max(20, int(width_pt / (fontsize * 0.52)))


def wrap(text: str, width: int) -> list:
    return textwrap.wrap(" ".join(str(text).split()), width, break_on_hyphens=False) or [""]


def fmt(v, spec: str = ".3f") -> str:
    """A number for the page ('-' for NaN / None)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "-"
    return format(f, spec) if math.isfinite(f) else "-"


def fmt_ci(lo, hi, spec: str = ".3f") -> str:
    return f"[{fmt(lo, spec)}, {fmt(hi, spec)}]"


def fmt_seconds(s) -> str:
    """Seconds as '42 s', '3 min 05 s' or '2 h 07 min'."""
    try:
        s = float(s)
    except (TypeError, ValueError):
        return "-"
    if not math.isfinite(s):
        return "-"
    if s < 60:
        return f"{s:.2g} s" if s < 10 else f"{s:.0f} s"
    m, sec = divmod(int(round(s)), 60)
    if m < 60:
        return f"{m} min {sec:02d} s"
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min"


def fmt_sizes(sizes) -> str:
    sizes = [int(s) for s in sizes]
    if not sizes:
        return "-"
    if len(sizes) <= 8:
        return ", ".join(str(s) for s in sizes)
    return f"{sizes[0]}, {sizes[1]}, ..., {sizes[-1]} ({len(sizes)} sizes)"


def log_ticks(ax, sizes) -> None:
    """Tick the x axis (log scale) at the sample sizes, written plainly."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    sizes = sorted({int(s) for s in sizes})
    if not sizes:
        return
    if len(sizes) > 9:
        step = math.ceil(len(sizes) / 9)
        sizes = sizes[::step]
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_locator(NullLocator())


def plain_log_axis(ax, axis: str = "y") -> None:
    """Label a log axis at 1-2-5 steps with plain numbers (0.05, 0.1, 0.2, ...)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    lo, hi = (ax.get_ylim() if axis == "y" else ax.get_xlim())
    decades = abs(math.log10(max(hi, 1e-300)) - math.log10(max(lo, 1e-300)))
    subs = (1.0, 2.0, 5.0) if decades <= 3 else (1.0,)
    target.set_major_locator(LogLocator(base=10, subs=subs))
    target.set_major_formatter(FuncFormatter(
        lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:.3g}"))
    target.set_minor_formatter(NullFormatter())
