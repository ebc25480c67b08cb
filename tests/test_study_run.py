"""Running studies: results rows, failures, determinism, executors, the store."""

from __future__ import annotations

import json
import os
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from nprates.analysis.schema import COLUMNS
from nprates.studies import Study, StudyError, StudyIncomplete, check_study, load_results, run_study
from nprates.studies import check
from nprates.studies.runner import plan_tasks
from nprates.studies.store import CELLS_DIR, KIND_COLUMNS

SINE = {"kind": "callable", "factory": "study_fixtures:make_sine_target", "params": {"scale": 2.0}}
RIDGE = {"class": "sklearn.linear_model.Ridge", "params": {"alpha": 0.1}}
VOLATILE = ["fit_seconds"]  # wall times differ between runs, nothing else may


def tiny(**changes) -> Study:
    spec = dict(name="tiny", seed=5, noise=0.2, length=4, sizes=[8, 16, 32], replicates=2,
                test_size=64, targets={"sine": SINE}, estimators={"ridge": RIDGE})
    spec.update(changes)
    return Study.from_dict(spec)


def same_table(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.drop(columns=VOLATILE), b.drop(columns=VOLATILE))


def test_custom_target_with_plain_sklearn_regressor(tmp_path):
    results = run_study(tiny(), tmp_path / "out", executor="serial", progress=False)
    rate_columns = [c for c in COLUMNS if c not in KIND_COLUMNS["capability"] + ("versions",)]
    assert list(results.columns[:len(rate_columns)]) == rate_columns
    assert len(results) == 6 and set(results.status) == {"ok"}
    assert results.cell_key.is_unique
    assert (results.risk > 0).all() and (results.risk_se > 0).all()
    assert np.isfinite(results.train_loss).all() and results.val_loss.isna().all()
    assert (results.theory_exponent == 0.5).all() and (results.a_dagger == 0.5).all()
    assert (results.noise == 0.2).all() and (results.device == "cpu").all()
    assert results.data_seed.tolist()[:2] == ["sine/n=8/r=0", "sine/n=8/r=1"]
    assert results.attrs["versions"]["numpy"] == np.__version__
    assert (tmp_path / "out" / "study.toml").read_text() == tiny().to_toml()
    same_table(results, load_results(tmp_path / "out"))


def test_estimators_share_data_but_not_seeds(tmp_path):
    study = tiny(sizes=[16], replicates=1,
                 estimators={"a": RIDGE, "b": {"class": "sklearn.linear_model.Ridge",
                                                "params": {"alpha": 0.1}}})
    results = run_study(study, tmp_path / "out", executor="serial", progress=False)
    a, b = (results[results.estimator == e].iloc[0] for e in "ab")
    assert a.data_seed == b.data_seed and a.risk == b.risk  # paired: same data, same fit


def test_failed_and_diverged_cells_are_recorded_and_the_study_goes_on(tmp_path):
    # FailingRegressor sees n * length rows: 16 * 4 = 64 fails, 32 * 4 = 128 gives NaNs
    study = tiny(estimators={
        "ridge": RIDGE,
        "bad": {"class": "study_fixtures:FailingRegressor", "params": {"fail_at": [64]}},
        "nan": {"class": "study_fixtures:FailingRegressor",
                "params": {"fail_at": [128], "mode": "nan"}}})
    out = tmp_path / "out"
    results = run_study(study, out, executor="serial", progress=False)
    results = results.set_index(["estimator", "n", "replicate"])
    assert len(results) == 18
    failed = results.loc[("bad", 16, 0)]
    assert failed.status == "failed" and np.isnan(failed.risk)
    assert failed.error == "ArithmeticError: deliberate failure at 64 rows"
    diverged = results.loc[("nan", 32, 1)]
    assert diverged.status == "diverged" and "non-finite" in diverged.error
    assert (results.loc["ridge"].status == "ok").all()
    assert (results.status == "ok").sum() == 18 - 4

    before = {p.name: p.stat().st_mtime_ns for p in (out / CELLS_DIR).iterdir()}
    run_study(study, out, executor="serial", progress=False)  # failed cells: not retried
    assert {p.name: p.stat().st_mtime_ns for p in (out / CELLS_DIR).iterdir()} == before
    run_study(study, out, executor="serial", progress=False, retry_failed=True)
    after = {p.name: p.stat().st_mtime_ns for p in (out / CELLS_DIR).iterdir()}
    changed = sorted(name for name in after if after[name] != before[name])
    assert changed == ["sine__bad__n16__r0.json", "sine__bad__n16__r1.json"]


def test_same_study_same_table(tmp_path):
    first = run_study(tiny(), tmp_path / "a", executor="serial", progress=False)
    second = run_study(tiny(), tmp_path / "b", executor="serial", progress=False)
    same_table(first, second)
    other = run_study(tiny(seed=6), tmp_path / "c", executor="serial", progress=False)
    assert not np.allclose(first.risk, other.risk)


