"""``nprates.analysis.read_results_dir``: reading the directories ``nprates run`` writes."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from nprates.analysis import read_results_dir
from nprates.analysis.results_dir import read_cell, row_digest
from nprates.analysis.schema import COLUMNS
from nprates.cli import main
from nprates.studies import Study, load_results, run_study
from nprates.studies.store import CELLS_DIR, for_kind, write_cell

#: A cell file as the version-1 writer wrote it, byte for byte: directories written
#: before any change to the reader or writer must stay readable.
CELL_V1 = ('{\n "format": 1,\n "row": {\n  "cell_key": "gamma/ssm/64/1",\n  "device": "cpu",\n'
           '  "error": "",\n  "estimator": "ssm",\n  "n": 64,\n  "replicate": 1,\n'
           '  "risk": 0.125,\n  "risk_se": NaN,\n  "status": "ok",\n  "target": "gamma"\n },\n'
           ' "sha256": "c766c8b1b8030f64f1f9f1d461bcdbaead4dbd6e3e2dcf1582609eedff9b967d"\n}')


def row(target="gamma", estimator="ssm", n=64, replicate=0, risk=0.1, **extra):
    return dict(target=target, estimator=estimator, n=n, replicate=replicate, risk=risk,
                status="ok", cell_key=f"{target}/{estimator}/{n}/{replicate}", **extra)


def results_dir(tmp_path, rows, name="res"):
    """A results directory holding ``rows`` as cell files and a study file."""
    cells = tmp_path / name / CELLS_DIR
    cells.mkdir(parents=True)
    (tmp_path / name / "study.toml").write_text('name = "x"\n')
    return tmp_path / name, [write_cell(cells, r) for r in rows]


def test_round_trip_of_rows_and_dtypes(tmp_path):
    rows = [row(n=np.int64(128), replicate=1, risk=np.float64(0.05), device="cpu", note=0.01),
            row(n=64, replicate=1, risk=0.2, risk_se=float("nan"), note=0.02),
            row(estimator="knn", n=64, risk=0.3, note=0.03),
            row(n=64, replicate=0, risk=0.25, fit_seconds=1.5, note=0.04)]
    path, _ = results_dir(tmp_path, rows)
    table = read_results_dir(path)
    assert list(table.columns) == list(COLUMNS) + ["note"]  # schema first, extras kept after
    assert table[["estimator", "n", "replicate"]].values.tolist() == [
        ["knn", 64, 0], ["ssm", 64, 0], ["ssm", 64, 1], ["ssm", 128, 1]]
    assert table["risk"].tolist() == [0.3, 0.25, 0.2, 0.05]
    assert table["note"].tolist() == [0.03, 0.04, 0.02, 0.01]
    assert table["n"].dtype == np.int64 and table["replicate"].dtype == np.int64
    assert table["draw"].dtype == np.int64 and table["trivial"].dtype == bool
    assert table["risk"].dtype == np.float64 and table["fit_seconds"].dtype == np.float64
    assert table["fit_seconds"].isna().sum() == 3 and table["fit_seconds"].iloc[1] == 1.5
    assert table["device"].tolist() == ["", "", "", "cpu"]  # missing strings filled with ""
    assert table["risk_se"].isna().all()
    pd.testing.assert_frame_equal(for_kind(table), load_results(path))


def test_reads_what_a_study_wrote(tmp_path):
    study = Study.from_dict(dict(
        name="tiny", seed=5, noise=0.2, length=4, sizes=[8, 16], replicates=2, test_size=32,
        targets={"sine": {"kind": "callable", "factory": "study_fixtures:make_sine_target"}},
        estimators={"ridge": {"class": "sklearn.linear_model.Ridge"}}))
    written = run_study(study, tmp_path / "out", progress=False)
    table = read_results_dir(tmp_path / "out")
    assert len(table) == 4 and set(table["status"]) == {"ok"}
    pd.testing.assert_frame_equal(for_kind(table), written)


def test_cell_format_is_stable(tmp_path):
    (tmp_path / "old.json").write_text(CELL_V1)
    old, reason = read_cell(tmp_path / "old.json")
    assert reason == "" and old["n"] == 64 and np.isnan(old["risk_se"])
    assert row_digest(old) == "c766c8b1b8030f64f1f9f1d461bcdbaead4dbd6e3e2dcf1582609eedff9b967d"
    rewritten = write_cell(tmp_path, {**old, "n": np.int64(64)})  # strict JSON: NaN as null
    digest = json.loads(rewritten.read_text())["sha256"]
    assert rewritten.read_text() == CELL_V1.replace("NaN", "null").replace(
        "c766c8b1b8030f64f1f9f1d461bcdbaead4dbd6e3e2dcf1582609eedff9b967d", digest)
    again, reason = read_cell(rewritten)
    assert reason == "" and np.isnan(again["risk_se"])


def test_damaged_cells_are_skipped_with_a_warning(tmp_path):
    path, (a, b, c, d) = results_dir(tmp_path, [row(n=n) for n in (8, 16, 32, 64)])
    a.write_text(a.read_text()[:40])  # truncated
    b.write_text(b.read_text().replace('"risk": 0.1', '"risk": 0.01'))  # altered
    c.write_text("[]")  # valid JSON, not a cell
    (a.parent / f".{d.name}.12345.tmp").write_text("{")  # a writer's temporary: ignored
    with pytest.warns(RuntimeWarning, match="damaged cell file skipped") as caught:
        table = read_results_dir(path)
    assert table["n"].tolist() == [64] and table["risk"].tolist() == [0.1]
    reasons = {str(w.message).split(": damaged")[0]: str(w.message) for w in caught}
    assert sorted(reasons) == sorted(str(f) for f in (a, b, c))
    assert "(unreadable (invalid JSON: Expecting value" in reasons[str(a)]
    assert "(checksum mismatch)" in reasons[str(b)] and "(not a cell file)" in reasons[str(c)]
    assert all(w.filename == __file__ for w in caught)  # points at the caller
    with pytest.warns(RuntimeWarning) as caught:
        load_results(path)
    assert len(caught) == 3 and all(w.filename == __file__ for w in caught)

    d.write_text(d.read_text().replace('"status": "ok"', '"status": "failed"'))
    with pytest.warns(RuntimeWarning) as caught:
        with pytest.raises(ValueError, match="holds no results") as err:
            read_results_dir(path)
    assert len(caught) == 4 and str(path) in str(err.value)


def _file(p):
    p.write_text("x")
    return p


def _dir(p, *files):
    p.mkdir()
    for name in files:
        (p / name).write_text('name = "x"\n')
    return p


@pytest.mark.parametrize("make, error, message", [
    (lambda p: p / "missing", FileNotFoundError, "does not exist"),
    (lambda p: _file(p / "table.csv"), ValueError, "is not a results directory: it is a file"),
    (lambda p: _dir(p / "empty"), ValueError, "is empty"),
    (lambda p: _dir(p / "other", "notes.txt"), ValueError, "neither study.toml nor cells/"),
    (lambda p: _dir(p / "started", "study.toml"), ValueError, "holds no results"),
    (lambda p: (_dir(p / "nocells") / CELLS_DIR).mkdir() or p / "nocells", ValueError,
     "holds no results"),
])
def test_bad_directories_fail_naming_the_path(tmp_path, make, error, message):
    path = make(tmp_path)
    with pytest.raises(error, match=message) as err:
        read_results_dir(path)
    assert type(err.value) is error and repr(str(path)) in str(err.value)


def test_load_results_keeps_its_contract(tmp_path):
    for path in (tmp_path / "missing", _file(tmp_path / "f"), _dir(tmp_path / "e"),
                 _dir(tmp_path / "o", "notes.txt")):
        with pytest.raises(FileNotFoundError, match="results director") as err:
            load_results(path)
        assert str(path) in str(err.value)
    _dir(tmp_path / "started", "study.toml")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        empty = load_results(tmp_path / "started")  # a study that has not finished a cell yet
    assert len(empty) == 0 and list(empty.columns) == [c for c in COLUMNS if c != "versions"]
    assert empty["n"].dtype == np.int64 and empty["risk"].dtype == np.float64


def test_cli_reports_a_bad_directory_in_one_line(tmp_path, capsys):
    path = _file(tmp_path / "results.csv")
    for command in (["fit", str(path)], ["compare", str(path), "a", "b"],
                    ["report", str(path), "-o", str(tmp_path / "r.pdf")]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"nprates {command[0]}: error: ") and err.count("\n") == 1
        assert repr(str(path)) in err and "not a results directory" in err
    assert not (tmp_path / "r.pdf").exists()


def test_analysis_reads_results_without_nprates():
    code = ("import sys, nprates.analysis as a; assert callable(a.read_results_dir); "
            "heavy = ('nprates.reports', 'nprates.estimators', 'nprates.studies', 'torch'); "
            "bad = sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') "
            "for h in heavy)); assert not bad, bad")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
