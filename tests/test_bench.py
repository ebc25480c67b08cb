import json

import pytest

from nprates.bench import cells, format_report, layers, replicates, run_all, scan, targets
from nprates.cli import main


def test_layer_bench_fits_scaling_exponents():
    r = layers.run("cpu", lengths=(16, 32, 64), batch=2, width=16, repeats=1)
    assert len(r["rows"]) == 6 and {row["layer"] for row in r["rows"]} == {"ssm", "attention"}
    assert all(row["seconds"] > 0 for row in r["rows"])
    assert set(r["exponents"]) == {"ssm", "attention"} and r["ratio_at_max"] > 0


def test_scan_bench_times_both_forms_at_each_length():
    r = scan.run("cpu", lengths=(8, 16), batch=2, channels=4, d_state=3, repeats=1)
    assert [(row["scan"], row["length"]) for row in r["rows"]] == [
        ("sequential", 8), ("chunked", 8), ("sequential", 16), ("chunked", 16)]
    assert all(row["seconds"] > 0 for row in r["rows"])
    assert set(r["fastest"]) == {8, 16} and set(r["fastest"].values()) <= {"sequential", "chunked"}
    text = format_report({"machine": {"processor": "cpu", "cpu_count": 2, "torch": "2",
                                      "torch_threads": 1}, "device": "cpu", "quick": True,
                          "seconds": 1.0, "scan": r})
    assert "selective scan forward+backward, batch 2, H=4, N=3" in text
    assert "sequential" in text and "chunked" in text


def test_cells_bench_refits_a_published_cell_to_its_recorded_risk():
    r = cells.run(estimators=("oracle",), sizes=(689,))
    (row,) = r["rows"]
    assert row["risk_ratio"] == pytest.approx(1.0, abs=1e-9)  # same seeds, same data
    assert row["published_seconds"] > 0 and row["cpu_seconds"] > 0
    r["steps"] = cells.steps(width=8, fnn_width=16, batch=4, repeats=1, steps_per_repeat=1)
    assert r["steps"]["overhead"] == pytest.approx(r["steps"]["ours_r1"] / r["steps"]["plain"] - 1)
    text = format_report({"machine": {"processor": "cpu", "cpu_count": 2, "torch": "2",
                                      "torch_threads": 1}, "device": "cpu", "quick": True,
                          "seconds": 1.0, "cells": r})
    assert "5. published cells refitted (mixed, draw 0, replicate 0" in text
    assert "oracle" in text and " 1.000" in text and "plain torch" in text
    with pytest.raises(ValueError, match="no study.toml"):
        cells.run("no/such/dir")


def test_target_bench_reports_throughput():
    rows = targets.run(sequences=20, length=16, repeats=1)
    assert [row["target"] for row in rows] == ["GammaSmooth", "PiecewiseGammaSmooth"]
    assert all(row["n_basis"] == 2937 for row in rows)
    assert all(row["sequences_per_second"] == pytest.approx(20 / row["seconds"]) for row in rows)


def test_quick_replicate_bench_batched_equals_sequential(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "--quick", "--only", "replicates", "--device", "cpu",
                 "--json", str(path)]) == 0
    report = json.loads(path.read_text())
    assert report["machine"]["cpu_count"] >= 1 and "torch" in report["machine"]
    assert set(report["replicates"]["settings"]) == {"quick", "wide"}
    for setting in ("quick", "wide"):
        for name in ("ssm", "transformer"):
            res = report["replicates"]["results"][setting][name]
            assert res["max_prediction_difference"] < 1e-3
            assert res["speedup"] == pytest.approx(res["sequential_s"] / res["batched_s"])
    out = capsys.readouterr().out
    assert "replicate-batched training" in out and "speed-up" in out
    assert "quick: the quick study's networks and target, L=11, d=2" in out


def test_replicate_bench_refuses_an_unknown_setting():
    with pytest.raises(ValueError, match="unknown replicate bench setting"):
        replicates.run("cpu", quick=True, settings=("quick", "huge"))


def test_unknown_section_is_refused_before_any_work():
    with pytest.raises(ValueError, match="unknown bench section"):
        run_all("cpu", sections=("layers", "gpu"))


def test_format_report_lists_each_section():
    report = {"machine": {"processor": "cpu", "cpu_count": 2, "torch": "2", "torch_threads": 2},
              "device": "cpu", "quick": True, "seconds": 1.0,
              "targets": [{"target": "GammaSmooth", "n_basis": 3, "sequences": 10, "length": 8,
                           "seconds": 0.5, "sequences_per_second": 20.0}],
              "study": {"study": "quick", "seconds": 61.0, "peak_memory_mib": 512.0}}
    text = format_report(report)
    assert "3. target evaluation" in text and "20 sequences/s" in text
    assert "(quick study and report) end to end: 61 s, peak memory 512 MiB" in text
    assert "1. replicate" not in text