def test_executor_objects_and_process_pool_give_the_serial_table(tmp_path):
    serial = run_study(tiny(), tmp_path / "serial", executor="serial", progress=False)
    with ThreadPoolExecutor(2) as pool:
        threaded = run_study(tiny(), tmp_path / "threads", executor=pool, progress=False)
    same_table(serial, threaded)
    pooled = run_study(tiny(), tmp_path / "pool", executor="process", workers=2, progress=False)
    same_table(serial, pooled)


class LosingExecutor(Executor):
    """Runs tasks in this thread, but the task for n=16 is lost (as if its worker died)."""

    def submit(self, fn, task):
        future = Future()
        if task.n == 16:
            future.set_exception(ConnectionError("worker lost"))
        else:
            future.set_result(fn(task))
        return future


def test_lost_tasks_are_reported_and_retried_on_the_next_run(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(StudyIncomplete, match=r"2 task\(s\) could not run \(first: "
                       r"sine/ridge/n=16/r=0: ConnectionError: worker lost\)"):
        run_study(tiny(), out, executor=LosingExecutor(), progress=False)
    assert sorted(load_results(out).n.unique()) == [8, 32]
    assert len(run_study(tiny(), out, executor="serial", progress=False)) == 6


def test_progress_lines(tmp_path, capsys):
    run_study(tiny(sizes=[8], replicates=1), tmp_path / "out", executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "tiny: 1 cells to run in 1 tasks (serial)" in err
    assert "tiny: 1/1 cells done in 0:00 -> " in err
    run_study(tiny(sizes=[8], replicates=1), tmp_path / "out", executor="serial", progress=False)
    assert capsys.readouterr().err == ""
    run_study(tiny(sizes=[16], replicates=1), tmp_path / "other", executor="serial")
    assert capsys.readouterr().err == ""  # stderr is no terminal: quiet unless asked


def test_damaged_cell_files_are_detected_and_recomputed(tmp_path):
    out = tmp_path / "out"
    reference = run_study(tiny(), out, executor="serial", progress=False)
    cells = out / CELLS_DIR
    truncated, tampered = cells / "sine__ridge__n16__r0.json", cells / "sine__ridge__n32__r1.json"
    truncated.write_text(truncated.read_text()[:40])
    tampered.write_text(tampered.read_text().replace('"status": "ok"', '"status": "failed"'))
    (cells / ".sine__ridge__n8__r0.json.999999999.tmp").write_text("{")  # a dead writer's
    with pytest.warns(RuntimeWarning, match="damaged cell file skipped"):
        partial = load_results(out)
    assert len(partial) == 4
    untouched = (cells / "sine__ridge__n8__r0.json").stat().st_mtime_ns
    same_table(run_study(tiny(), out, executor="serial", progress=False), reference)
    assert (cells / "sine__ridge__n8__r0.json").stat().st_mtime_ns == untouched
    assert not list(cells.glob(".*.tmp"))


def test_a_different_study_is_refused_unless_forced(tmp_path):
    out = tmp_path / "out"
    run_study(tiny(), out, executor="serial", progress=False)
    bigger = tiny(sizes=[8, 16, 32, 64])
    with pytest.raises(StudyError, match=r"--out: .* holds a different study \(differs in sizes\)"):
        run_study(bigger, out, executor="serial", progress=False)
    kept = (out / CELLS_DIR / "sine__ridge__n8__r0.json").stat().st_mtime_ns
    results = run_study(bigger, out, executor="serial", progress=False, force=True)
    assert len(results) == 8
    assert (out / CELLS_DIR / "sine__ridge__n8__r0.json").stat().st_mtime_ns == kept
    smaller = run_study(tiny(sizes=[8]), out, executor="serial", progress=False, force=True)
    assert sorted(os.listdir(out / CELLS_DIR)) == ["sine__ridge__n8__r0.json",
                                                   "sine__ridge__n8__r1.json"]
    assert len(smaller) == 2
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(StudyError, match="not empty and holds no study.toml"):
        run_study(tiny(), tmp_path / "other", executor="serial", progress=False)


def test_a_forced_replacement_leaves_no_row_of_the_old_study(tmp_path, monkeypatch):
    """Cells the new study recomputes (same file, another cell key) are deleted at once:
    a run stopped before rewriting them must not leave old rows for load_results."""
    two = {"a": RIDGE, "b": {"class": "sklearn.linear_model.Ridge", "params": {"alpha": 0.1}}}
    out = tmp_path / "out"
    run_study(tiny(estimators=two), out, executor="serial", progress=False)
    changed = dict(two, b={"class": "sklearn.linear_model.Ridge", "params": {"alpha": 5.0}})
    monkeypatch.setattr("nprates.studies.runner.plan_tasks", lambda *a, **k: [])  # stopped
    run_study(tiny(estimators=changed), out, executor="serial", progress=False, force=True)
    left = load_results(out)
    assert len(left) == 6 and set(left.estimator) == {"a"}
    monkeypatch.undo()
    redone = run_study(tiny(estimators=changed), out, executor="serial", progress=False)
    assert len(redone) == 12 and set(redone.estimator) == {"a", "b"}


def test_load_results_of_missing_or_empty_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_results(tmp_path / "nothing")
    (tmp_path / "empty" / CELLS_DIR).mkdir(parents=True)
    empty = load_results(tmp_path / "empty")
    assert len(empty) == 0 and list(empty.columns) == [c for c in COLUMNS if c != "versions"]


def test_gamma_smooth_and_piecewise_targets_with_the_oracle(tmp_path):
    smooth = {"kind": "mixed", "a0": 1.0, "alpha": 1.0, "features": 1, "window": 2}
    study = tiny(
        sizes=[8, 32], replicates=1, test_size=32,
        targets={"gamma": {"kind": "gamma_smooth", "t_max": 3.0, "smoothness": smooth},
                 "pw": {"kind": "piecewise", "window": 3, "t_max": 2.5, "smoothness": smooth}},
        estimators={"ridge": RIDGE, "oracle": {"class": "nprates.estimators.OracleProjection"}})
    results = run_study(study, tmp_path / "out", executor="serial", progress=False)
    assert (results.status == "ok").all()
    assert sorted(set(zip(results.target, results.estimator))) == [
        ("gamma", "oracle"), ("gamma", "ridge"), ("pw", "oracle"), ("pw", "ridge")]
    assert np.allclose(results.theory_exponent, 2 / 3) and np.allclose(results.a_dagger, 1.0)
    oracle = results[results.estimator == "oracle"]
    assert (oracle.n_params > 0).all() and np.isfinite(oracle.val_loss).all()


def test_training_divergence_is_recorded_as_diverged(tmp_path):
    study = tiny(sizes=[8, 16], replicates=1, estimators={
        "div": {"class": "study_fixtures:FailingRegressor",
                "params": {"fail_at": [64], "mode": "diverge"}}})
    results = run_study(study, tmp_path / "out", executor="serial", progress=False)
    assert results.status.tolist() == ["ok", "diverged"]
    assert results.error[1] == "TrainingDiverged: deliberate divergence at 64 rows"


def test_batched_replicates_run_as_one_task(tmp_path, monkeypatch):
    from study_fixtures import ReplicateRidge

    batched = {"class": "study_fixtures:ReplicateRidge", "params": {"diverge_at": [1]}}
    study = tiny(replicates=3, estimators={"rep": batched})
    checked = check_study(study)
    assert checked.batched == {"rep"}
    tasks = plan_tasks(checked, checked.cells[1:], None)  # replicate 0 of n=8 done already
    assert [t.replicates for t in tasks] == [(1, 2), (0, 1, 2), (0, 1, 2)]
    ReplicateRidge.calls.clear()
    results = run_study(study, tmp_path / "out", executor="serial", progress=False)
    assert ReplicateRidge.calls == [3, 3, 3]
    assert (results.status == np.where(results.replicate == 1, "diverged", "ok")).all()
    assert (results[results.status == "ok"].n_params == 3).all()  # 2 tokens x 1 feature + 1
    # the same cells fitted one by one give the same rows (fit_replicates' contract)
    monkeypatch.setattr(check, "batches_replicates", lambda est: False)
    assert check_study(study).batched == frozenset()
    ReplicateRidge.calls.clear()
    one_by_one = run_study(study, tmp_path / "single", executor="serial", progress=False)
    assert ReplicateRidge.calls == [] and (one_by_one.status == "ok").all()  # fit() never diverges
    ok = results.status == "ok"
    np.testing.assert_allclose(results.risk[ok], one_by_one.risk[ok], rtol=1e-12)


def test_tiny_ssm_replicates_train_batched_like_separate_fits(tmp_path, monkeypatch):
    ssm = {"class": "nprates.estimators.SSMRegressor",
           "params": {"width": 4, "n_layers": 1, "d_state": 2, "fnn_width": 8, "batch_size": 8,
                      "max_epochs": 2, "patience": 2}}
    study = tiny(sizes=[16], replicates=2, test_size=16, device="cpu", estimators={"ssm": ssm})
    assert check_study(study).batched == {"ssm"}
    batched = run_study(study, tmp_path / "batched", executor="serial", progress=False)
    assert (batched.status == "ok").all() and (batched.epochs >= 2).all()
    assert (batched.n_params > 0).all() and np.isfinite(batched.val_loss).all()
    assert (batched.device == "cpu").all()
    monkeypatch.setattr(check, "batches_replicates", lambda est: False)
    separate = run_study(study, tmp_path / "separate", executor="serial", progress=False)
    # equal up to float rounding (the fused AdamW kernel rounds differently sized tensors
    # differently; after 200 steps that leaves relative differences near 1e-5)
    np.testing.assert_allclose(batched.risk, separate.risk, rtol=1e-4)
    np.testing.assert_allclose(batched.train_loss, separate.train_loss, rtol=1e-4)
    assert batched.epochs.tolist() == separate.epochs.tolist()
