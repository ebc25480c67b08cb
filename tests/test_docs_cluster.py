"""docs/cluster.md, with a dask LocalCluster standing in for dask-jobqueue's SLURMCluster:
the page's `nprates run ... --scheduler ADDRESS` line runs a study on that scheduler's
workers and gives the serial table."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nprates.studies import Study, load_results, run_study
from study_fixtures import env_with_fixtures

distributed = pytest.importorskip("distributed")
PAGE = Path(__file__).resolve().parents[1] / "docs" / "cluster.md"


def documented_command() -> list[str]:
    """The page's `nprates run` line (section 2)."""
    (line,) = re.findall(r"^nprates run .*--scheduler \S+$", PAGE.read_text(), re.M)
    return shlex.split(line)


def test_the_documented_scheduler_command_runs_on_the_clusters_workers(tmp_path):
    study = Study.from_dict(dict(
        name="cluster", seed=3, noise=0.2, length=4, sizes=[8, 16], replicates=2,
        test_size=32,
        targets={"sine": {"kind": "callable", "factory": "study_fixtures:make_sine_target"}},
        estimators={"ridge": {"class": "sklearn.linear_model.Ridge"}}))
    path = tmp_path / "study.toml"
    path.write_text(study.to_toml())
    argv = documented_command()
    assert argv[:3] == ["nprates", "run", "study.toml"]
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                       protocol="tcp", host="127.0.0.1",
                                       dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            argv = [sys.executable, "-m", "nprates", "run", str(path), "--out",
                    str(tmp_path / "out"), "--scheduler", cluster.scheduler_address,
                    "--trust", "study_fixtures"]
            proc = subprocess.run(argv, capture_output=True, text=True,
                                  env=env_with_fixtures(), timeout=300)
            ran_there = client.run_on_scheduler(
                lambda dask_scheduler: len(dask_scheduler.task_prefixes))
    finally:
        cluster.close()
    assert proc.returncode == 0, proc.stderr
    assert ran_there > 0  # the tasks went through the scheduler
    table = load_results(tmp_path / "out")
    assert table.attrs["incomplete"] == ""
    pd.testing.assert_frame_equal(
        table.drop(columns="fit_seconds"),
        run_study(study, tmp_path / "serial", executor="serial", trust=["study_fixtures"],
                  progress=False).drop(columns="fit_seconds"))
