"""``nprates.reports.build_report``: the pages, the numbers on them, failed cells, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pypdf = pytest.importorskip("pypdf")

from nprates.analysis import fit_all, simulate_curves  # noqa: E402
from nprates.reports import PALETTE, build_report, estimator_styles  # noqa: E402
from nprates.reports.style import order_estimators  # noqa: E402

N_BOOT = 200
DATE = "2025-01-01"
STUDY = {
    "name": "simstudy", "description": "A simulated study for the report tests.",
    "noise": 0.3, "length": 16, "replicates": 3, "test_size": 500,
    "targets": {"gamma": {"kind": "gamma_smooth", "t_max": 8,
                          "smoothness": {"kind": "mixed", "a0": 1.0, "alpha": 1.0,
                                         "features": 2, "window": 4}}},
    "estimators": {"oracle": {"class": "nprates.estimators.OracleProjection"},
                   "ssm": {"class": "nprates.estimators.SSMRegressor", "params": {"width": 16}},
                   "transformer": {"class": "nprates.estimators.TransformerRegressor"}},
}


def simulated(fail_rate=0.0, seed=3, **kw):
    """A results table like a study's: the optional columns a report shows filled in."""
    t = simulate_curves({"oracle": 0.667, "ssm": 0.62, "transformer": 0.6},
                        sizes=[64, 128, 256, 512, 1024], replicates=3, noise=0.2, seed=seed,
                        theory_exponent=0.667, target="gamma", fail_rate=fail_rate, **kw)
    rng = np.random.default_rng(seed)
    t["study"] = "simstudy"
    t["noise"] = 0.3
    t["a_dagger"] = 1.0
    t["train_loss"] = 0.09 * (1 + rng.uniform(0.0, 0.5, len(t)))
    t["fit_seconds"] = t["n"] * rng.uniform(1e-3, 1e-2, len(t))
    t["device"] = "cpu"
    t["versions"] = '{"numpy": "2.0", "python": "3.11", "torch": "2.13.0"}'
    return t


def pdf_pages(path) -> list:
    return [p.extract_text() for p in pypdf.PdfReader(str(path)).pages]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    table = simulated()
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    report = build_report(table, path, study=STUDY, n_boot=N_BOOT, date=DATE)
    return table, report, pdf_pages(path)


def test_report_has_the_expected_pages(good):
    table, report, texts = good
    assert report.path.is_file() and report.path.read_bytes()[:5] == b"%PDF-"
    assert len(texts) == len(report.pages) >= 6
    heads = ["Convergence rates: simstudy", "Rate curves", "Convergence exponents",
             "Comparisons", "Diagnostics", "Notes and cautions"]
    for head, text, title in zip(heads, texts, report.pages):
        assert title.startswith(head) and head in text
    for i, text in enumerate(texts, 1):
        assert f"page {i} of {len(texts)}" in text
    # the title page: study metadata from the study dict and from the table
    title = texts[0]
    for fact in ("mixed smoothness", "a_dagger = 1", "0.667", "64, 128, 256, 512, 1024",
                 "3 per size", "cpu", "torch 2.13.0", DATE, "45 fitted models: 45 ok",
                 "nprates.estimators.SSMRegressor"):
        assert fact in title, fact


def test_report_text_holds_the_fitted_exponents(good):
    table, report, texts = good
    fits = fit_all(table, n_boot=N_BOOT)
    for r in fits.itertuples():
        exp, ci = f"{r.exponent:.3f}", f"[{r.ci_low:.3f}, {r.ci_high:.3f}]"
        for page in (0, 1, 2):  # title table, rate-curve legend, forest plot
            assert exp in texts[page] and ci in texts[page], (r.estimator, page)
        assert r.verdict in texts[2]
    # the comparison page: SSM vs Transformer first, every pair of the three
    comp = texts[3]
    assert comp.index("ssm vs transformer") < comp.index("ssm vs oracle")
    assert "transformer vs oracle" in comp
    c = report.data.pairs["gamma"][0].comparison
    assert (c.a, c.b) == ("ssm", "transformer")
    assert f"{c.difference:+.3f}" in comp and c.verdict in comp
    assert "theory slope" in texts[1]


def test_report_is_deterministic(good, tmp_path):
    table, report, _ = good
    again = build_report(table, tmp_path / "again.pdf", study=STUDY, n_boot=N_BOOT, date=DATE)
    assert again.path.read_bytes() == report.path.read_bytes()


