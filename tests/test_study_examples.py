"""The example studies load, validate and meet their stated scale."""

from __future__ import annotations

import math

import pytest

from nprates.studies import Study, check_study
from study_fixtures import ROOT

EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize("name", ["quick", "piecewise", "paper"])
def test_example_is_a_valid_study(name):
    study = Study.from_toml(EXAMPLES / f"{name}.toml")
    check_study(study)  # imports and constructs everything
    assert study.name == name
    assert len(study.sizes) >= 6 and math.log10(study.sizes[-1] / study.sizes[0]) >= 1.5
    assert {"ssm", "transformer"} <= set(study.estimators)


def test_quick_is_the_cpu_demo_and_paper_covers_both_classes():
    quick = Study.from_toml(EXAMPLES / "quick.toml")
    assert quick.replicates == 3 and set(quick.estimators) == {"ssm", "transformer", "oracle", "knn"}
    assert [t.kind for t in quick.targets.values()] == ["gamma_smooth"]
    piecewise = Study.from_toml(EXAMPLES / "piecewise.toml")
    assert [t.kind for t in piecewise.targets.values()] == ["piecewise"]
    assert piecewise.estimators["mlp"].cls == "nprates.estimators.WindowMLP"
    paper = Study.from_toml(EXAMPLES / "paper.toml")
    assert {t.kind for t in paper.targets.values()} == {"gamma_smooth", "piecewise"}
    assert paper.replicates > quick.replicates and paper.sizes[-1] > quick.sizes[-1]


def test_recovery_study_refits_the_published_piecewise_draws_with_their_protocol():
    """examples/recovery.toml must draw the published `selection` functions (same seed and
    target) and train them as published (same parameters, the grid as given), so that its
    recovery belongs to the published risks' fits."""
    published = Study.from_toml(ROOT / "results" / "published" / "study.toml")
    recovery = Study.from_toml(EXAMPLES / "recovery.toml")
    assert recovery.seed == published.seed and recovery.noise == published.noise
    assert recovery.length == published.length
    assert recovery.targets["selection"].to_dict() == published.targets["selection"].to_dict()
    assert set(recovery.sizes) <= set(published.sizes) and max(recovery.sizes) == 3200
    for name in ("ssm", "transformer"):
        ours = recovery.estimators[name].to_dict()
        theirs = published.estimators[name].to_dict()
        assert ours["params"].pop("lr_extend") == 0
        assert ours == theirs
