"""`nprates fit` / `compare` tables out (issue 30): --format csv|latex|markdown|json,
--estimator / --target filters, rows in the report's order, hints in CLI spelling."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from nprates.analysis import simulate_curves
from nprates.cli import main
from nprates.cli.tables import cli_spelling, markdown
from nprates.reports.data import ReportData
from test_cli_fit_compare import write_results_dir

N_BOOT = ["--n-boot", "100"]


@pytest.fixture(scope="module")
def table():
    return simulate_curves({"oracle": 0.66, "transformer": 0.6, "ssm": 0.55}, replicates=3,
                           noise=0.1, seed=3, target="gamma", theory_exponent=0.667)


@pytest.fixture
def results_dir(tmp_path, table):
    return write_results_dir(tmp_path / "study", table)


def test_fit_rows_are_in_the_report_order(results_dir, table, capsys):
    assert main(["fit", str(results_dir), "--format", "csv", *N_BOOT]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out))
    report = ReportData.prepare(table, None, "t", n_boot=100, compare=False)
    assert list(rows["estimator"]) == report.estimators == ["ssm", "transformer", "oracle"]
    assert rows.loc[0, "exponent"] == pytest.approx(report.fits[("gamma", "ssm")].fit.exponent)


def test_formats_and_filters(results_dir, capsys):
    assert main(["fit", str(results_dir), "--format", "markdown", "--estimator", "oracle",
                 *N_BOOT]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("| target | estimator | method | exponent |")
    assert out[1].startswith("|:---|:---|:---|---:|") and len(out) == 3
    assert main(["fit", str(results_dir), "--format", "latex", "--target", "gamma",
                 *N_BOOT]) == 0
    latex = capsys.readouterr().out
    assert latex.startswith("\\begin{tabular}") and "ci\\_low" in latex
    assert main(["fit", str(results_dir), "--format", "json", *N_BOOT]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert main(["compare", str(results_dir), "ssm", "transformer", "--format", "csv",
                 *N_BOOT]) == 0
    frame = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(frame[["a", "b"]].iloc[0]) == ["ssm", "transformer"]
    assert {"difference", "ci_low", "ci_high", "verdict"} <= set(frame.columns)
    assert main(["fit", str(results_dir), "--estimator", "mamba"]) == 2
    assert "--estimator 'mamba': not in the results" in capsys.readouterr().err


def test_markdown_escapes_pipes_and_hints_use_cli_spelling():
    frame = pd.DataFrame({"a": ["x|y"], "b": [1.5]})
    assert markdown(frame).splitlines()[2] == "| x\\|y | 1.5 |"
    assert cli_spelling("left out (keep_plateau=True keeps them)") == \
        "left out (--keep-plateau keeps them)"


def test_errors_from_the_analysis_name_the_cli_option(tmp_path, capsys):
    """A fit that needs the plateau sizes says --keep-plateau, not keep_plateau=True."""
    t = simulate_curves({"ssm": 0.6, "transformer": 0.6}, sizes=[64, 128, 256, 512],
                        replicates=3, noise=0.05, seed=1, target="gamma")
    t["trivial"] = t["n"] <= 128  # two of four sizes at the plateau: two remain
    directory = write_results_dir(tmp_path / "plateau", t)
    assert main(["compare", str(directory), "ssm", "transformer", "--target", "gamma",
                 *N_BOOT]) == 2
    err = capsys.readouterr().err
    assert "--keep-plateau" in err and "keep_plateau" not in err