def test_failed_cells_still_give_a_report_that_shows_them(tmp_path):
    table = simulated(fail_rate=0.15, seed=5)
    dead = table[table["estimator"] == "oracle"].copy()
    dead["estimator"] = "broken"
    dead["status"], dead["risk"], dead["error"] = "diverged", np.nan, "loss became NaN"
    table = pd.concat([table, dead], ignore_index=True)
    n_failed = int((table["status"] == "failed").sum())
    assert n_failed > 0
    report = build_report(table, tmp_path / "failed.pdf", n_boot=N_BOOT, date=DATE)
    texts = [" ".join(t.split()) for t in pdf_pages(report.path)]
    joined = "\n".join(texts)
    assert f"{n_failed} failed, 15 diverged" in texts[0]
    assert "broken" in texts[0] and "no fit" in texts[0]
    assert "failed / diverged cell" in texts[1]  # marked on the rate curves
    assert "no fit" in texts[2]  # the forest plot row
    diag = next(t for t in texts if "Diagnostics" in t)
    assert "Failed or diverged cells" in diag and "diverged" in diag and "failed" in diag
    assert f"({n_failed + 15} of {len(table)})" in diag
    assert "simulated failure" in joined and "loss became NaN" in joined
    assert "no fit for broken" in joined  # its comparisons are explained, not dropped


def test_minimal_table_and_single_estimator(tmp_path):
    t = simulate_curves(0.5, sizes=[100, 200, 400, 800], replicates=2, seed=1)
    t = t[["target", "estimator", "n", "replicate", "risk", "status"]]
    report = build_report(t, tmp_path / "min.pdf", n_boot=N_BOOT, date=DATE)
    texts = pdf_pages(report.path)
    assert "Nothing to compare" in texts[3]
    assert "not recorded" in "\n".join(texts)


@pytest.mark.parametrize("make, error, message", [
    (lambda p: pd.DataFrame(columns=["target", "estimator", "n", "replicate", "risk",
                                     "status"]), ValueError, "empty"),
    (lambda p: p / "missing", FileNotFoundError, "does not exist"),
    (lambda p: (p / "empty").mkdir() or p / "empty", ValueError, "is empty"),
    (lambda p: pd.DataFrame({"n": [1]}), ValueError, "missing required column"),
    (lambda p: 42, ValueError, "DataFrame or a results directory"),
])
def test_empty_or_missing_results_fail_clearly(tmp_path, make, error, message):
    out = tmp_path / "never.pdf"
    with pytest.raises(error, match=message):
        build_report(make(tmp_path), out, n_boot=N_BOOT)
    assert not out.exists()


def test_directory_input(tmp_path):
    from nprates.studies.store import load_results, write_cell

    table = simulated()
    cells = tmp_path / "res" / "cells"
    cells.mkdir(parents=True)
    for row in table.to_dict("records"):
        write_cell(cells, row)
    (tmp_path / "res" / "study.toml").write_text('name = "fromdir"\n'
                                                 'description = "read from disk"\n')
    report = build_report(str(tmp_path / "res"), tmp_path / "dir.pdf", n_boot=N_BOOT, date=DATE)
    texts = pdf_pages(report.path)
    assert "Convergence rates: fromdir" in texts[0] and "read from disk" in texts[0]
    assert report.data.source == str(tmp_path / "res")
    assert len(report.data.table) == len(table)
    np.testing.assert_allclose(report.data.fit_table["exponent"],
                               fit_all(table, n_boot=N_BOOT)["exponent"])

    calls = []

    def loader(path):  # a custom loader is still used when given
        calls.append(path)
        return load_results(path)

    custom = build_report(tmp_path / "res", tmp_path / "custom.pdf", loader=loader,
                          n_boot=N_BOOT, date=DATE)
    assert calls == [tmp_path / "res"] and len(custom.data.table) == len(table)
    with pytest.raises(ValueError, match="holds no results"):
        build_report(tmp_path / "res", tmp_path / "never.pdf", loader=lambda p: table.iloc[:0],
                     n_boot=N_BOOT)
    assert not (tmp_path / "never.pdf").exists()


def test_colours_are_colour_blind_safe_and_consistent():
    order = order_estimators(["knn", "transformer", "oracle", "ssm"],
                             {"ssm": "nprates.estimators.SSMRegressor"})
    assert order == ["ssm", "transformer", "knn", "oracle"]
    styles = estimator_styles(order)
    assert styles["ssm"]["color"] == PALETTE[0] and styles["transformer"]["color"] == PALETTE[1]
    assert len({s["color"] for s in styles.values()}) == 4
    assert len({s["marker"] for s in styles.values()}) == 4


def test_bad_path_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.pdf"):
        build_report(simulated(), tmp_path / "report.png", n_boot=N_BOOT)
