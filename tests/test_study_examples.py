"""The example studies load, validate and meet their stated scale."""

from __future__ import annotations

import math

import pytest

from nprates.studies import Study
from study_fixtures import ROOT

EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize("name", ["quick", "piecewise", "paper"])
def test_example_is_a_valid_study(name):
    study = Study.from_toml(EXAMPLES / f"{name}.toml")  # imports and constructs everything
    assert study.name == name
    assert len(study.sizes) >= 6 and math.log10(study.sizes[-1] / study.sizes[0]) >= 1.5
    assert {"ssm", "transformer"} <= set(study.estimators)


def test_quick_is_the_cpu_demo_and_paper_covers_both_classes():
    quick = Study.from_toml(EXAMPLES / "quick.toml", check=False)
    assert quick.replicates == 3 and set(quick.estimators) == {"ssm", "transformer", "oracle", "knn"}
    assert [t.kind for t in quick.targets.values()] == ["gamma_smooth"]
    piecewise = Study.from_toml(EXAMPLES / "piecewise.toml", check=False)
    assert [t.kind for t in piecewise.targets.values()] == ["piecewise"]
    assert piecewise.estimators["mlp"].cls == "nprates.estimators.WindowMLP"
    paper = Study.from_toml(EXAMPLES / "paper.toml", check=False)
    assert {t.kind for t in paper.targets.values()} == {"gamma_smooth", "piecewise"}
    assert paper.replicates > quick.replicates and paper.sizes[-1] > quick.sizes[-1]
