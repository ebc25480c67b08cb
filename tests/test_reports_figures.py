"""The figure API of ``nprates.reports``: plot_* on given axes, the report drawn by them,
sections, page 4's TOST interval, verdict reasons, left-out sizes, optimisation gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure

pypdf = pytest.importorskip("pypdf")

from nprates.analysis import simulate_curves, t_interval  # noqa: E402
from nprates.cli import main  # noqa: E402
from nprates.reports import (SECTIONS, build_report, plot_comparison,  # noqa: E402
                             plot_diagnostics, plot_exponents, plot_rates)
from nprates.reports.pages import comparison, diagnostics, forest, rates  # noqa: E402
from nprates.reports.pages.forest import polylog_sentence  # noqa: E402

N_BOOT = 200
DATE = "2025-01-01"


def table(seed=0, **kw):
    """Three estimators on one target; ssm and transformer share their exponent."""
    t = simulate_curves({"ssm": 0.6, "transformer": 0.6, "oracle": 0.667},
                        sizes=[64, 128, 256, 512, 1024], replicates=4, noise=0.05, seed=seed,
                        theory_exponent=0.667, target="gamma", **kw)
    t["noise"] = 0.1
    t["train_loss"] = 0.01 * (1 + np.random.default_rng(seed).uniform(0, 0.5, len(t)))
    return t


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return build_report(table(), tmp_path_factory.mktemp("fig") / "r.pdf", n_boot=N_BOOT,
                        date=DATE)


def texts_of(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_plot_rates_draws_on_the_given_axes(report):
    fig = Figure()
    ax, other = fig.subplots(1, 2)
    out = plot_rates(report.data, ax=ax)
    assert out is ax.figure is fig
    assert len(ax.lines) >= 3 and any(isinstance(c, PathCollection) for c in ax.collections)
    assert not other.lines and not other.collections  # nothing drawn elsewhere
    assert ax.get_xscale() == "log" and ax.get_title(loc="left") == "gamma"
    # a table works too (fitted here), and without ax a new figure has one panel per target
    two = table(seed=1)
    two.loc[two["estimator"] == "oracle", "target"] = "other"
    new = plot_rates(two, n_boot=N_BOOT)
    assert isinstance(new, Figure) and [a.get_title(loc="left") for a in new.axes] == ["gamma", "other"]
    with pytest.raises(ValueError, match="ax: 1 axes given for 2 targets"):
        plot_rates(two, ax=ax, n_boot=N_BOOT)
    with pytest.raises(ValueError, match="target 'nope'"):
        plot_rates(report.data, target="nope")


def test_every_plot_function_draws_on_given_axes(report):
    fig = Figure()
    axes = fig.subplots(1, 8)
    assert plot_exponents(report.data, ax=axes[0]) is fig
    assert len(axes[0].lines) >= 6  # three intervals, three points
    assert plot_comparison(report.data, ax=list(axes[1:4])) is fig
    assert "ssm vs transformer" in [t.get_text() for t in axes[1].get_yticklabels()]
    assert "comparable" in texts_of(fig) or "inconclusive" in texts_of(fig)
    assert plot_diagnostics(report.data, ax=list(axes[4:8])) is fig
    assert all(a.has_data() or a.texts for a in axes[4:8])
    with pytest.raises(ValueError, match="unknown panel 'bogus'"):
        plot_diagnostics(report.data, panels=["bogus"])


def test_the_report_is_drawn_by_the_plot_functions(monkeypatch, tmp_path):
    calls = []

    def spy(module, name):
        original = getattr(module, name)

        def wrapper(data, *args, **kw):
            fig = original(data, *args, **kw)
            calls.append((name, data, fig))
            return fig
        monkeypatch.setattr(module, name, wrapper)

    for module, name in ((rates, "plot_rates"), (forest, "plot_exponents"),
                         (comparison, "plot_comparison"), (diagnostics, "plot_diagnostics")):
        spy(module, name)
    rep = build_report(table(), tmp_path / "r.pdf", n_boot=N_BOOT, date=DATE)
    assert [c[0] for c in calls] == ["plot_rates", "plot_exponents", "plot_comparison",
                                     "plot_diagnostics"]
    assert all(c[1] is rep.data for c in calls)
    # each drew on its page: the page with the function's title is the figure it returned
    titles = [getattr(c[2], "_nprates_title", "") for c in calls]
    assert titles == ["Rate curves", "Convergence exponents", "Comparisons", "Diagnostics"]


def test_sections_choose_pages(tmp_path):
    rep = build_report(table(), tmp_path / "s.pdf", n_boot=N_BOOT, date=DATE,
                       sections=["comparisons", "exponents"])  # kept in page order
    assert rep.pages == ["Convergence exponents", "Comparisons"]
    assert len(pypdf.PdfReader(str(rep.path)).pages) == 2
    rep = build_report(table(), tmp_path / "t.pdf", n_boot=N_BOOT, date=DATE,
                       sections="rates")
    assert rep.pages == ["Rate curves"] and rep.data.pairs == {}  # no comparisons computed
    assert SECTIONS == ("title", "rates", "recovery", "exponents", "comparisons", "diagnostics",
                        "notes")
    for bad in (["rates", "forest"], []):
        with pytest.raises(ValueError, match="sections"):
            build_report(table(), tmp_path / "never.pdf", n_boot=N_BOOT, sections=bad)
    assert not (tmp_path / "never.pdf").exists()


def test_page_four_draws_the_tost_interval_of_the_verdict(monkeypatch, tmp_path):
    figs = []
    original = comparison.plot_comparison
    monkeypatch.setattr(comparison, "plot_comparison",
                        lambda *a, **k: figs.append(original(*a, **k)) or figs[-1])
    rep = build_report(table(), tmp_path / "c.pdf", n_boot=N_BOOT, date=DATE, margin=0.1)
    pairs = rep.data.pairs["gamma"]
    diff_ax = figs[0].axes[0]
    bars = [ln for ln in diff_ax.lines if ln.get_gid() == "tost-interval"]
    thin = [ln for ln in diff_ax.lines if ln.get_gid() == "level-interval"]
    assert len(bars) == len(thin) == len(pairs) == 3
    for p, bar, line in zip(pairs, bars, thin):
        c = p.comparison
        # the thick bar is the 1 - 2 alpha interval the TOST verdict reads
        expect = t_interval(c.difference, c.se, c.df, 1 - 2 * (1 - c.level))
        np.testing.assert_allclose(bar.get_xdata(), expect, rtol=1e-12)
        np.testing.assert_allclose(bar.get_xdata(), c.equivalence_ci, rtol=1e-12)
        np.testing.assert_allclose(line.get_xdata(), c.ci, rtol=1e-12)
        inside = -c.margin < min(bar.get_xdata()) and max(bar.get_xdata()) < c.margin
        assert inside == (c.verdict.split(" (")[0] == "comparable"), (p.a, p.b)
        assert bar.get_linewidth() > line.get_linewidth()
    first = pairs[0].comparison
    assert (first.a, first.b) == ("ssm", "transformer")
    assert first.verdict.startswith("comparable")  # same exponent, low noise
    text = " ".join(pypdf.PdfReader(str(rep.path)).pages[3].extract_text().split())
    assert "0.9 TOST" in text and "[{:.3f}, {:.3f}]".format(*first.equivalence_ci) in text


def test_exponent_table_shows_reason_and_left_out_sizes(report):
    item = report.data.fits[("gamma", "ssm")]
    # as the analysis contract gives them: TheoryCheck.reason, RateFit.excluded_sizes
    item.check.reason, item.fit.excluded_sizes = "pre-asymptotic", [64, 128]
    try:
        fig = plot_exponents(report.data, rows=[("gamma", "ssm"), ("gamma", "oracle")])
        text = texts_of(fig)
        assert f"{item.check.status}\n(pre-asymptotic)" in text
        assert "64, 128" in text and "left out" in text
        caption = " ".join(" ".join(t.get_text().split())
                           for t in forest.pages(report.data)[0].texts)
        assert "trivial plateau" in caption and "gamma / ssm: n = 64, 128" in caption
        rate_ax = plot_rates(report.data).axes[0]
        hollow = [ln for ln in rate_ax.lines
                  if ln.get_markerfacecolor() == "white" and len(ln.get_xdata())]
        assert len(hollow) == 1 and len(hollow[0].get_xdata()) == 2  # the two left-out means
        assert "left out (trivial plateau)" in rate_ax.get_legend_handles_labels()[1]
    finally:
        del item.check.reason, item.fit.excluded_sizes


def test_polylog_wording_states_k_plainly():
    big = polylog_sentence(2.5)
    assert "plausible" not in big and "k = 2.50" in big and "above 2" in big
    small = polylog_sentence(1.2)
    assert "k = 1.20" in small and "above 2" not in small


def test_diagnostics_show_optimisation_gap_and_cap_limited_cells():
    t = table(seed=2)
    t["opt_gap"] = t["risk"] * 0.5
    t.loc[t.index[::7], "opt_gap"] = np.nan  # not recorded for some cells: not drawn
    t["stopped_by"] = "early_stopping"
    capped = (t["estimator"] == "ssm") & (t["n"] == 1024)
    t.loc[capped, "stopped_by"] = "cap"
    fig = plot_diagnostics(t, n_boot=N_BOOT)
    titles = [a.get_title(loc="left") for a in fig.axes]
    assert "Optimisation gap per cell" in titles
    gap_ax = fig.axes[titles.index("Optimisation gap per cell")]
    drawn = sum(len(c.get_offsets()) for c in gap_ax.collections)
    assert drawn == int(t["opt_gap"].notna().sum())
    cells = fig.axes[titles.index(next(x for x in titles if x.startswith("Failed")))]
    assert f"{int(capped.sum())} at cap" in [x.get_text() for x in cells.texts]
    assert "cap-limited" in cells.get_title(loc="left")
    # without the columns: the training-loss panel, and no cap counts
    plain = plot_diagnostics(table(seed=2), n_boot=N_BOOT)
    names = [a.get_title(loc="left") for a in plain.axes]
    assert "Training loss vs noise level" in names and "Optimisation gap per cell" not in names
    assert not any("at cap" in x.get_text() for a in plain.axes for x in a.texts)


def test_report_into_a_missing_folder_exits_2(tmp_path, capsys):
    from nprates.studies.store import write_cell

    d = tmp_path / "res"
    (d / "cells").mkdir(parents=True)
    for row in table().to_dict("records"):
        write_cell(d / "cells", row)
    out = tmp_path / "no" / "such" / "report.pdf"
    assert main(["report", str(d), "-o", str(out), "--n-boot", "50"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0] and "--output" in err[0]
    assert not (tmp_path / "no").exists()


def _overlaps(fig) -> list:
    """Pairs of texts on one row of a figure's text tables whose drawn extents overlap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    bad = []
    for ax in fig.axes:
        if ax.axison:
            continue  # only the tables: axes drawn as text
        rows = {}
        for t in ax.texts:
            rows.setdefault(round(t.get_position()[1], 6), []).append(
                (t.get_window_extent(renderer), t.get_text()))
        for row in rows.values():
            row.sort(key=lambda r: r[0].x0)
            bad += [(a[1], b[1]) for a, b in zip(row, row[1:]) if a[0].x1 > b[0].x0]
    return bad


