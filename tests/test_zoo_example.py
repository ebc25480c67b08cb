"""examples/zoo.toml: a valid study with every family at comparable sizes, on both
classes, over 2 decades of n and 6 target draws."""

from __future__ import annotations

import math

from nprates.estimators.mixer_network import MIXERS
from nprates.studies import Study, check_study
from nprates.studies.build import build_target, make_estimator
from study_fixtures import ROOT

STUDY = ROOT / "examples" / "zoo.toml"


def test_zoo_covers_every_family_on_both_classes():
    study = Study.from_toml(STUDY)
    check_study(study)                                 # imports and constructs everything
    assert math.log10(study.sizes[-1] / study.sizes[0]) >= 2 and study.target_draws >= 6
    assert {t.kind for t in study.targets.values()} == {"gamma_smooth", "piecewise"}
    mixers = {spec.params.get("mixer") for spec in study.estimators.values()}
    assert set(MIXERS) - mixers == {"retnet"}          # RetNet: GLA's fixed-decay option
    classes = {spec.cls.rsplit(".", 1)[1] for spec in study.estimators.values()}
    assert {"SSMRegressor", "SelectiveSSMRegressor", "TransformerRegressor"} <= classes


def test_zoo_networks_have_comparable_parameter_counts():
    study = Study.from_toml(STUDY)
    target = build_target(study, "mixed")
    for n in study.sizes[2:]:
        counts = {}
        for label in study.estimators:
            est = make_estimator(study, label, target, "cpu", n=n)
            if hasattr(est, "_network"):
                est.seq_len_ = 16
                counts[label] = sum(p.numel() for p in est._network(2, 1, 1).parameters())
        assert len(counts) == 7
        for label, count in counts.items():
            assert 0.8 < count / counts["s4d"] < 1.25, (n, label, count, counts["s4d"])
