"""Running under faults: one run per directory, unwritable or full output, crashing and
orphaned workers, SIGTERM, copied cell files, thread-independent results."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import pandas as pd
import pytest

from nprates.cli import main
from nprates.cli.paths import writable_dir, writable_file
from nprates.studies import Study, StudyError, load_results, run_study
from nprates.studies import store as store_module
from nprates.studies.lock import LOCK_FILE, RunLock, pid_alive
from nprates.studies.store import CELLS_DIR

from study_fixtures import env_with_fixtures

SINE = {"kind": "callable", "factory": "study_fixtures:make_sine_target"}
RIDGE = {"class": "sklearn.linear_model.Ridge"}


def tiny(**changes) -> Study:
    spec = dict(name="tiny", seed=0, noise=0.1, length=4, sizes=[8, 16, 32], replicates=2,
                test_size=16, targets={"sine": SINE}, estimators={"ridge": RIDGE})
    spec.update(changes)
    return Study.from_dict(spec)


def write_study(tmp_path, study) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(study.to_toml())
    return path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- one run per directory ------------------------------------------------------------------

def test_a_second_run_is_refused_while_the_first_holds_the_lock(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / LOCK_FILE).write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename,
                                                 "started": "now"}))
        code = main(["run", str(write_study(tmp_path, tiny())), "--out", str(out), "--quiet"])
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 2 and f"pid {holder.pid}" in err and str(out / LOCK_FILE) in err
    assert not (out / CELLS_DIR).exists()


def test_a_stale_lock_is_taken_over_and_the_lock_is_released(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_FILE).write_text(json.dumps({"pid": dead_pid(), "host": os.uname().nodename}))
    assert main(["run", str(write_study(tmp_path, tiny())), "--out", str(out), "--quiet"]) == 0
    assert "taking over the stale lock" in capsys.readouterr().err
    assert not (out / LOCK_FILE).exists() and len(load_results(out)) == 6


def test_the_lock_holds_pid_and_host_and_is_released_on_error(tmp_path):
    lock = RunLock(tmp_path / "out")
    with pytest.raises(ZeroDivisionError):
        with lock:
            owner = json.loads(lock.path.read_text())
            assert owner["pid"] == os.getpid() and owner["host"] == os.uname().nodename
            with pytest.raises(StudyError, match="is in use by another run"):
                RunLock(tmp_path / "out").acquire()
            1 / 0
    assert not lock.path.exists()


# -- writability ------------------------------------------------------------------------------

def test_out_under_a_regular_file_is_refused_before_work(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code = main(["run", str(write_study(tmp_path, tiny())), "--out",
                 str(tmp_path / "file" / "out"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "which is not a directory" in err and len(err.splitlines()) == 1


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_a_read_only_out_is_refused_before_work(tmp_path, capsys):
    code = main(["run", str(write_study(tmp_path, tiny())), "--out", "/proc/nprates/out",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "--out /proc/nprates/out: cannot write in /proc" in err


def test_output_path_checks(tmp_path):
    assert writable_dir(tmp_path / "a" / "b", "--out") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # nothing created
    writable_file(tmp_path / "x.json", "--json")
    with pytest.raises(ValueError, match="--json .*: the folder .* does not exist"):
        writable_file(tmp_path / "missing" / "x.json", "--json")
    with pytest.raises(ValueError, match="-o .* is a directory"):
        writable_file(tmp_path, "-o")


def test_a_full_disk_stops_the_run_with_one_line_and_keeps_finished_cells(
        tmp_path, capsys, monkeypatch):
    real, calls = store_module.write_cell, []

    def full_after_two(cells_dir, row):
        calls.append(row)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device", str(cells_dir / "x.json"))
        return real(cells_dir, row)

    monkeypatch.setattr(store_module, "write_cell", full_after_two)
    out = tmp_path / "out"
    code = main(["run", str(write_study(tmp_path, tiny())), "--out", str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1, err
    assert "No space left on device" in err and "finished cells are kept" in err
    assert len(list((out / CELLS_DIR).glob("*.json"))) == 2 and not (out / LOCK_FILE).exists()


# -- process faults ---------------------------------------------------------------------------

def test_a_crashed_worker_fails_its_cell_and_the_others_run(tmp_path):
    crash = {"class": "hardening_fixtures:ExitingRidge", "params": {"exit_at": [64]}}
    study = tiny(estimators={"crash": crash}, sizes=[8, 16], replicates=2)
    results = run_study(study, tmp_path / "out", workers=2, progress=False)
    failed = results[results.status == "failed"]
    assert sorted(failed.n) == [16, 16] and (results[results.n == 8].status == "ok").all()
    assert failed.error.str.contains("worker process running this cell exited with code 3").all()
    assert (results.threads == 1).all()  # every cell trains with CELL_THREADS threads
    again = run_study(study, tmp_path / "out", workers=2, progress=False)  # nothing lost
    pd.testing.assert_frame_equal(again, results)


def test_system_exit_in_fit_fails_that_cell_only(tmp_path):
    exiting = {"class": "hardening_fixtures:ExitingRidge",
               "params": {"exit_at": [64], "mode": "exit"}}
    results = run_study(tiny(estimators={"e": exiting}), tmp_path / "out", progress=False)
    assert results.set_index("n").status.to_dict() == {8: "ok", 16: "failed", 32: "ok"}
    assert (results[results.n == 16].error == "SystemExit: 3").all()


def _start_slow_run(tmp_path, pids, workers):
    study = tiny(estimators={"slow": {"class": "hardening_fixtures:PidRidge",
                                      "params": {"sleep": 0.5, "pids": str(pids)}}},
                 sizes=[8, 16, 32, 64], replicates=3)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "nprates", "run", str(write_study(tmp_path, study)),
            "--out", str(out), "--quiet"] + (
        ["--executor", "process", "--workers", str(workers)] if workers else [])
    proc = subprocess.Popen(argv, env=env_with_fixtures(), cwd=tmp_path,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 180
    while len(list((out / CELLS_DIR).glob("*.json"))) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, "no cells finished"
        time.sleep(0.05)
    return proc, out


def test_sigterm_stops_like_ctrl_c(tmp_path):
    proc, out = _start_slow_run(tmp_path, tmp_path / "pids", workers=None)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("nprates run: terminated (SIGTERM); finished")
    assert not (out / LOCK_FILE).exists() and len(load_results(out)) >= 2


def test_workers_end_when_the_parent_is_killed(tmp_path):
    pids = tmp_path / "pids"
    proc, _ = _start_slow_run(tmp_path, pids, workers=1)
    workers = {int(p) for p in pids.read_text().split()} - {proc.pid}
    assert workers  # the trial fit ran in the parent, the cells in a worker
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 30
    while any(pid_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(pid_alive(p) for p in workers)


# -- copied cell files, determinism -------------------------------------------------------------

def test_a_copied_cell_file_is_quarantined(tmp_path, capsys):
    out = tmp_path / "out"
    run_study(tiny(), out, progress=False)
    cells = out / CELLS_DIR
    copy = cells / "sine__ridge__n8__r0 (copy).json"
    copy.write_bytes((cells / "sine__ridge__n8__r0.json").read_bytes())
    results = run_study(tiny(), out, progress=True)
    err = capsys.readouterr().err
    assert "sine__ridge__n8__r0 (copy).json holds another cell's row" in err
    assert not copy.exists() and (out / "quarantine" / copy.name).exists()
    assert len(results) == 6 and results.cell_key.is_unique


def test_cells_of_later_target_draws_are_not_taken_for_copies(tmp_path, capsys):
    # a cell of draw 1 lives in SINE@draw=1__...: its name must match its row, or every
    # rerun would quarantine and recompute it
    out = tmp_path / "out"
    first = run_study(tiny(target_draws=2), out, progress=False)
    cells = out / CELLS_DIR
    before = {p.name: p.read_bytes() for p in cells.glob("*.json")}
    assert len(before) == 12 and any("@draw=1__" in name for name in before)
    again = run_study(tiny(target_draws=2), out, progress=True)
    assert "holds another cell's row" not in capsys.readouterr().err
    assert not (out / "quarantine").exists()
    assert {p.name: p.read_bytes() for p in cells.glob("*.json")} == before
    assert sorted(again.cell_key) == sorted(first.cell_key)


def test_a_long_study_runs_in_pieces_of_whole_draws(tmp_path, capsys):
    """--draws K runs every size and estimator of the first K draws; a later piece resumes
    and the pieces together equal one full run."""
    out = tmp_path / "out"
    study = tiny(target_draws=3)
    first = run_study(study, out, progress=False, draws=1, workers=1)
    assert sorted(first.draw.unique()) == [0] and len(first) == 6  # 3 sizes x 2 replicates
    before = {p.name: p.read_bytes() for p in (out / CELLS_DIR).glob("*.json")}
    code = main(["run", str(write_study(tmp_path, study)), "--out", str(out), "--quiet",
                 "--workers", "1", "--draws", "2"])
    assert code == 0
    after = {p.name: p.read_bytes() for p in (out / CELLS_DIR).glob("*.json")}
    assert len(after) == 12 and all(after[name] == data for name, data in before.items())
    whole = run_study(study, out, progress=False, workers=1)
    assert sorted(whole.draw.unique()) == [0, 1, 2] and len(whole) == 18
    direct = run_study(study, tmp_path / "direct", progress=False, workers=1)
    assert sorted(whole.cell_key) == sorted(direct.cell_key)
    merged = whole.set_index("cell_key").risk.sort_index()
    assert merged.tolist() == direct.set_index("cell_key").risk.sort_index().tolist()
    for bad in ("0", "4", "x"):
        capsys.readouterr()
        with pytest.raises(SystemExit) if bad == "x" or bad == "0" else nullcontext():
            code = main(["run", str(write_study(tmp_path, study)), "--out", str(out),
                         "--quiet", "--draws", bad])
            assert code == 2
        assert "draws" in capsys.readouterr().err
    code = main(["run", str(write_study(tmp_path, study)), "--out", str(out), "--quiet",
                 "--draws", "1", "--until-width", "0.1"])
    assert code == 2 and "--draws" in capsys.readouterr().err


@pytest.mark.slow  # about a minute on a busy machine; the crash test checks threads == 1
def test_serial_and_two_workers_give_identical_risks(tmp_path):
    net = {"width": 8, "n_layers": 1, "fnn_width": 8, "max_epochs": 3, "patience": 2}
    study = tiny(estimators={
        "ssm": {"class": "nprates.estimators.SSMRegressor", "params": {**net, "d_state": 4}},
        "transformer": {"class": "nprates.estimators.TransformerRegressor",
                        "params": {**net, "n_heads": 2}}},
        sizes=[8, 16], replicates=1)
    serial = run_study(study, tmp_path / "serial", progress=False)
    pooled = run_study(study, tmp_path / "pooled", workers=2, progress=False)
    assert (serial.status == "ok").all() and (serial.threads == 1).all()
    assert serial.risk.tolist() == pooled.risk.tolist()  # bit-identical
    assert serial.threads.tolist() == pooled.threads.tolist()
