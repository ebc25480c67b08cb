"""The learning-rate decay pilots and the second decisive study they led to: the numbers
docs/planning.md quotes reproduce from the committed cells, and examples/decisive2.toml is
examples/decisive.toml with only the stated changes."""

from __future__ import annotations

import importlib.util

import pytest

from nprates.analysis import read_results_dir
from study_fixtures import ROOT

spec = importlib.util.spec_from_file_location("fixed_lr_pilot", ROOT / "benchmarks" / "fixed_lr_pilot.py")
fixed_lr_pilot = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fixed_lr_pilot)

PLANNING = (ROOT / "docs" / "planning.md").read_text()


@pytest.fixture(scope="module")
def tables():
    return {name: read_results_dir(ROOT / "results" / name)
            for name in ("decisive", "fixed-lr-pilot", "lr-decay-pilot", "grid-decay-pilot")}


def report(tables, pilot, reference, label, against):
    pairs = fixed_lr_pilot.paired_cells(tables[pilot], tables[reference], label, against)
    assert len(pairs) == 48  # 12 functions x 2 sizes x 2 networks, all paired
    return fixed_lr_pilot.report(pairs, label, against)


@pytest.mark.parametrize("pilot, reference, label, against, quoted", [
    ("lr-decay-pilot", "decisive", "decay", "grid",
     ["1.039 [0.932, 1.160]", "0.782 [0.699, 0.874]", "1.320 [1.025, 1.700]",
      "1.561 [1.060, 2.299]", "+0.186 [+0.091, +0.280]", "-0.109 [-0.366, +0.148]"]),
    ("lr-decay-pilot", "fixed-lr-pilot", "decay", "fixed",
     ["0.962 [0.905, 1.024]", "0.761 [0.682, 0.848]", "1.005 [0.958, 1.054]",
      "0.969 [0.713, 1.318]"]),
    ("grid-decay-pilot", "decisive", "grid_decay", "grid",
     ["1.005 [0.895, 1.129]", "0.791 [0.694, 0.901]", "1.119 [0.914, 1.368]",
      "0.983 [0.842, 1.146]", "+0.156 [+0.064, +0.248]", "+0.084 [-0.066, +0.235]",
      "0.935 [0.882, 0.990]", "0.783 [0.695, 0.883]", "0.969 [0.922, 1.019]",
      "0.903 [0.834, 0.979]", "n = 689: 0.22 / 0.12, n = 3200: 0.19 / 0.46",
      "n = 689: 0.42 / 0.28, n = 3200: 0.22 / 0.39"]),
])
def test_quoted_pilot_numbers_reproduce(tables, pilot, reference, label, against, quoted):
    text = report(tables, pilot, reference, label, against)
    for number in quoted:
        assert number in text, number
        if number.startswith("n = "):  # a gap line: its two values at the top n are quoted
            assert all(v in PLANNING for v in number.split(": ")[-1].split(" / ")), number
        else:
            assert number.replace("[", "").split()[0].lstrip("+") in PLANNING, number


def test_the_pilots_change_only_the_learning_rate_protocol():
    from nprates.studies import Study

    bench = ROOT / "benchmarks"
    fixed = Study.from_toml(bench / "fixed_lr_pilot.toml").to_dict()
    decay = Study.from_toml(bench / "lr_decay_pilot.toml").to_dict()
    grid_decay = Study.from_toml(bench / "grid_decay_pilot.toml").to_dict()
    decisive = Study.from_toml(ROOT / "examples" / "decisive.toml").to_dict()
    for name in ("ssm", "transformer"):
        base = dict(fixed["estimators"][name]["params"])
        assert decay["estimators"][name]["params"] == {**base, "lr_decay": 0.3}
        grid = dict(decisive["estimators"][name]["params"])
        assert grid_decay["estimators"][name]["params"] == {**grid, "lr_decay": 0.3}
    for study in (decay, grid_decay):
        assert study["seed"] == decisive["seed"] and study["name"] == decisive["name"]
        assert study["targets"]["mixed"] == decisive["targets"]["mixed"]


def test_second_decisive_study_changes_only_the_seed_the_ssms_decay_the_cap_and_its_draws():
    from nprates.analysis.planning import plan_comparison
    from nprates.studies import Study

    first = Study.from_toml(ROOT / "examples" / "decisive.toml")
    second = Study.from_toml(ROOT / "examples" / "decisive2.toml")
    a, b = first.to_dict(), second.to_dict()
    assert b["seed"] != a["seed"]  # fresh functions: no pilot function is measured again
    assert b["estimators"]["ssm"]["params"] == {**a["estimators"]["ssm"]["params"],
                                                "lr_decay": 0.3, "max_epochs": 1000}
    assert b["estimators"]["transformer"]["params"] == {
        **a["estimators"]["transformer"]["params"], "max_epochs": 1000}
    assert b["estimators"]["oracle"] == a["estimators"]["oracle"]
    same = ("noise", "length", "sizes", "replicates", "test_size", "device", "targets")
    assert {k: b[k] for k in same} == {k: a[k] for k in same}
    # its draws are the planner's, from the grid study's 16 complete draws per class
    pilot = read_results_dir(ROOT / "results" / "decisive")
    assert len(pilot) == 2 * 16 * 3 * 3
    plan = plan_comparison(pilot, "ssm", "transformer", margin=0.1, power=0.8,
                           sizes=list(second.sizes), targets=sorted(second.targets),
                           estimators=["oracle"], budget_seconds=20 * 3600)
    assert (plan.draws, plan.replicates, plan.sizes) == (second.target_draws, 1,
                                                         list(second.sizes))
