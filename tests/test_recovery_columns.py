"""Studies record selection recovery on piecewise targets; the refit tool adds it to
finished cells only when the refit reproduces them."""

import json

import numpy as np
import pytest

from nprates.analysis.results_dir import read_cell
from nprates.cli import main as cli
from nprates.studies import Study, run_study
from nprates.studies.refit import RECOVERY_COLUMNS, RefitMismatch, refit_group
from nprates.studies.store import write_cell

SMOOTH = {"kind": "mixed", "a0": 1.0, "alpha": 1.0, "features": 1, "window": 2}
SSM = {"class": "nprates.estimators.SSMRegressor",
       "params": {"width": 4, "fnn_width": 8, "d_state": 4, "max_epochs": 3, "lr": 1e-2}}


def study() -> Study:
    return Study.from_dict(dict(
        name="pw", seed=3, noise=0.1, length=4, sizes=[16], replicates=2, test_size=24,
        device="cpu",
        targets={"pw": {"kind": "piecewise", "window": 3, "t_max": 2.5, "smoothness": SMOOTH}},
        estimators={"ssm": SSM, "oracle": {"class": "nprates.estimators.OracleProjection"}}))


def test_network_cells_record_recovery_and_the_refit_tool_restores_it(tmp_path, capsys):
    out = tmp_path / "out"
    table = run_study(study(), out, executor="serial", progress=False)
    assert cli(["fit", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    head = printed.index(next(l for l in printed if l.startswith("Selection recovery against n")))
    ssm_line = printed[head + 2].split()
    assert ssm_line[:4] == ["pw", "ssm", "16", "2"]
    ssm, oracle = table[table.estimator == "ssm"], table[table.estimator == "oracle"]
    assert (ssm.importance_method == "grad_input").all()
    assert np.allclose(ssm.recovery_top1_chance, 1 / 3)
    assert np.allclose(ssm.recovery_topk_chance, 2 / 3)
    assert ssm.recovery_top1.between(0, 1).all() and ssm.recovery_mass.between(0, 1).all()
    assert oracle.recovery_top1.isna().all() and (oracle.importance_method == "").all()

    files = sorted((out / "cells").glob("pw__ssm__*.json"))
    originals = [read_cell(f)[0] for f in files]
    for row in originals:                           # a study run before recovery existed
        write_cell(out / "cells", {k: v for k, v in row.items() if k not in RECOVERY_COLUMNS})
    assert sorted(refit_group(out, "pw", "ssm", 16)) == files
    for f, original in zip(files, originals):
        assert read_cell(f)[0] == original          # same row, columns restored exactly
    assert refit_group(out, "pw", "ssm", 16) == []  # nothing left to do


def test_the_refit_tool_refuses_the_cells_it_does_not_reproduce(tmp_path):
    out = tmp_path / "out"
    run_study(study(), out, executor="serial", progress=False)
    files = sorted((out / "cells").glob("pw__ssm__*.json"))
    for f in files:
        row = {k: v for k, v in read_cell(f)[0].items() if k not in RECOVERY_COLUMNS}
        if row["replicate"] == 1:
            row["risk"] *= 1 + 1e-4
        write_cell(out / "cells", row)
    before = [f.read_text() for f in files]
    with pytest.raises(RefitMismatch, match=r"1 cell\(s\) written, 1 not reproduced.*r=1: risk"):
        refit_group(out, "pw", "ssm", 16)
    assert files[1].read_text() == before[1]                 # the refused cell is untouched
    assert "recovery_top1" in read_cell(files[0])[0]         # the reproduced one has them
    with pytest.raises(ValueError, match="no recovery columns"):
        refit_group(out, "pw", "oracle", 16)
