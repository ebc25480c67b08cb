"""``nprates fit`` and ``nprates compare`` on results directories."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from nprates.analysis import simulate_curves
from nprates.cli import main
from nprates.studies.store import CELLS_DIR, write_cell


def write_results_dir(path, table: pd.DataFrame):
    """A results directory holding ``table`` (one cell file per row)."""
    cells = path / CELLS_DIR
    cells.mkdir(parents=True)
    for row in table.to_dict(orient="records"):
        write_cell(cells, {k: (None if isinstance(v, float) and math.isnan(v) else v)
                           for k, v in row.items()})
    return path


@pytest.fixture
def results_dir(tmp_path):
    t = pd.concat([
        simulate_curves({"ssm": 0.6, "transformer": 0.6}, replicates=4, noise=0.15, seed=1,
                        target="fixed", theory_exponent=0.667),
        simulate_curves({"ssm": 0.4, "transformer": 0.75}, replicates=4, noise=0.15, seed=2,
                        target="piecewise", theory_exponent=0.667, fail_rate=0.05),
    ])
    return write_results_dir(tmp_path / "study", t)


def test_fit_prints_table(results_dir, capsys):
    assert main(["fit", str(results_dir), "--n-boot", "300"]) == 0
    out = capsys.readouterr().out
    assert "exponent" in out and "theory" in out and "verdict" in out
    for name in ("fixed", "piecewise", "ssm", "transformer", "0.6670"):
        assert name in out
    assert "slower" in out and "faster" in out


def test_fit_json(results_dir, capsys, tmp_path):
    assert main(["fit", str(results_dir), "--json", "-", "--n-boot", "300"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4
    assert {"target", "estimator", "exponent", "ci_low", "ci_high", "theory_exponent",
            "verdict", "n_failed"} <= set(rows[0])
    dest = tmp_path / "fits.json"
    assert main(["fit", str(results_dir), "--json", str(dest), "--method", "offset",
                 "--n-boot", "200"]) == 0
    assert "exponent" in capsys.readouterr().out
    assert json.loads(dest.read_text())[0]["method"] == "offset"


def test_fit_polylog_needs_k(results_dir, capsys):
    assert main(["fit", str(results_dir), "--method", "polylog"]) == 2
    err = capsys.readouterr().err
    assert "--polylog-k" in err and "polylog_k=" not in err and len(err.splitlines()) == 1
    assert main(["fit", str(results_dir), "--method", "polylog", "--polylog-k", "1",
                 "--n-boot", "200"]) == 0


def test_compare(results_dir, capsys):
    assert main(["compare", str(results_dir), "ssm", "transformer", "--target", "fixed",
                 "--n-boot", "300"]) == 0
    out = capsys.readouterr().out
    assert "Convergence rate comparison" in out and "comparable" in out
    assert main(["compare", str(results_dir), "ssm", "transformer", "--json", "-",
                 "--margin", "0.05", "--n-boot", "300"]) == 0
    comps = json.loads(capsys.readouterr().out)
    assert [c["target"] for c in comps] == ["fixed", "piecewise"]
    assert comps[1]["verdict"] == "different" and comps[1]["margin"] == 0.05


def test_bad_input_exits_2(results_dir, tmp_path, capsys):
    assert main(["fit", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["fit", str(empty)]) == 2
    assert "is empty" in capsys.readouterr().err
    (empty / CELLS_DIR).mkdir()
    assert main(["compare", str(empty), "a", "b"]) == 2
    assert "no results" in capsys.readouterr().err
    assert main(["compare", str(results_dir), "ssm", "rnn"]) == 2
    err = capsys.readouterr().err
    assert "unknown estimator 'rnn'" in err and err.count("\n") == 1


def test_fit_and_compare_print_reasons_and_plateau(tmp_path, capsys):
    t = simulate_curves({"ssm": 0.667, "mlp": 0.667}, replicates=4, noise=0.1, seed=3,
                        theory_exponent=0.667)
    t["stopped_by"] = ""
    t.loc[t["estimator"] == "ssm", "stopped_by"] = "cap"
    small = (t["estimator"] == "mlp") & (t["n"] == 100)
    t.loc[small, "trivial"] = True
    path = write_results_dir(tmp_path / "study", t)
    assert main(["fit", str(path), "--n-boot", "300"]) == 0
    out = capsys.readouterr().out
    assert "inconclusive (optimisation-limited)" in out
    assert "sim/mlp: mlp: n=[100] sit on the plateau" in " ".join(out.split())
    assert main(["fit", str(path), "--json", "-", "--n-boot", "300"]) == 0
    rows = {r["estimator"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["mlp"]["excluded_sizes"] == [100] and rows["ssm"]["excluded_sizes"] == []
    assert rows["ssm"]["reason"] == "optimisation-limited"
    assert main(["fit", str(path), "--keep-plateau", "--json", "-", "--n-boot", "300"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["excluded_sizes"] == []
    assert main(["compare", str(path), "ssm", "mlp", "--n-boot", "300"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "(optimisation-limited)" in out and "ssm is optimisation-limited" in out
    assert "mlp is on the plateau at n = 100" in out


@pytest.mark.parametrize("command", ["fit", "compare"])
def test_unwritable_json_path_exits_2_before_fitting(results_dir, tmp_path, capsys, command):
    extra = ["ssm", "transformer"] if command == "compare" else []
    target = tmp_path / "missing" / "out.json"
    assert main([command, str(results_dir), *extra, "--json", str(target)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""                       # nothing was fitted or printed
    assert captured.err.count("\n") == 1 and "--json" in captured.err
    assert not target.parent.exists()


def test_compare_lists_a_target_without_enough_sizes_and_compares_the_rest(tmp_path, capsys):
    ok = simulate_curves({"ssm": 0.6, "mlp": 0.6}, replicates=3, noise=0.1, seed=4,
                         target="easy", theory_exponent=0.667)
    flat = simulate_curves({"ssm": 0.6, "mlp": 0.6}, replicates=3, noise=0.1, seed=5,
                           target="hard", theory_exponent=0.667)
    flat["trivial"] = flat["n"] < 4000               # 5 of the 7 sizes at the plateau
    path = write_results_dir(tmp_path / "study", pd.concat([ok, flat], ignore_index=True))
    assert main(["compare", str(path), "ssm", "mlp", "--n-boot", "200"]) == 0
    out = capsys.readouterr().out
    assert "Target" in out and "easy" in out
    assert "hard: no comparison: " in out and "a common range needs >= 3 sizes" in out
    assert out.index("easy") < out.index("hard: no comparison")
    assert main(["compare", str(path), "ssm", "mlp", "--json", "-", "--n-boot", "200"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["target"] for r in records] == ["easy", "hard"]
    assert "difference" in records[0] and "a common range needs >= 3 sizes" in records[1]["no_comparison"]
    # asked for by name, the target that cannot be compared is an error (exit 2, one line)
    assert main(["compare", str(path), "ssm", "mlp", "--target", "hard"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a common range needs >= 3 sizes" in err
    # with no comparable target at all, exit 2 naming why
    only_flat = write_results_dir(tmp_path / "flat", flat)
    assert main(["compare", str(only_flat), "ssm", "mlp"]) == 2
    assert "no target has enough fitted sizes" in capsys.readouterr().err
