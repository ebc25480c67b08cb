"""Figure functions on one's own axes (issue 30): numpy arrays of axes, rows in the right
order without shared y, and colours, markers and signs keyed by estimator name."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from nprates.analysis import simulate_curves  # noqa: E402
from nprates.reports import plot_comparison, plot_exponents, plot_rates  # noqa: E402
from nprates.reports.data import ReportData  # noqa: E402

N_BOOT = 100


def table():
    t = simulate_curves({"ssm": 0.6, "transformer": 0.5, "oracle": 0.667},
                        sizes=[64, 128, 256, 512], replicates=3, noise=0.05, seed=0,
                        theory_exponent=0.667, target="gamma")
    t["noise"] = 0.1
    return t


def _row_y(ax, label_texts):
    """y (data units, after the axes' limits) of each text whose string is in label_texts."""
    return {t.get_text(): t.get_position()[1] for t in ax.texts if t.get_text() in label_texts}


@pytest.mark.parametrize("sharey", [True, False])
def test_comparison_rows_follow_the_labels_without_shared_y(sharey):
    fig, axes = plt.subplots(1, 3, sharey=sharey)  # an ndarray of axes
    plot_comparison(table(), ax=axes, n_boot=N_BOOT)
    diff, txt, ratios = axes
    assert txt.get_ylim() == diff.get_ylim() == ratios.get_ylim()
    assert diff.get_ylim()[0] > diff.get_ylim()[1]  # first pair on top
    plt.close(fig)


def test_exponents_accept_an_ndarray_and_line_up():
    fig, axes = plt.subplots(1, 2)
    plot_exponents(table(), ax=axes, n_boot=N_BOOT)
    assert axes[0].get_ylim() == axes[1].get_ylim()
    plt.close(fig)


def test_colours_and_pair_signs_are_keyed_by_name():
    full = table()
    full.attrs["estimators"] = {"oracle": "x.Oracle", "transformer": "x.Transformer",
                                "ssm": "x.SSM"}
    whole = ReportData.prepare(full, None, "t", n_boot=N_BOOT)
    part = full[full["estimator"] != "ssm"]  # a subset keeps the record (pandas attrs)
    sub = ReportData.prepare(part, None, "t", n_boot=N_BOOT)
    reordered = ReportData.prepare(full.iloc[::-1].copy(), None, "t", n_boot=N_BOOT)
    for name in ("transformer", "oracle"):
        assert sub.styles[name] == whole.styles[name] == reordered.styles[name]
    pairs = lambda d: [(p.a, p.b) for p in d.pairs["gamma"]]  # noqa: E731
    assert pairs(reordered) == pairs(whole)
    fig, ax = plt.subplots()
    plot_rates(part, ax=ax, n_boot=N_BOOT)
    colours = {line.get_label().split(":")[0]: matplotlib.colors.to_hex(line.get_color())
               for line in ax.get_lines() if not line.get_label().startswith("_")}
    colours.pop("theory slope", None)
    assert set(colours) == {"transformer", "oracle"} and all(c.lower() == whole.styles[k]["color"].lower()
                           for k, c in colours.items())
    plt.close(fig)


def test_the_symlog_gap_panel_has_no_overlapping_tick_labels():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from nprates.reports import plot_diagnostics

    t = table()
    rng = np.random.default_rng(0)
    t["opt_gap"] = t["risk"] * rng.uniform(-0.3, 0.6, len(t))  # both signs around zero
    t["stopped_by"] = "early_stopping"
    fig = plot_diagnostics(t, n_boot=N_BOOT)
    FigureCanvasAgg(fig).draw()
    (ax,) = [a for a in fig.axes if a.get_title(loc="left") == "Optimisation gap per cell"]
    lo, hi = ax.get_ylim()
    ticks = [v for v in ax.get_yticks() if lo <= v <= hi]
    ys = sorted(ax.transData.transform([(1.0, v) for v in ticks])[:, 1])
    size = ax.yaxis.get_ticklabels()[0].get_fontsize() * fig.dpi / 72
    assert 0.0 in ticks and len(ticks) >= 3
    assert min(np.diff(ys)) > 1.2 * size


def test_a_figure_of_its_own_has_the_reports_style_and_own_axes_keep_theirs():
    fig = plot_rates(table(), n_boot=N_BOOT)
    ax = fig.axes[0]
    assert not ax.spines["top"].get_visible()  # the report's rc: no top spine
    assert ax.title.get_fontweight() == "bold"
    own, mine = plt.subplots()
    plot_rates(table(), ax=mine, n_boot=N_BOOT)
    assert mine.spines["top"].get_visible()  # the caller's style stays
    plt.close(own)
