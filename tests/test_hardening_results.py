"""A results directory from someone else cannot crash, hang or exhaust the reader: each
tampered cell file is skipped with one warning naming the file and the field, and a
tampered study.toml or lock file gives one line with exit status 2 (docs/trust.md)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import warnings
from contextlib import contextmanager

import pytest

from nprates.analysis.results_dir import read_cell, row_digest
from nprates.cli import main
from nprates.studies import Study, load_results, run_study

from study_fixtures import env_with_fixtures

STUDY = """\
name = "tiny"
description = "made by the hardening tests"
noise = 0.1
length = 4
sizes = [16, 32, 64, 128]
replicates = 2
test_size = 32

[targets.t]
kind = "gamma_smooth"
t_max = 4
smoothness = {kind = "mixed", a0 = 1.0, alpha = 1.0, features = 2, window = 4}

[estimators.ridge]
class = "sklearn.linear_model.Ridge"

[estimators.knn]
class = "sklearn.neighbors.KNeighborsRegressor"
params = {n_neighbors = 3}
"""
NESTED = 100_000


@pytest.fixture(scope="module")
def sound_dir(tmp_path_factory):
    """A small results directory written by a real run (16 cells)."""
    out = tmp_path_factory.mktemp("sound") / "res"
    (out.parent / "tiny.toml").write_text(STUDY)
    run_study(Study.from_toml_text(STUDY), out, executor="serial", progress=False)
    return out


@pytest.fixture
def res(sound_dir, tmp_path):
    copy = tmp_path / "res"
    shutil.copytree(sound_dir, copy)
    shutil.copy(sound_dir.parent / "tiny.toml", tmp_path / "tiny.toml")
    return copy


def cells(res):
    return sorted((res / "cells").glob("*.json"))


def forge(path, **changes):
    """Change fields of a cell's row and recompute its checksum, as an attacker can."""
    payload = json.loads(path.read_text())
    payload["row"].update(changes)
    payload["sha256"] = row_digest(payload["row"])
    path.write_text(json.dumps(payload))


def nested_risk(path):
    text = path.read_text()
    payload = json.loads(text)
    old = json.dumps(payload["row"]["risk"])
    path.write_text(text.replace(f'"risk": {old}', '"risk": ' + "[" * NESTED + "]" * NESTED))


def huge_int(path):
    payload = json.loads(path.read_text())
    payload["row"]["n"] = int("9" * 400)
    payload["sha256"] = row_digest(payload["row"])
    path.write_text(json.dumps(payload))


def overflow(path):
    payload = json.loads(path.read_text())
    payload["row"]["n"] = 1.0  # placeholder of the right shape, replaced textually below
    payload["sha256"] = row_digest({**payload["row"], "n": float("inf")})
    path.write_text(json.dumps(payload).replace('"n": 1.0', '"n": 1e400'))


ATTACKS = {  # name -> (tamper one cell file, the field or reason its warning names)
    "nested JSON": (nested_risk, "JSON nested more than 32 levels deep"),
    "400-digit n": (huge_int, "field 'n': must be a whole number"),
    "n = 1e400": (overflow, "field 'n': must be a whole number"),
    "target a list": (lambda p: forge(p, target=["t", "u"]), "field 'target': must be a string"),
    "target a dict": (lambda p: forge(p, target={"a": 1}), "field 'target': must be a string"),
    "estimator null": (lambda p: forge(p, estimator=None), "field 'estimator': must be a label"),
    "risk a word": (lambda p: forge(p, risk="low"), "field 'risk': must be a number"),
    "risk a list": (lambda p: forge(p, risk=[0.1]), "field 'risk': must be a number"),
    "5000-char name": (lambda p: forge(p, estimator="e" * 5000), "field 'estimator': must be a label"),
    "mathtext name": (lambda p: forge(p, estimator="$\\frac{1}{$"), "field 'estimator': must be a label"),
    "control chars": (lambda p: forge(p, target="t\x1b[2J\x1b]0;pwned\x07"), "field 'target'"),
    "extra column a dict": (lambda p: forge(p, note={"deep": [1]}), "field 'note': must be a number"),
    "symlink to /dev/zero": (lambda p: (p.unlink(), p.symlink_to("/dev/zero")), "not a regular file"),
    "FIFO": (lambda p: (p.unlink(), os.mkfifo(p)), "not a regular file"),
}


