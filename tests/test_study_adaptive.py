"""Studies run in rounds until the exponent interval is narrow enough (``nprates.studies.adaptive``,
``nprates plan``, ``nprates run --until-width``)."""

from __future__ import annotations

import textwrap

import pytest

from nprates.cli import main
from nprates.studies import Study, StudyError, load_results, run_study
from nprates.studies.adaptive import pilot_results, run_until_width

STUDY = textwrap.dedent("""\
    name = "rounds"
    noise = 0.3
    length = 3
    sizes = [64, 128, 256, 512, 1024]
    replicates = 1
    test_size = 100

    [targets.sine]
    kind = "callable"
    factory = "study_fixtures:make_sine_target"

    [estimators.knn]
    class = "sklearn.neighbors.KNeighborsRegressor"
    params = {n_neighbors = 3}

    [estimators.ridge]
    class = "sklearn.linear_model.Ridge"
    """)


@pytest.fixture
def study_file(tmp_path):
    path = tmp_path / "rounds.toml"
    path.write_text(STUDY)
    return path


def test_rounds_are_ordinary_resumable_cells(study_file, tmp_path):
    out = tmp_path / "out"
    res = run_until_width(study_file, out, 0.5, estimators=["knn"], progress=False)
    assert res.stopped_by == "width" and res.half_width <= 0.5
    table = load_results(out)
    assert set(table["estimator"]) == {"knn"} and len(table) == res.rounds["new_cells"].sum()
    stored = Study.from_toml(out / "study.toml")
    assert list(stored.sizes) == res.rounds["sizes"].iloc[-1]
    assert stored.replicates == res.rounds["replicates"].iloc[-1]
    # the cells are those of the full study: same keys, so a plain run resumes them
    full = Study.from_toml(study_file)
    for row in table.itertuples():
        assert row.cell_key == full.cell_key(row.target, row.estimator, row.n, row.replicate)
    again = run_until_width(study_file, out, 0.5, estimators=["knn"], progress=False)
    assert again.stopped_by == "width" and len(again.rounds) == 1
    assert len(load_results(out)) == len(table)


def test_budget_stops_the_rounds(study_file, tmp_path):
    res = run_until_width(study_file, tmp_path / "b", 1e-4, budget_hours=1e-6,
                          estimators=["knn"], progress=False)
    assert res.stopped_by == "budget" and len(res.rounds) == 1


def test_refuses_a_directory_it_would_prune(study_file, tmp_path):
    out = tmp_path / "full"
    run_study(Study.from_toml(study_file).replace(sizes=[16, 256]), out,
              progress=False)
    before = len(load_results(out))
    with pytest.raises(StudyError, match="holds a different study .differs in estimators.ridge"):
        run_until_width(study_file, out, 0.5, estimators=["knn"], progress=False)
    assert len(load_results(out)) == before
    with pytest.raises(StudyError, match="estimators"):
        pilot_results(study_file, out, estimators=["nope"])


def test_plan_and_run_commands(study_file, tmp_path, capsys):
    out = str(tmp_path / "cli")
    assert main(["plan", str(study_file), "--width", "0.2", "--out", out, "--estimator",
                 "knn", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "Study plan" in text and "replicates per size" in text and "pilot: 8 cells" in text
    assert main(["run", str(study_file), "--until-width", "0.5", "--out", out, "--estimator",
                 "knn", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "round 1: sizes [64, 128, 512, 1024] x 2 replicates" in text
    assert "stopped by: width" in text


@pytest.mark.parametrize("argv, message", [
    (["plan", "S", "--width", "0"], "--width: must be a positive number"),
    (["run", "S", "--budget", "1"], "--budget and --estimator need --until-width"),
    (["run", "S", "--until-width", "0.1", "--force"], "--until-width runs rounds"),
    (["run", "S", "--until-width", "0.1", "--estimator", "nope"], "unknown estimator"),
])
def test_bad_input_exits_2_with_one_line(argv, message, study_file, tmp_path, capsys):
    argv = [str(study_file) if a == "S" else a for a in argv] + ["--out", str(tmp_path / "x")]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
