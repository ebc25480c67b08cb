"""A results directory whose run stopped early, or that a run still holds, never reads as
final (issue 30): ``load_results`` flags it, the fits and the report warn, and ``nprates
fit`` / ``compare`` / ``report`` refuse it with exit 2 unless ``--partial``."""

from __future__ import annotations

import json
import os
import socket

import pandas as pd
import pytest

from nprates.analysis import fit_rate
from nprates.cli import main
from nprates.studies import Study, load_results, run_study
from nprates.studies.completeness import completeness
from nprates.studies.store import CELLS_DIR

SINE = {"kind": "callable", "factory": "study_fixtures:make_sine_target", "params": {"scale": 2.0}}
RIDGE = {"class": "sklearn.linear_model.Ridge", "params": {"alpha": 0.1}}
KNN = {"class": "sklearn.neighbors.KNeighborsRegressor", "params": {"n_neighbors": 3}}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    study = Study.from_dict(dict(name="tiny", seed=5, noise=0.2, length=4,
                                 sizes=[8, 16, 32, 64, 128, 256], replicates=2, test_size=64,
                                 targets={"sine": SINE},
                                 estimators={"ridge": RIDGE, "knn": KNN}))
    out = tmp_path_factory.mktemp("partial") / "done"
    run_study(study, out, executor="serial", progress=False)
    return out


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.fixture
def stopped(finished, tmp_path):
    out = _copy(finished, tmp_path / "stopped")
    for name in os.listdir(out / CELLS_DIR):
        if "__n64__" in name and name.startswith("sine__knn"):
            (out / CELLS_DIR / name).unlink()
    return out


def test_a_finished_directory_is_complete(finished):
    table = load_results(finished)
    assert table.attrs["incomplete"] == ""
    assert table.attrs["seed"] == 5 and len(table.attrs["study_hash"]) == 12
    assert main(["fit", str(finished), "--n-boot", "50"]) == 0


def test_a_stopped_run_is_flagged_on_every_route(stopped, capsys):
    table = load_results(stopped)
    assert table.attrs["incomplete"] == "incomplete: 22 of 24 cells, missing knn at n=64 (2 cells)"
    with pytest.warns(UserWarning, match="incomplete: 22 of 24 cells"):
        fit = fit_rate(table, estimator="knn", n_boot=50)
    assert fit.warnings[-1].startswith("incomplete: 22 of 24")
    for argv in (["fit", str(stopped)], ["compare", str(stopped), "ridge", "knn"],
                 ["report", str(stopped), "-o", str(stopped / "r.pdf")]):
        assert main(argv + ["--n-boot", "50"]) == 2
        err = capsys.readouterr().err
        assert "incomplete: 22 of 24 cells, missing knn at n=64 (2 cells)" in err
        assert "--partial" in err
    assert main(["fit", str(stopped), "--n-boot", "50", "--partial"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("PARTIAL RESULTS: incomplete: 22 of 24 cells")
    assert "warning: partial results" in captured.err


def test_the_report_title_page_says_partial(stopped, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    pdf = tmp_path / "r.pdf"
    assert main(["report", str(stopped), "-o", str(pdf), "--n-boot", "50", "--partial"]) == 0
    first = pypdf.PdfReader(str(pdf)).pages[0].extract_text()
    assert "PARTIAL" in first and "22 of 24 cells" in first
    assert "root seed 5" in first and "study hash" in first


def test_a_directory_a_run_still_holds_is_incomplete(finished, tmp_path, capsys):
    out = _copy(finished, tmp_path / "held")
    (out / ".lock").write_text(json.dumps({"pid": os.getppid(), "host": socket.gethostname(),
                                           "started": "2026-01-01T00:00:00"}))
    table = load_results(out)
    assert "a run still holds the lock (pid" in table.attrs["incomplete"]
    assert main(["fit", str(out), "--n-boot", "50"]) == 2
    assert "a run still holds the lock" in capsys.readouterr().err


def test_a_study_with_more_sizes_misses_them(finished):
    table = load_results(finished)
    larger = Study.from_toml(finished / "study.toml").replace(
        sizes=[8, 16, 32, 64, 128, 256, 512])
    state = completeness(larger, table)
    assert (state.done, state.total) == (24, 28)
    assert state.message() == "incomplete: 24 of 28 cells, missing ridge at n=512 (2 cells), " \
                              "knn at n=512 (2 cells)"


def test_the_reproducibility_line_of_a_loaded_table(finished, tmp_path):
    """build_report(load_results(DIR)) names the library versions and the run."""
    pypdf = pytest.importorskip("pypdf")
    import numpy as np

    from nprates.reports import build_report

    report = build_report(load_results(finished), tmp_path / "r.pdf", n_boot=50,
                          sections=["title"])
    first = pypdf.PdfReader(str(report.path)).pages[0].extract_text()
    assert f"numpy {np.__version__}" in first and "Libraries not recorded" not in first
    assert "root seed 5" in first


def test_two_studies_overlay_without_renaming(finished, tmp_path):
    """load_results([dir1, dir2], labels=...) and a report that draws each apart."""
    from nprates.reports.data import ReportData

    other = _copy(finished, tmp_path / "again")
    table = load_results([finished, other], labels=["first", "second"])
    assert list(pd.unique(table["study"])) == ["first", "second"] and len(table) == 48
    assert set(table["estimator"]) == {"ridge", "knn"}  # the user's labels untouched
    assert table.attrs["incomplete"] == "" and table.attrs["seed"] == 5
    data = ReportData.prepare(table, None, "t", n_boot=50, compare=False)
    assert set(data.estimators) == {"ridge (first)", "ridge (second)", "knn (first)",
                                    "knn (second)"}
    fits = {e: data.fits[("sine", e)].fit.exponent for e in data.estimators if "knn" in e}
    assert fits["knn (first)"] == fits["knn (second)"]  # the same cells, fitted apart
    with pytest.raises(ValueError, match="labels: 1 labels for 2 tables"):
        load_results([finished, other], labels=["one"])
