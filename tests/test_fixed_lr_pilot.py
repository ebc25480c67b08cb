"""benchmarks/fixed_lr_pilot.py: the paired comparison behind docs/planning.md's fixed-rate
pilot reproduces from the committed cells, and refuses cells that are not paired."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from nprates.analysis import read_results_dir
from study_fixtures import ROOT

spec = importlib.util.spec_from_file_location("fixed_lr_pilot", ROOT / "benchmarks" / "fixed_lr_pilot.py")
fixed_lr_pilot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixed_lr_pilot)


@pytest.fixture(scope="module")
def tables():
    return (read_results_dir(ROOT / "results" / "fixed-lr-pilot"),
            read_results_dir(ROOT / "results" / "decisive"))


def test_published_pilot_numbers_reproduce(tables):
    text = fixed_lr_pilot.report(fixed_lr_pilot.paired_cells(*tables))
    doc = (ROOT / "docs" / "planning.md").read_text()
    for quoted in ("1.080 [0.985, 1.184]", "-0.133 [-0.345, +0.080]", "0.100 / 0.134"):
        assert quoted in doc
    for quoted in ("1.080 [0.985, 1.184]", "1.610 [1.186, 2.187]", "-0.133 [-0.345, +0.080]",
                   "between-draw sd 0.100", "between-draw sd 0.134"):
        assert quoted in text
    assert "**1.610** [1.186, 2.187]" in doc


def test_cells_with_other_data_seeds_are_refused(tables):
    pilot, grid = tables
    pilot = pilot.copy()
    pilot["data_seed"] = pilot["data_seed"].astype(str) + "x"
    with pytest.raises(ValueError, match="data seeds"):
        fixed_lr_pilot.paired_cells(pilot, grid)


def test_pitman_morgan_detects_unequal_paired_variances():
    rng = np.random.default_rng(0)
    common = rng.normal(size=200)
    a = common + 0.3 * rng.normal(size=200)
    assert fixed_lr_pilot.pitman_morgan(a, common + 0.3 * rng.normal(size=200)) > 0.01
    assert fixed_lr_pilot.pitman_morgan(a, 3 * common + 0.3 * rng.normal(size=200)) < 1e-6


def test_labels_name_the_protocols_without_changing_the_numbers(tables):
    default = fixed_lr_pilot.report(fixed_lr_pilot.paired_cells(*tables))
    named = fixed_lr_pilot.report(fixed_lr_pilot.paired_cells(*tables, "decay", "fixed"),
                                  "decay", "fixed")
    assert "risk decay/fixed" in named and "risk fixed/grid" not in named
    assert "    decay - fixed  " in named
    numbers = [line.split("]")[0].split("[")[-1] for line in default.splitlines() if "[" in line]
    assert numbers == [line.split("]")[0].split("[")[-1] for line in named.splitlines()
                       if "[" in line]
    with pytest.raises(ValueError, match="different names"):
        fixed_lr_pilot.paired_cells(*tables, "grid", "grid")
