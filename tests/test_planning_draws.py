"""Planning a class comparison (draws x replicates x sizes) and the coverage of the class
and conditional intervals over target draws."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nprates.analysis import simulate_curves
from nprates.analysis.planning import design_power, plan_comparison
from nprates.analysis.simulate import estimand_coverage


def test_class_interval_covers_at_its_level():
    r = estimand_coverage(8, 1, n_sim=400, seed=1)
    assert abs(r["class_coverage"] - 0.95) < 0.035      # 400 sims: se 0.011
    assert abs(r["conditional_coverage"] - 0.95) < 0.035


def test_design_power_formula():
    p = design_power([100, 1000], 1, 10, between=0.01, cell_var=0.02, margin=0.1)
    c2 = 2 / math.log(10) ** 2  # sum of squared slope contrasts over two sizes
    se = math.sqrt((0.01 + 0.02 * c2) / 10)
    assert p["se"] == pytest.approx(se) and p["df"] == 9
    assert 0 < p["power"] < 1


def test_plan_comparison_prefers_draws_over_replicates():
    t = simulate_curves({"a": 0.6, "b": 0.6}, replicates=2, noise=0.2, seed=2, draws=4,
                        draw_sd=0.1)
    t["fit_seconds"] = t["n"] / 100.0
    plan = plan_comparison(t, "a", "b", margin=0.1, power=0.8)
    assert plan.reached and plan.replicates == 1
    assert plan.predicted["power"].min() >= 0.8
    assert (plan.designs["replicates"] == 1).any() and len(plan.designs) >= 4
    assert "designs compared" in plan.summary()
    tight = plan_comparison(t, "a", "b", power=0.8, budget_seconds=plan.seconds / 4)
    assert not tight.reached and tight.seconds <= plan.seconds / 4
    assert "budget: none" in plan.summary()
    assert f"budget: {plan.seconds / 4 / 3600:.1f} CPU h" in tight.summary()
    with pytest.raises(ValueError, match="power"):
        plan_comparison(t, "a", "b", power=1.5)


def test_a_budget_below_any_power_gets_the_narrowest_interval():
    """When no design within the budget has any TOST power (every half-width above the
    margin), the plan is the one with the narrowest class interval, not the cheapest."""
    t = simulate_curves({"a": 0.6, "b": 0.6}, replicates=2, noise=0.6, seed=2, draws=4,
                        draw_sd=0.4)
    t["fit_seconds"] = t["n"] / 100.0
    free = plan_comparison(t, "a", "b", margin=0.1, power=0.8)
    tight = plan_comparison(t, "a", "b", margin=0.1, power=0.8,
                            budget_seconds=free.seconds / 8)
    assert not tight.reached and (tight.designs["power"] == 0).all()
    chosen = tight.designs.iloc[0]
    assert chosen["half_width"] == tight.designs["half_width"].min()
    assert (tight.draws, tight.replicates) == (int(chosen["draws"]), int(chosen["replicates"]))
    assert tight.replicates == 1  # between-draw variance dominates: draws, not replicates


def test_t_max_auto_follows_the_largest_n_and_range_warnings(tmp_path):
    from nprates.cli import main
    from nprates.studies import Study
    from nprates.studies.build import build_target
    from nprates.studies.range_check import range_warnings

    text = """name = "auto"
