"""A Dask LocalCluster on loopback gives the serial table."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from nprates.studies import Study, load_results, run_study
from study_fixtures import env_with_fixtures

distributed = pytest.importorskip("distributed")


def test_dask_local_cluster_matches_serial(tmp_path):
    study = Study.from_dict(dict(
        name="dask", seed=2, noise=0.2, length=4, sizes=[8, 16, 32], replicates=2, test_size=64,
        targets={"sine": {"kind": "callable", "factory": "study_fixtures:make_sine_target"}},
        estimators={"ridge": {"class": "sklearn.linear_model.Ridge"},
                    "knn": {"class": "sklearn.neighbors.KNeighborsRegressor",
                            "params": {"n_neighbors": 3}}}))
    serial = run_study(study, tmp_path / "serial", executor="serial", progress=False)
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp",
                                       host="127.0.0.1", dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            dask = run_study(study, tmp_path / "dask", executor=client, progress=False)
    finally:
        cluster.close()
    assert len(dask) == 12
    pd.testing.assert_frame_equal(serial.drop(columns="fit_seconds"),
                                  dask.drop(columns="fit_seconds"))


@pytest.mark.slow
def test_cli_starts_a_local_cluster_when_no_scheduler_is_given(tmp_path):
    study = Study.from_dict(dict(
        name="cluster", noise=0.2, length=4, sizes=[8, 16], replicates=1, test_size=32,
        targets={"sine": {"kind": "callable", "factory": "study_fixtures:make_sine_target"}},
        estimators={"ridge": {"class": "sklearn.linear_model.Ridge"}}))
    path = tmp_path / "cluster.toml"
    path.write_text(study.to_toml())
    proc = subprocess.run([sys.executable, "-m", "nprates", "run", str(path), "--out",
                           str(tmp_path / "out"), "--executor", "dask", "--workers", "1"],
                          capture_output=True, text=True, env=env_with_fixtures(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "(dask LocalCluster of 1 worker at tcp://" in proc.stderr
    pd.testing.assert_frame_equal(
        load_results(tmp_path / "out").drop(columns="fit_seconds"),
        run_study(study, tmp_path / "serial", executor="serial",
                  progress=False).drop(columns="fit_seconds"))