def test_table_columns_never_overlap(report):
    """Long cells (three sizes left out, a two-line verdict) push the next column on, on
    the standalone figures and on the report's pages."""
    item = report.data.fits[("gamma", "ssm")]
    item.check.reason, item.fit.excluded_sizes = "optimisation-limited", [64, 128, 256]
    try:
        figs = [plot_exponents(report.data), plot_comparison(report.data),
                *forest.pages(report.data), *comparison.pages(report.data)]
        texts = texts_of(figs[0])
        assert "64, 128, 256" in texts and "inconclusive\n(" in texts  # a two-line verdict
        for fig in figs:
            assert _overlaps(fig) == []
    finally:
        del item.check.reason, item.fit.excluded_sizes


def test_risk_ratios_are_drawn_for_pairs_without_a_comparison():
    """An estimator with one size has no rate and no exponent comparison, but its risks
    still stand beside the others' at every size both have."""
    t = table()
    short = t[(t["estimator"] == "oracle") & (t["n"] == 64)]
    short = short.assign(estimator="knn", risk=2 * short["risk"])  # twice the oracle's, paired
    fig = plot_comparison(pd.concat([t, short], ignore_index=True), n_boot=N_BOOT)
    diff, txt, heat = fig.axes
    rows = [lab.get_text() for lab in diff.get_yticklabels()]
    row = rows.index("knn vs oracle")
    assert "not compared" in [t.get_text() for t in txt.texts]
    cells = [t.get_text() for t in heat.texts if round(t.get_position()[1]) == row]
    assert cells == ["2.00*", "-", "-", "-", "-"]  # n = 64 only


