"""A run killed with SIGKILL resumes: nothing finished is lost or recomputed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pandas as pd

from nprates.studies import Study, run_study
from nprates.studies.store import CELLS_DIR
from study_fixtures import env_with_fixtures

def test_sigkilled_run_resumes_without_loss_or_recomputation(tmp_path):
    counter = tmp_path / "fits.log"  # SlowRidge appends one line per fit it starts
    study = Study.from_dict(dict(
        name="resume", seed=1, noise=0.2, length=4, sizes=[8, 16, 32, 64], replicates=3,
        test_size=64,
        targets={"sine": {"kind": "callable", "factory": "study_fixtures:make_sine_target"}},
        estimators={"slow": {"class": "study_fixtures:SlowRidge",
                             "params": {"sleep": 0.3, "counter": str(counter)}}}))
    path = tmp_path / "resume.toml"
    path.write_text(study.to_toml())
    out = tmp_path / "out"
    cells = out / CELLS_DIR

    proc = subprocess.Popen([sys.executable, "-m", "nprates", "run", str(path), "--out", str(out),
                             "--quiet", "--workers", "1"], env=env_with_fixtures(), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 120
        while len(list(cells.glob("*.json"))) < 3:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no cells finished within 120 s"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL

    finished = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in cells.glob("*.json")}
    started = len(counter.read_text().split())
    assert 3 <= len(finished) < 12
    # each run starts with one trial fit (check.trial_fits); at most the cell in flight was lost
    assert started - 1 - len(finished) in (0, 1)

    resumed = run_study(Study.from_toml(path), out, executor="serial", progress=False)  # takes over the stale lock
    assert len(counter.read_text().split()) - started == 1 + 12 - len(finished)
    for name, (mtime, data) in finished.items():
        assert (cells / name).stat().st_mtime_ns == mtime and (cells / name).read_bytes() == data

    reference = run_study(study, tmp_path / "reference", executor="serial", progress=False)
    assert len(resumed) == 12 and resumed.cell_key.is_unique
    pd.testing.assert_frame_equal(resumed.drop(columns="fit_seconds"),
                                  reference.drop(columns="fit_seconds"))
