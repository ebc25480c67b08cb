"""Validation by doing: bad hyperparameters and impossible sizes are refused before any
work starts, with exit status 2 and one line naming the field."""

from __future__ import annotations

import time

import pytest

from nprates.cli import main
from nprates.studies import Study, StudyError, check_study, run_study
from nprates.studies.memory import check_memory

SINE = {"kind": "callable", "factory": "study_fixtures:make_sine_target"}


def tiny(estimators, **changes) -> Study:
    spec = dict(name="bad", seed=0, noise=0.1, length=4, sizes=[8, 16], replicates=1,
                test_size=16, targets={"sine": SINE}, estimators=estimators)
    spec.update(changes)
    return Study.from_dict(spec)


SSM = "nprates.estimators.SSMRegressor"


@pytest.mark.parametrize("cls, params, field", [
    (SSM, {"width": -8, "max_epochs": 1}, "estimators.e.params.width: -8: a trial fit"),
    (SSM, {"width": "big", "max_epochs": 1}, "estimators.e.params.width: 'big': a trial fit"),
    (SSM, {"max_epochs": 0}, "estimators.e.params.max_epochs: 0: a trial fit"),
    (SSM, {"lr": float("nan"), "max_epochs": 1}, "estimators.e.params.lr: nan: a trial fit"),
    ("nprates.estimators.KNNBaseline", {"n_neighbors": [0]},
     "estimators.e.params.n_neighbors: [0]: a trial fit"),
    ("nprates.estimators.classifiers.SSMClassifier", {}, "estimators.e.class: "
     "'nprates.estimators.classifiers.SSMClassifier' is a classifier"),
])
def test_bad_hyperparameters_are_refused_before_any_work(tmp_path, capsys, cls, params, field):
    path = tmp_path / "bad.toml"
    path.write_text(tiny({"e": {"class": cls, "params": params}}).to_toml())
    code = main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert field in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_a_fit_that_fails_at_one_size_only_still_runs(tmp_path):
    # FailingRegressor fails at 16 * 4 = 64 rows: the trial fit (8 sequences) passes
    study = tiny({"bad": {"class": "study_fixtures:FailingRegressor",
                          "params": {"fail_at": [64]}}})
    results = run_study(study, tmp_path / "out", progress=False)
    assert results.status.tolist() == ["ok", "failed"]


@pytest.mark.parametrize("changes, field", [
    ({"replicates": 100_000_000}, "replicates: 200000000 cells"),
    ({"sizes": [100_000_000_000]}, "sizes: a training set of n = 100000000000"),
    ({"length": 10_000_000_000}, "length: a training set"),
    ({"test_size": 10**12}, "test_size: the test set of 1000000000000"),
    ({"targets": {"g": {"kind": "gamma_smooth", "max_basis": 10**15,
                        "smoothness": {"kind": "mixed", "features": 2, "window": 4}}}},
     "targets.g.max_basis: a basis of up to 1000000000000000 functions (72 bytes each)"),
])
def test_sizes_that_cannot_fit_in_memory_are_refused_at_once(changes, field):
    study = tiny({"ridge": {"class": "sklearn.linear_model.Ridge"}}, **changes)
    start = time.monotonic()
    with pytest.raises(StudyError, match="needs at least .* of memory, more than") as info:
        check_study(study)
    assert field in str(info.value)
    assert time.monotonic() - start < 60  # no minutes of validation (a generous bound)


def test_memory_estimate_against_a_given_limit():
    study = tiny({"ridge": {"class": "sklearn.linear_model.Ridge"}}, sizes=[1000])
    check_memory(study, limit=10**9)
    with pytest.raises(StudyError, match=r"sizes: .* needs at least 193.5 KB of memory, more "
                       r"than this machine's 100.0 KB"):
        check_memory(study, limit=10**5)
