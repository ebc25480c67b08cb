"""The training protocol's study side: capacity rules, several target draws, per-cell
diagnostics, strict-JSON cell files, tables without the other kind's columns."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nprates.studies import Study, StudyError, check_study, load_results, run_study
from nprates.studies import seeds
from nprates.studies.build import build_target, make_estimator, train_set
from nprates.studies.build import test_set as noise_free_test_set
from nprates.studies.capacity import rule_value
from nprates.studies.store import KIND_COLUMNS
from study_fixtures import SineTarget

SINE = {"kind": "callable", "factory": "study_fixtures:make_sine_target", "params": {"scale": 2.0}}
RIDGE = {"class": "sklearn.linear_model.Ridge", "params": {"alpha": 0.1}}
RULE = {"rule": "rate", "c": 4.0, "min": 8, "max": 24}


class PlainTarget(SineTarget):
    """A target that states no smoothness."""

    a_dagger = None


def tiny(**changes) -> Study:
    spec = dict(name="tiny", seed=5, noise=0.2, length=4, sizes=[8, 32], replicates=2,
                test_size=64, targets={"sine": SINE}, estimators={"ridge": RIDGE})
    spec.update(changes)
    return Study.from_dict(spec)


def ssm(**params) -> dict:
    return {"class": "nprates.estimators.SSMRegressor",
            "params": {"n_layers": 1, "d_state": 2, "fnn_width": 4, "max_epochs": 2,
                       "min_steps": 0, **params}}


# -- capacity rules -------------------------------------------------------------------------

def test_rate_rule_grows_like_n_to_one_over_2a_plus_1_and_is_clipped():
    # a_dagger = 1: n ** (1/3); 4 * 64 ** (1/3) = 16
    assert rule_value(RULE, 64, 1.0, "w") == 16
    assert rule_value(RULE, 8, 1.0, "w") == 8          # 8 clipped up to min
    assert rule_value(RULE, 10 ** 6, 1.0, "w") == 24   # clipped down to max
    assert rule_value(RULE, 16, 0.5, "w") == 16        # a_dagger = 1/2: n ** (1/2)
    assert rule_value({"rule": "rate", "c": 3.0, "multiple": 4}, 1331, 1.0, "w") == 32  # 33
    with pytest.raises(StudyError, match="w: the rule 'rate' needs the target's a_dagger"):
        rule_value(RULE, 64, math.nan, "w")


@pytest.mark.parametrize("rule, field, message", [
    ({"rule": "linear", "c": 1.0}, "width.rule", "unknown rule 'linear'"),
    ({"rule": "rate"}, "width.c", "required field missing"),
    ({"rule": "rate", "c": 0.0}, "width.c", "must be > 0"),
    ({"rule": "rate", "c": 1.0, "min": 8, "max": 4}, "width.max", "must be >= min = 8"),
    ({"rule": "rate", "c": 1.0, "min": 3, "multiple": 2}, "width.min", "multiple of"),
    ({"rule": "rate", "c": 1.0, "step": 2}, "width.step", "unknown field"),
])
def test_malformed_rules_are_refused_naming_the_field(rule, field, message):
    with pytest.raises(StudyError, match=f"estimators.net.params.{field}: .*{message}"):
        tiny(estimators={"net": ssm(width=rule)})


def test_rules_resolve_per_n_and_are_refused_for_a_target_without_a_dagger():
    study = tiny(estimators={"net": ssm(width=RULE)})
    target = build_target(study, "sine")  # SineTarget: a_dagger = 0.5, width ~ n ** (1/2)
    widths = [make_estimator(study, "net", target, "cpu", n=n).width for n in (8, 16, 36)]
    assert widths == [11, 16, 24]
    assert make_estimator(study, "net", target, "cpu").width == 11  # the smallest size
    assert study.to_dict()["estimators"]["net"]["params"]["width"] == RULE  # kept as a rule
    plain = {"kind": "callable", "factory": "test_study_protocol:PlainTarget"}
    with pytest.raises(StudyError, match="estimators.net.params.width: the rule 'rate' needs"):
        check_study(tiny(targets={"sine": SINE, "plain": plain},
                         estimators={"net": ssm(width=RULE)}))
    check_study(tiny(targets={"plain": plain}, estimators={"net": ssm(width=16)}))  # fixed: fine


# -- target draws ---------------------------------------------------------------------------

def test_draws_have_their_own_seeds_and_draw_zero_keeps_todays():
    one, three = tiny(), tiny(target_draws=3)
    assert three.target_slots("sine") == ["sine", "sine/draw=1", "sine/draw=2"]
    assert seeds.split_slot("sine/draw=2") == ("sine", 2)
    assert seeds.split_slot("sine") == ("sine", 0)
    # draw 0: the same streams and cell keys as a one-draw study (old directories stay valid)
    assert three.cell_key("sine", "ridge", 8, 0) == one.cell_key("sine", "ridge", 8, 0)
    assert np.array_equal(train_set(three, "sine", 8, 0)[1], train_set(one, "sine", 8, 0)[1])
    assert "target_draws" not in one.to_dict() and three.to_dict()["target_draws"] == 3
    keys = {three.cell_key(s, "ridge", 8, 0) for s in three.target_slots("sine")}
    assert len(keys) == 3
    for a, b in (("sine", "sine/draw=1"), ("sine/draw=1", "sine/draw=2")):
        assert build_target(three, a).shift != build_target(three, b).shift   # the function
        assert not np.array_equal(train_set(three, a, 8, 0)[0], train_set(three, b, 8, 0)[0])
        assert not np.array_equal(noise_free_test_set(three, a)[0],
                                  noise_free_test_set(three, b)[0])
    assert seeds.init_seed(0, "sine", "e", 8, 0, 1) != seeds.init_seed(0, "sine", "e", 8, 0)
    with pytest.raises(StudyError, match="target_draws: must be >= 1"):
        tiny(target_draws=0)


def test_a_study_with_draws_writes_one_row_per_draw(tmp_path):
    results = run_study(tiny(target_draws=2, sizes=[8]), tmp_path / "out", executor="serial",
                        progress=False)
    assert len(results) == 4 and set(results.target) == {"sine"}
    assert sorted(results.draw) == [0, 0, 1, 1]
    assert results.cell_key.is_unique and results.data_seed.is_unique
    names = sorted(p.name for p in (tmp_path / "out" / "cells").glob("*.json"))
    assert names[0] == "sine@draw=1__ridge__n8__r0.json" and "sine__ridge__n8__r0.json" in names
    again = run_study(tiny(target_draws=2, sizes=[8]), tmp_path / "out", executor="serial",
                      progress=False)  # everything resumed, nothing recomputed
    assert again.risk.tolist() == results.risk.tolist()


# -- diagnostics, cell files, the loaded table ------------------------------------------------

def test_rows_carry_the_protocol_diagnostics(tmp_path):
    study = tiny(sizes=[8], replicates=1, estimators={"ridge": RIDGE, "net": ssm(width=RULE)})
    results = run_study(study, tmp_path / "out", executor="serial", progress=False)
    ridge, net = (results[results.estimator == e].iloc[0] for e in ("ridge", "net"))
    assert ridge.stopped_by == "" and ridge.capacity == "" and math.isnan(ridge.lr)
    assert net.stopped_by in ("", "early_stopping", "cap")
    assert json.loads(net.capacity)["width"] == 11 and net.n_params > 0
    assert net.lr == pytest.approx(3e-3)  # the lr hyperparameter (no grid)
    for row in (ridge, net):
        assert row.opt_gap == pytest.approx(row.train_loss - 0.2 ** 2)
        X, f = noise_free_test_set(study, "sine")
        y = train_set(study, "sine", 8, 0)[1]
        assert row.null_risk == pytest.approx(np.mean((y.mean() - f) ** 2))
        assert row.trivial == (row.risk >= 0.5 * row.null_risk)
        assert row.draw == 0


def test_neural_rows_carry_the_training_history_and_the_final_grid(tmp_path):
    study = tiny(sizes=[32], replicates=1,
                 estimators={"ridge": RIDGE, "net": ssm(lr=[1e-5, 1e-4], lr_extend=1)})
    results = run_study(study, tmp_path / "out", executor="serial", progress=False)
    ridge, net = (results[results.estimator == e].iloc[0] for e in ("ridge", "net"))
    assert ridge.history == "" and math.isnan(ridge.best_epoch) and ridge.lr_grid == ""
    assert not ridge.lr_edge
    history = json.loads(net.history)
    assert len(history["train"]) == len(history["val"]) == net.epochs == 2
    assert history["val"][int(net.best_epoch) - 1] == min(history["val"])
    # 4 significant digits, as written in the cell file
    assert all(v == float(f"{v:.4g}") for v in history["train"] + history["val"])
    # two epochs at tiny rates: the larger always wins, one extension (x10) at the top
    assert json.loads(net.lr_grid) == [1e-5, 1e-4, 1e-3] and net.lr == pytest.approx(1e-3)
    assert net.lr_edge


def test_cell_files_are_strict_json_and_nan_reads_back(tmp_path):
    run_study(tiny(sizes=[8], replicates=1), tmp_path / "out", executor="serial", progress=False)
    (path,) = (tmp_path / "out" / "cells").glob("*.json")
    text = path.read_text()
    assert "NaN" not in text
    payload = json.loads(text, parse_constant=lambda c: pytest.fail(f"bare {c}"))
    assert payload["row"]["val_loss"] is None
    table = load_results(tmp_path / "out")
    assert math.isnan(table.val_loss[0]) and math.isnan(table.lr[0])


def test_load_results_drops_the_other_kinds_columns_and_the_versions(tmp_path):
    table = run_study(tiny(sizes=[8], replicates=1), tmp_path / "out", executor="serial",
                      progress=False)
    assert not set(KIND_COLUMNS["capability"]) & set(table.columns)
    assert {"noise", "a_dagger", "draw", "opt_gap"} <= set(table.columns)
    assert "versions" not in table.columns
    assert table.attrs["versions"]["numpy"] == np.__version__