def test_the_rate_legend_hides_no_point(tmp_path):
    """A plateau at large n sits where an upper-right legend would be: the legend goes to
    the corner that needs the least room, and the axis makes that room (on the standalone
    figure and on the report's page)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    t = table()
    flat = t[t["estimator"] == "oracle"].assign(estimator="mlp")
    flat["risk"] = t["risk"].max() * (1 + 0.01 * flat["replicate"])  # high and flat
    both = pd.concat([t, flat], ignore_index=True)
    page = rates.pages(build_report(both, tmp_path / "r.pdf", n_boot=N_BOOT,
                                    sections=["rates"], date=DATE).data)[0]
    for fig in (plot_rates(both, n_boot=N_BOOT), page):
        renderer = FigureCanvasAgg(fig).get_renderer()
        ax = next(a for a in fig.axes if a.get_legend() is not None)
        box = ax.get_legend().get_window_extent(renderer)
        marked = [np.column_stack(ln.get_data()) for ln in ax.lines
                  if ln.get_marker() not in (None, "None", "") and len(ln.get_xdata())]
        shown = np.vstack([c.get_offsets() for c in ax.collections
                           if isinstance(c, PathCollection) and len(c.get_offsets())] + marked)
        xy = ax.transData.transform(shown.astype(float))
        inside = ((xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1)
                  & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1))
        assert not inside.any(), shown[inside][:3]
