"""``nprates report`` and ``nprates demo``: files, messages, reuse of finished cells."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

pypdf = pytest.importorskip("pypdf")

from nprates.analysis import simulate_curves  # noqa: E402
from nprates.cli import main  # noqa: E402
from nprates.studies.store import write_cell  # noqa: E402
from study_fixtures import ROOT  # noqa: E402

TINY = textwrap.dedent("""\
    name = "tiny"
    description = "A stand-in for the quick study."
    noise = 0.1
    length = 3
    sizes = [8, 16, 32]
    replicates = 2
    test_size = 50

    [targets.sine]
    kind = "callable"
    factory = "study_fixtures:make_sine_target"

    [estimators.ridge]
    class = "sklearn.linear_model.Ridge"

    [estimators.knn]
    class = "sklearn.neighbors.KNeighborsRegressor"
    params = {n_neighbors = 2}
    """)


def text_of(path) -> str:
    return " ".join(" ".join(p.extract_text() for p in pypdf.PdfReader(str(path)).pages).split())


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory):
    """A results directory as 'nprates run' writes it, from a simulated table."""
    d = tmp_path_factory.mktemp("results") / "sim"
    (d / "cells").mkdir(parents=True)
    table = simulate_curves({"ssm": 0.6, "transformer": 0.55}, sizes=[50, 100, 200, 400],
                            replicates=3, seed=2, theory_exponent=0.667, target="gamma")
    table["study"] = "sim"
    for row in table.to_dict("records"):
        write_cell(d / "cells", row)
    (d / "study.toml").write_text('name = "sim"\ndescription = "simulated cells"\n')
    return d


def test_report_command_matches_fit(results_dir, tmp_path, capsys):
    assert main(["fit", str(results_dir), "--json", "-"]) == 0
    fits = json.loads(capsys.readouterr().out)
    assert len(fits) == 2
    out = tmp_path / "report.pdf"
    assert main(["report", str(results_dir), "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"report written to {out} (") and "comparisons" in said
    text = text_of(out)
    assert "Convergence rates: sim" in text and "simulated cells" in text
    for f in fits:  # the same numbers as 'nprates fit'
        assert f"{f['exponent']:.3f} [{f['ci_low']:.3f}, {f['ci_high']:.3f}]" in text
        assert f["verdict"] in text
    assert "ssm vs transformer" in text


def test_report_default_output_and_options(results_dir, capsys):
    assert main(["report", str(results_dir), "--title", "My rates", "--n-boot", "100",
                 "--margin", "0.2"]) == 0
    path = results_dir / "report.pdf"
    assert path.is_file() and "My rates" in text_of(path) and "+-0.2" in text_of(path)
    path.unlink()


@pytest.mark.parametrize("setup, message", [
    (lambda p: p / "nope", "does not exist"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "is empty"),
    (lambda p: ((p / "nocells").mkdir(), (p / "nocells" / "study.toml").write_text(
        'name = "x"\n'))[0] or p / "nocells", "holds no results"),
])
def test_report_of_empty_or_missing_directory_exits_2(tmp_path, capsys, setup, message):
    where = setup(tmp_path)
    assert main(["report", str(where), "-o", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nprates report: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "r.pdf").exists()


def test_demo_runs_reports_and_reuses_finished_cells(tmp_path, capsys):
    study = tmp_path / "tiny.toml"
    study.write_text(TINY)
    out = tmp_path / "demo"
    assert main(["demo", "--study", str(study), "--out", str(out), "--device", "cpu",
                 "--progress"]) == 0
    first = capsys.readouterr()
    assert "tiny: 12/12 cells done" in first.err  # progress
    # the exponent table (at n <= 32 ridge stays above 0.1 of the null risk: the plateau
    # rule leaves it no size to fit, and the table says so)
    assert re.search(r"^\s+sine\s+ridge\s+(\d\.\d{4}|-)\s", first.out, re.M)
    # its hints in the command line's spelling, as nprates fit prints them
    assert "--keep-plateau" in first.out and "keep_plateau" not in first.out
    report = out / "report.pdf"
    assert report.is_file() and f"Report: {report.resolve()}" in first.out
    cells = sorted((out / "cells").glob("*.json"))
    assert len(cells) == 12
    stamps = [c.stat().st_mtime_ns for c in cells]
    assert main(["demo", "--study", str(study), "--out", str(out), "--progress"]) == 0
    second = capsys.readouterr()
    assert "(12 resumed)" in second.err and "cells to run" not in second.err
    assert [c.stat().st_mtime_ns for c in cells] == stamps
    assert second.out.split("Report:")[0] == first.out.split("Report:")[0]  # same table
    assert main(["demo", "--study", str(study), "--out", str(out), "--quiet"]) == 0
    quiet = capsys.readouterr()
    assert quiet.err == "" and "Report:" in quiet.out


def test_demo_options(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--help"])
    assert info.value.code == 0
    usage = capsys.readouterr().out
    for opt in ("--out", "--device", "--workers", "--quiet", "--progress"):
        assert opt in usage
    assert "--study" not in usage
    with pytest.raises(SystemExit) as info:
        raise SystemExit(main(["demo", "--device", "tpu", "--out", str(tmp_path / "d")]))
    assert info.value.code == 2 and "--device" in capsys.readouterr().err
    assert main(["demo", "--study", str(tmp_path / "missing.toml"),
                 "--out", str(tmp_path / "d")]) == 2
    assert "no such study file" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_builtin_quick_study_is_the_example():
    from nprates.studies import Study
    from nprates.studies.examples import quick_study_text

    example = ROOT / "examples" / "quick.toml"
    try:
        text, source = quick_study_text()
    except FileNotFoundError as exc:
        assert "quick study is missing" in str(exc)
        pytest.skip("nprates/examples/quick.toml is not installed in this checkout")
    if example.is_file():
        assert text == example.read_text(encoding="utf-8")
    study = Study.from_toml_text(text, source=source)
    assert study.name and len(study.estimators) >= 2