seed = 1
noise = 0.1
length = 16
sizes = [100, 1000, {n}]
replicates = 1
[targets.mixed]
kind = "gamma_smooth"
t_max = {t_max}
smoothness = {{kind = "mixed", a0 = 1.0, alpha = 1.0, features = 2, window = 4}}
[estimators.net]
class = "nprates.estimators.WindowMLP"
params = {{width = {{rule = "rate", c = 4.0, max = 16}}}}
"""
    path = tmp_path / "auto.toml"
    path.write_text(text.format(n=50000, t_max='"auto"'))
    study = Study.from_toml(path)
    target = build_target(study, "mixed")
    assert target.t_max == pytest.approx(math.log2(50000) / 3 + 3)  # a_dagger = 1
    warnings = range_warnings(study)
    assert any("binds from n = 64" in w for w in warnings)       # (16 / 4) ** 3
    assert any("basis functions" in w for w in warnings)         # 50000 > 10 x n_basis
    path.write_text(text.format(n=3000, t_max="8.0"))
    assert not any("basis" in w for w in range_warnings(Study.from_toml(path)))
    assert main(["plan", str(path), "--compare", "a", "b"]) == 2   # no --pilot


def test_decisive_study_is_the_plan_from_the_published_cells():
    from pathlib import Path

    from nprates.analysis import read_results_dir
    from nprates.studies import Study

    root = Path(__file__).resolve().parent.parent
    study = Study.from_toml(root / "examples" / "decisive.toml")
    assert set(study.targets) == {"mixed", "anisotropic"}
    assert set(study.estimators) == {"ssm", "transformer", "oracle"}
    assert study.replicates == 1 and max(study.sizes) >= 3200
    pilot = read_results_dir(root / "results" / "published")
    plan = plan_comparison(pilot, "ssm", "transformer", margin=0.1, power=0.8,
                           sizes=list(study.sizes), targets=sorted(study.targets),
                           estimators=["oracle"], budget_seconds=20 * 3600)
    assert (plan.draws, plan.replicates, plan.sizes) == (study.target_draws, 1,
                                                         list(study.sizes))
    assert plan.seconds <= 20 * 3600


def _two_target_pilot():
    """Pilot curves of a and b on 'long' (5 sizes, 6 draws x 2 replicates) and 'short'
    (2 sizes: no common range of 3 sizes to compare on)."""
    import pandas as pd

    long = simulate_curves({"a": 0.6, "b": 0.6}, sizes=[100, 200, 400, 800, 1600],
                           replicates=2, noise=0.2, seed=3, draws=6, draw_sd=0.1,
                           target="long")
    short = simulate_curves({"a": 0.6, "b": 0.6}, sizes=[100, 1600], replicates=2,
                            noise=0.2, seed=4, draws=6, draw_sd=0.1, target="short")
    t = pd.concat([long, short], ignore_index=True)
    t["fit_seconds"] = t["n"] / 100.0
    return t


def test_plan_leaves_out_a_target_it_cannot_compare_and_states_the_pilots_power():
    from nprates.analysis import InsufficientData

    t = _two_target_pilot()
    with pytest.raises(InsufficientData, match="'short'"):
        plan_comparison(t, "a", "b", margin=0.1, power=0.8)
    plan = plan_comparison(t, "a", "b", margin=0.1, power=0.8, skip_uncomparable=True)
    assert [name for name, _ in plan.skipped] == ["short"]
    assert plan.predicted["target"].tolist() == ["long"]
    text = plan.summary()
    assert "not planned" in text and "short" in text
    own = plan.pilot_design.iloc[0]
    assert (own["draws"], own["replicates"], own["sizes"]) == (6, 2, [100, 200, 400, 800, 1600])
    comp = plan.components.iloc[0]
    expect = design_power(own["sizes"], 2, 6, comp["between"], comp["cell_var"], margin=0.1)
    assert own["power"] == pytest.approx(float(expect["power"]))
    assert own["se"] == pytest.approx(float(expect["se"]))
    # the plan is the design that reaches the goal: more draws, more power than the pilot
    assert plan.draws > 6 and plan.predicted["power"].iloc[0] >= 0.8 > own["power"]
    only_short = t[t["target"] == "short"]
    with pytest.raises(InsufficientData, match="no target has a common range"):
        plan_comparison(only_short, "a", "b", skip_uncomparable=True)


def test_cli_plan_compare_names_the_left_out_target_and_checks_target(tmp_path, monkeypatch,
                                                                       capsys):
    import nprates.analysis
    from nprates.cli import main

    study = tmp_path / "two.toml"
    target = """[targets.{name}]
kind = "gamma_smooth"
t_max = 6.0
smoothness = {{kind = "mixed", a0 = 1.0, alpha = 1.0, features = 2, window = 4}}
"""
    estimator = """[estimators.{name}]
class = "nprates.estimators.WindowMLP"
params = {{width = 8}}
"""
    study.write_text('name = "two"\nseed = 1\nnoise = 0.1\nlength = 16\n'
                     'sizes = [100, 200, 400, 800, 1600]\nreplicates = 1\n'
                     + target.format(name="long") + target.format(name="short")
                     + estimator.format(name="a") + estimator.format(name="b"))
    monkeypatch.setattr(nprates.analysis, "read_results_dir", lambda path: _two_target_pilot())
    argv = ["plan", str(study), "--compare", "a", "b", "--pilot", "P"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "targets long\n" in out and "not planned" in out
    assert "--keep-plateau" in out and "keep_plateau=True" not in out   # CLI spelling
    assert "with the power it had" in out
    assert main(argv + ["--target", "short"]) == 2
    err = capsys.readouterr().err
    assert "'short'" in err and "common range" in err and len(err.strip().splitlines()) == 1
    assert main(argv + ["--target", "nope"]) == 2
    assert "--target 'nope' is not a target of both" in capsys.readouterr().err
    assert main(["plan", str(study), "--width", "0.1", "--target", "long"]) == 2
    assert "--target goes with --compare" in capsys.readouterr().err