@contextmanager
def deadline(seconds):
    """Fail instead of hanging."""
    def expire(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_tampered_cell_is_skipped_with_one_warning(res, attack):
    tamper, reason = ATTACKS[attack]
    bad = cells(res)[3]
    tamper(bad)
    with deadline(20), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_results(res)
    assert len(table) == 15 and [str(w.message).count("\n") for w in caught] == [0]
    message = str(caught[0].message)
    assert message.startswith(f"{bad}: damaged cell file skipped (") and reason in message
    assert all(c.isprintable() for c in message)


def tamper_all(res):
    """Every attack at once, one cell file each; returns the tampered files."""
    files = cells(res)
    for path, (tamper, _) in zip(files, ATTACKS.values()):
        tamper(path)
    return files[:len(ATTACKS)]


def nprates(*argv, cwd, timeout=240):
    return subprocess.run([sys.executable, "-m", "nprates", *map(str, argv)], cwd=cwd,
                          env=env_with_fixtures(), capture_output=True, text=True,
                          timeout=timeout)


def test_fit_of_a_tampered_directory_warns_one_line_per_cell(res, tmp_path):
    tamper_all(res)
    # skipped cells leave the directory incomplete: refused in one line unless --partial
    refused = nprates("fit", res, cwd=tmp_path)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert refused.stderr.splitlines()[-1].startswith("nprates fit: error: ")
    assert "incomplete: 2 of 16 cells" in refused.stderr
    proc = nprates("fit", res, "--partial", cwd=tmp_path)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    damaged = [l for l in proc.stderr.splitlines() if "damaged cell file skipped" in l]
    assert len(damaged) == len(ATTACKS), proc.stderr
    assert all(l.startswith("nprates: warning: ") for l in damaged)
    assert "\x1b" not in proc.stderr + proc.stdout and "\x07" not in proc.stderr


def cli(capsys, *argv):
    """``nprates ARGV`` in this process: (exit status, stderr, warnings raised)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main([str(a) for a in argv])
    return code, capsys.readouterr().err, [str(w.message) for w in caught]


def test_report_of_a_tampered_directory_escapes_what_it_shows(res, tmp_path, capsys):
    tamper_all(res)
    # texts a sound cell may hold, which the report shows (notes, devices, versions)
    forge(cells(res)[-1], status="failed", risk=None, error="$\\frac{1}{$ \x1b[2J",
          device="$\\frac{1}{$", versions=json.dumps({"$\\frac{": "$"}))
    (res / "study.toml").write_text(STUDY.replace(
        "made by the hardening tests", "$\\\\frac{1}{$ " + "d" * 5000 + " \\u001b[2J"))
    with deadline(120):
        code, err, caught = cli(capsys, "report", res, "-o", tmp_path / "r.pdf", "--partial")
    assert code == 0 and (tmp_path / "r.pdf").stat().st_size > 10_000, err
    assert sum("damaged cell file skipped" in w for w in caught) == len(ATTACKS)
    assert "\x1b" not in err
    from nprates.reports.data import read_study

    shown = read_study(res)["description"]
    assert shown.startswith("\\$\\frac{1}{\\$ ddd") and len(shown) < 320


def test_run_resumes_a_tampered_directory_and_recomputes_its_cells(res, tmp_path, capsys):
    bad = tamper_all(res)
    code, err, _ = cli(capsys, "run", tmp_path / "tiny.toml", "--out", res, "--workers", "1",
                       "--progress")
    assert code == 0, err
    notes = [l for l in err.splitlines() if "recomputing damaged cell file" in l]
    assert len(notes) == len(ATTACKS) and "\x1b" not in err
    assert all(read_cell(p)[1] == "" for p in bad)  # rewritten whole
    assert len(load_results(res)) == 16


@pytest.mark.parametrize("what, text, expected", [
    ("study.toml", "a = " + "[" * NESTED + "]" * NESTED, "TOML nested more than 32 levels"),
    ("study.toml", "description = '" + "x" * (5 * 2**20) + "'", "too large"),
    (".lock", json.dumps({"pid": int("9" * 400), "host": "h", "started": "\x1b[2J"}),
     "in use by another run (an unknown owner"),
], ids=["nested study.toml", "huge study.toml", "lock with a huge pid"])
def test_a_tampered_study_file_or_lock_gives_one_line(res, tmp_path, capsys, what, text,
                                                       expected):
    (res / what).write_text(text)
    if what == "study.toml":
        code, err, _ = cli(capsys, "report", res, "-o", tmp_path / "r.pdf")
        assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err
        assert not (tmp_path / "r.pdf").exists()
    code, err, _ = cli(capsys, "run", tmp_path / "tiny.toml", "--out", res, "--workers", "1")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert expected in err and "\x1b" not in err


def test_a_lock_or_study_file_that_is_a_fifo_does_not_hang(res):
    from nprates.studies.lock import RunLock
    from nprates.studies.store import ResultsStore

    os.mkfifo(res / ".lock")
    (res / "study.toml").unlink()
    os.mkfifo(res / "study.toml")
    with deadline(20):
        with pytest.raises(ValueError, match="not a regular file"):
            ResultsStore(res).stored_study()
        with pytest.raises(ValueError, match="unknown owner"):
            RunLock(res).acquire()


def test_a_results_directory_with_an_old_trust_list_still_resumes(res, tmp_path, capsys):
    # earlier versions recorded a study's trust list in DIR/study.toml: it is ignored there
    (res / "study.toml").write_text('trust = ["study_fixtures"]\n' + STUDY)
    code, err, _ = cli(capsys, "run", tmp_path / "tiny.toml", "--out", res, "--workers", "1")
    assert code == 0 and err == "" and len(load_results(res)) == 16
