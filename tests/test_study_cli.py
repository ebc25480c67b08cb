"""``nprates run``: a good study runs; bad input exits 2 with one line naming the field."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from nprates.cli import main
from nprates.studies import load_results
from study_fixtures import ROOT, env_with_fixtures

GOOD = textwrap.dedent("""\
    name = "cli"
    noise = 0.1
    length = 3
    sizes = [8, 16]
    replicates = 1
    test_size = 20

    [targets.sine]
    kind = "callable"
    factory = "study_fixtures:make_sine_target"

    [estimators.ridge]
    class = "sklearn.linear_model.Ridge"
    """)


def test_run_writes_a_results_directory(tmp_path, monkeypatch, capsys):
    path = tmp_path / "cli.toml"
    path.write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(path), "--quiet", "--workers", "1"]) == 0  # --out: results/NAME
    assert capsys.readouterr() == ("", "")
    assert len(load_results(tmp_path / "results" / "cli")) == 2
    assert main(["run", str(path), "--out", str(tmp_path / "o"), "--executor", "serial",
                 "--progress"]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"2 cells in {tmp_path / 'o'}") and "cli: 2/2 cells done" in err
    assert main(["run", str(path), "--out", str(tmp_path / "p"), "--workers", "1"]) == 0
    assert capsys.readouterr().err == ""  # stderr is no terminal: no progress unless asked


def test_default_executor_is_one_worker_per_core(monkeypatch):
    from nprates.studies import executors

    monkeypatch.setattr(executors, "cpu_count", lambda: 4)
    assert executors.resolve_executor() == "process"
    assert executors.resolve_executor(workers=1) == "serial"
    assert executors.resolve_executor(workers=3) == "process"
    monkeypatch.setattr(executors, "cpu_count", lambda: 1)
    assert executors.resolve_executor() == "serial"


def test_help_is_light_and_warnings_are_one_line(tmp_path):
    code = ("import sys; from nprates.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted({'torch', 'sklearn', 'pandas'} & set(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.stdout.splitlines()[-1] == "[]"
    path = tmp_path / "cli.toml"
    path.write_text(GOOD)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    damaged = sorted((out / "cells").glob("*.json"))[0]
    damaged.write_text(damaged.read_text()[:-20])
    proc = subprocess.run([sys.executable, "-m", "nprates", "fit", str(out)], capture_output=True,
                          text=True, cwd=ROOT, env=env_with_fixtures(), timeout=120)
    (warning,) = [line for line in proc.stderr.splitlines() if "damaged" in line]
    assert warning.startswith(f"nprates: warning: {damaged}: damaged cell file skipped")
    assert "warnings.warn" not in proc.stderr and "RuntimeWarning" not in proc.stderr


@pytest.mark.parametrize("old, new, field", [
    ("noise = 0.1", "noise = [", "invalid TOML"),
    ('class = "sklearn.linear_model.Ridge"', 'class = "sklearn.linear_model.Nope"',
     "estimators.ridge.class: cannot import 'sklearn.linear_model.Nope'"),
    ("noise = 0.1", "noise = -1", "noise: must be >= 0, got -1"),
    ("sizes = [8, 16]", "sizes = []", "sizes: must not be empty"),
    ("replicates = 1", "replicates = 0", "replicates: must be >= 1, got 0"),
])
def test_bad_study_exits_2_naming_the_field(tmp_path, capsys, old, new, field):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"nprates run: error: {path}: ") and field in captured.err
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--workers", "0"], "argument --workers: must be an integer >= 1"),
    (["--device", "tpu"], "argument --device: must be auto, cpu, cuda"),
    (["--executor", "serial", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler: only with"),
])
def test_bad_options_exit_2(tmp_path, capsys, args, message):
    path = tmp_path / "cli.toml"
    path.write_text(GOOD)
    with pytest.raises(SystemExit) as info:
        code = main(["run", str(path), "--out", str(tmp_path / "out")] + args)
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_exit_status_in_a_real_process(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("noise = 0.1", "noise = -1"))
    proc = subprocess.run([sys.executable, "-m", "nprates", "run", str(path), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT,
                          env=env_with_fixtures(), timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"nprates run: error: {path}: noise: must be >= 0, got -1\n"
    assert not (tmp_path / "out").exists()
