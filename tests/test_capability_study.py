"""Capability studies: ``[tasks.LABEL]`` specs, cells scored by token accuracy (and the
training accuracy and sizes of each fit), resume, process pool, the example studies (four
networks under one training protocol; FNN-size sweeps), and ``nprates run`` /
``nprates fit`` on them."""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from nprates.analysis.schema import COLUMNS
from nprates.cli import main
from nprates.studies import Study, StudyError, check_study, run_study
from nprates.studies import capability
from nprates.studies.store import CELLS_DIR, KIND_COLUMNS
from nprates.tasks import IGNORE_INDEX
from study_fixtures import ROOT


class CopyRule(ClassifierMixin, BaseEstimator):
    """Copies the content tokens after the separator; ``skill`` < 1 answers token 0 at
    the later positions instead (a deliberately partial copier). Appends a line per fit
    to ``counter`` when given."""

    def __init__(self, skill=1.0, counter="", n_tokens=None, n_classes=None):
        self.skill = skill
        self.counter = counter
        self.n_tokens = n_tokens
        self.n_classes = n_classes

    def fit(self, X, y):
        if self.counter:
            with open(self.counter, "a") as fh:
                fh.write(f"{len(X)}\n")
        self.classes_ = np.arange(self.n_classes)
        self.n_params_ = 0
        return self

    def predict(self, X):
        L = (X.shape[1] - 1) // 2
        out = np.zeros_like(X)
        copied = int(round(self.skill * L))
        out[:, L + 1:L + 1 + copied] = X[:, :copied]
        return out


class NotAClassifier(BaseEstimator):
    def fit(self, X, y):
        return self

    def predict(self, X):
        return X


TINY_SSM = {"class": "nprates.estimators.classifiers.SSMClassifier",
            "params": {"n_layers": 1, "width": 8, "d_state": 4, "fnn_width": 8, "max_steps": 4,
                       "min_steps": 0, "batch_size": 32, "device": "cpu"}}

GOOD = textwrap.dedent("""\
    name = "cap"
    seed = 3
    train_size = 48
    test_size = 40
    replicates = 2

    [tasks.copy]
    kind = "copying"
    vocab_size = 4
    length = [2, 3]

    [estimators.rule]
    class = "test_capability_study:CopyRule"
    """)


def copy_study(**changes) -> Study:
    data = dict(name="cap", seed=3, train_size=48, test_size=40, replicates=2,
                tasks={"copy": {"kind": "copying", "vocab_size": 4, "length": [2, 3]}},
                estimators={"rule": {"class": "test_capability_study:CopyRule"},
                            "half": {"class": "test_capability_study:CopyRule",
                                     "params": {"skill": 0.5}}})
    data.update(changes)
    return Study.from_dict(data)


# -- the spec -------------------------------------------------------------------------------

def test_a_task_table_expands_into_settings_and_round_trips():
    study = Study.from_toml_text(GOOD.replace("length = [2, 3]", "length = [8, 2, 4]"))
    assert study.kind == "capability" and study.targets == {}
    assert list(study.settings) == ["copy/length=2", "copy/length=4", "copy/length=8"]
    setting = study.settings["copy/length=4"]
    assert (setting.task, setting.param, setting.value) == ("copy", "length", 4)
    assert setting.params == {"vocab_size": 4, "length": 4}
    assert setting.build().seq_len == 9
    assert study.sizes == (48,) and study.train_size == 48
    assert Study.from_toml_text(study.replace().to_toml()) == study  # written as TOML
    written = study.to_dict()
    assert "noise" not in written and written["tasks"]["copy"]["length"] == [2, 4, 8]
    keys = {study.cell_key(s, "rule", 48, 0) for s in study.settings}
    assert len(keys) == 3 and all(k.startswith("copy/length=") for k in keys)
    assert study.cell_key("copy/length=2", "rule", 48, 0) == \
        Study.from_toml_text(GOOD.replace("[2, 3]", "[2]")).cell_key("copy/length=2", "rule", 48, 0)


@pytest.mark.parametrize("old, new, field", [
    ('class = "test_capability_study:CopyRule"',
     'class = "test_capability_study:CopyRule"\n[targets.t]\nkind = "gamma_smooth"',
     "tasks: a study has [targets.LABEL] tables (a rate study) or [tasks.LABEL]"),
    ('[tasks.copy]\nkind = "copying"\nvocab_size = 4\nlength = [2, 3]\n', "",
     "targets: required field missing: a rate study needs [targets.LABEL] tables"),
    ("length = [2, 3]", "length = 3", "tasks.copy: no swept parameter: give one of length, "
                                      "vocab_size as a list"),
    ("vocab_size = 4", "vocab_size = [4, 8]", "tasks.copy.length: only one parameter is swept"),
    ("vocab_size = 4", "vocab_size = 1", "tasks.copy.vocab_size: copy/length=2: vocab_size "
                                         "must be an integer >= 2, got 1"),
    ("vocab_size = 4", "vocab_size = 4\nwidth = 3", "tasks.copy.width: unknown field"),
    ("vocab_size = 4", "", "tasks.copy.vocab_size: required field missing"),
    ("length = [2, 3]", "length = []", "tasks.copy.length: the swept list must not be empty"),
    ("length = [2, 3]", "length = [2, 2]", "tasks.copy.length: 2 appears more than once"),
    ("length = [2, 3]", "length = [0, 3]", "tasks.copy.length[0]: must be >= 1, got 0"),
    ("length = [2, 3]", "length = [2.5]", "tasks.copy.length[0]: must be an integer"),
    ('kind = "copying"', 'kind = "sorting"', "tasks.copy.kind: unknown kind 'sorting'"),
    ("train_size = 48", "train_size = 48\nnoise = 0.1", "noise: only for rate studies"),
    ("train_size = 48", "train_size = 48\nlength = 4", "length: only for rate studies"),
    ("train_size = 48", "sizes = [48]", "sizes: only for rate studies"),
    ("train_size = 48", "", "train_size: required field missing"),
    ("train_size = 48", "train_size = 1", "train_size: must be >= 2, got 1"),
])
def test_bad_capability_specs_name_the_field(old, new, field):
    assert old in GOOD
    with pytest.raises(StudyError) as err:
        Study.from_toml_text(GOOD.replace(old, new), source="cap.toml")
    assert str(err.value).startswith("cap.toml: ") and field in str(err.value)


@pytest.mark.parametrize("task, field", [
    ({"kind": "recall", "vocab_size": 4, "n_pairs": [2, 8]},
     "tasks.recall.vocab_size: recall/n_pairs=8: vocab_size=4 is too small for n_pairs=8"),
    ({"kind": "recall", "vocab_size": 8, "n_pairs": 2, "distinct_keys": [True, False]},
     "tasks.recall.distinct_keys: cannot be swept; a recall task sweeps one of n_pairs, "
     "vocab_size"),
    ({"kind": "recall", "vocab_size": 8, "n_pairs": [2], "distinct_keys": "yes"},
     "tasks.recall.distinct_keys: recall/n_pairs=2: distinct_keys must be True or False"),
])
def test_bad_recall_tasks_name_the_field(task, field):
    with pytest.raises(StudyError, match="^" + re.escape(field)):
        copy_study(tasks={"recall": task})


def test_rate_fields_and_estimators_are_checked_for_the_kind_of_study():
    with pytest.raises(StudyError, match="^train_size: only for capability studies"):
        Study.from_dict(dict(name="r", noise=0.1, length=2, sizes=[8], train_size=8,
                             targets={"s": {"kind": "callable",
                                            "factory": "study_fixtures:make_sine_target"}},
                             estimators={"ridge": {"class": "sklearn.linear_model.Ridge"}}))
    with pytest.raises(StudyError, match=r"^estimators\.rule\.params\.n_tokens: is set by the "
                                         r"study from each task setting"):
        check_study(copy_study(estimators={"rule": {"class": "test_capability_study:CopyRule",
                                                    "params": {"n_tokens": 9}}}))
    with pytest.raises(StudyError, match=r"^estimators\.x\.class: 'test_capability_study:"
                                         r"NotAClassifier' is not a classifier"):
        check_study(copy_study(estimators={"x": {"class": "test_capability_study:NotAClassifier"}}))
    with pytest.raises(StudyError, match=r"^estimators\.ssm\.params\.nope: unknown parameter"):
        check_study(copy_study(estimators={"ssm": {"class": TINY_SSM["class"],
                                                   "params": {"nope": 1}}}))


def test_nprates_run_exits_2_with_one_line_naming_the_field(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace("length = [2, 3]", "length = [2, 3]\nn_pairs = [1]"))
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert captured.err.startswith(f"nprates run: error: {path}: tasks.copy.n_pairs: unknown field")
    assert not (tmp_path / "out").exists()


# -- running --------------------------------------------------------------------------------

def test_cells_are_scored_by_token_accuracy_on_the_settings_test_set(tmp_path):
    study = copy_study()
    results = run_study(study, tmp_path / "out", progress=False)
    kept = [c for c in COLUMNS if c not in KIND_COLUMNS["rate"] + ("versions",)]
    assert list(results.columns[:len(kept)]) == kept  # no rate-study columns
    assert len(results) == 2 * 2 * 2 and set(results["status"]) == {"ok"}
    assert set(results["target"]) == {"copy/length=2", "copy/length=3"}
    assert (results["n"] == 48).all() and set(results["task"]) == {"copy"}
    assert set(results["task_param"]) == {"length"}
    assert sorted(set(results["task_value"])) == [2.0, 3.0]
    assert results["accuracy"].between(0, 1).all()
    np.testing.assert_allclose(results["risk"], 1 - results["accuracy"])
    np.testing.assert_allclose(results["risk_se"], results["accuracy_se"])
    assert "noise" not in results and "theory_exponent" not in results
    exact = results[results["estimator"] == "rule"]
    assert (exact["accuracy"] == 1).all() and (exact["exact_match"] == 1).all()
    assert (exact["accuracy_se"] == 0).all()
    for row in results[results["estimator"] == "half"].itertuples():
        # the half copier gets the first round(L/2) tokens right and answers 0 for the rest
        tokens, targets, mask = capability.test_batch(study, row.target)
        L = int(row.task_value)
        copied = int(round(0.5 * L))
        right = copied + np.sum(targets[:, L + 1 + copied:] == 0, axis=1)
        assert row.accuracy == pytest.approx(np.mean(right / L))
        assert row.accuracy_se == pytest.approx(np.std(right / L, ddof=1) / np.sqrt(40))
        assert row.exact_match == pytest.approx(np.mean(right == L))
    # paired data: every estimator of a (setting, replicate) saw the same sequences
    assert results.groupby(["target", "replicate"])["data_seed"].nunique().eq(1).all()
    assert results["data_seed"].nunique() == 4
    files = sorted(p.name for p in (tmp_path / "out" / CELLS_DIR).glob("*.json"))
    assert files[0] == "copy@length=2__half__n48__r0.json" and len(files) == 8


def test_data_streams_are_per_setting_and_replicate():
    study = copy_study()
    a = capability.train_batch(study, "copy/length=2", 48, 0)
    again = capability.train_batch(study, "copy/length=2", 48, 0)
    other = capability.train_batch(study, "copy/length=2", 48, 1)
    assert a.tokens.shape == (48, 5) and a.targets.shape == (48, 5)
    assert np.array_equal(a.tokens, again.tokens) and not np.array_equal(a.tokens, other.tokens)
    assert (a.targets[~a.mask] == IGNORE_INDEX).all()
    test = capability.test_batch(study, "copy/length=2")
    assert test.tokens.shape == (40, 5) and not np.array_equal(test.tokens[:40], a.tokens[:40])


def test_resume_skips_finished_cells(tmp_path):
    counter = tmp_path / "fits.log"
    study = copy_study(estimators={"rule": {"class": "test_capability_study:CopyRule",
                                            "params": {"counter": str(counter)}}})
    out = tmp_path / "out"

    def fits():  # cell fits (48 sequences), not the runs' trial fits on 8 (check.trial_fits)
        return [line for line in counter.read_text().split() if line != "8"]

    first = run_study(study, out, progress=False)
    assert len(fits()) == 4
    cells = out / CELLS_DIR
    stamps = {p.name: p.stat().st_mtime_ns for p in cells.glob("*.json")}
    (cells / "copy@length=3__rule__n48__r1.json").unlink()
    resumed = run_study(study, out, progress=False)
    assert len(fits()) == 5  # only the deleted cell was fitted again
    for name, stamp in stamps.items():
        if name != "copy@length=3__rule__n48__r1.json":
            assert (cells / name).stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(first.drop(columns="fit_seconds"),
                                  resumed.drop(columns="fit_seconds"))
    grown = study.replace(tasks={"copy": {"kind": "copying", "vocab_size": 4,
                                          "length": [2, 3, 4]}})
    with pytest.raises(StudyError, match="holds a different study.*tasks.copy.length"):
        run_study(grown, out, progress=False)
    run_study(grown, out, progress=False, force=True)  # keeps the cells the studies share
    assert len(fits()) == 7


def test_process_pool_matches_serial_and_trains_torch_classifiers(tmp_path):
    study = copy_study(estimators={"rule": {"class": "test_capability_study:CopyRule",
                                            "params": {"skill": 0.5}},
                                   "ssm": TINY_SSM})
    checked = check_study(study)
    assert checked.batched == {"ssm"}  # token classifiers train their replicates together
    pool = run_study(study, tmp_path / "pool", executor="process", workers=2, progress=False)
    assert len(pool) == 8 and set(pool["status"]) == {"ok"}
    ssm = pool[pool["estimator"] == "ssm"]
    assert ssm["accuracy"].between(0, 1).all() and (ssm["n_params"] > 0).all()
    assert np.isfinite(ssm["train_loss"]).all() and (ssm["epochs"] >= 1).all()
    # training accuracy (on the training split) and sizes go into the classifier's rows
    assert ssm["train_accuracy"].between(0, 1).all()
    assert set(ssm["capacity"]) == {'{"d_state": 4, "fnn_depth": 1, "fnn_width": 8, '
                                    '"n_layers": 1, "width": 8}'}
    assert pool[pool["estimator"] == "rule"]["train_accuracy"].isna().all()
    serial = run_study(study.replace(estimators={"rule": study.estimators["rule"].to_dict()}),
                       tmp_path / "serial", progress=False)
    rule = pool[pool["estimator"] == "rule"].reset_index(drop=True)
    pd.testing.assert_frame_equal(rule.drop(columns="fit_seconds"),
                                  serial.drop(columns="fit_seconds"))


def test_nprates_fit_prints_the_accuracy_table(tmp_path, capsys):
    path = tmp_path / "cap.toml"
    path.write_text(GOOD)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["fit", str(out)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("Capability study: no convergence rate to fit.")
    assert "task copy: accuracy against length (train size 48)" in text
    lines = [ln.split() for ln in text.splitlines() if ln.strip().startswith(("2 ", "3 "))]
    # no training accuracy from this estimator: "-", and a fit verdict of "unknown"
    assert [ln[:5] + ln[-1:] for ln in lines] == [["2", "rule", "2/0", "-", "1.000", "unknown"],
                                                  ["3", "rule", "2/0", "-", "1.000", "unknown"]]
    assert "length = 3: unknown (no training accuracy: rule)" in text
    assert main(["fit", str(out), "--json", "-"]) == 0
    assert '"accuracy": 1.0' in capsys.readouterr().out
    assert main(["compare", str(out), "rule", "rule"]) == 2
    assert "holds a capability study" in capsys.readouterr().err


@pytest.mark.parametrize("name, param", [("copying", "length"), ("recall", "n_pairs")])
def test_examples_compare_the_four_architectures_at_equal_width(name, param):
    study = Study.from_toml(ROOT / "examples" / f"{name}.toml")
    check_study(study)  # imports and constructs all
    assert study.kind == "capability" and study.replicates >= 3
    assert {s.param for s in study.settings.values()} == {param} and len(study.settings) >= 3
    specs = study.estimators
    assert set(specs) == {"ssm1", "ssm2", "selective", "transformer"}
    assert specs["ssm1"].cls == specs["ssm2"].cls == "nprates.estimators.classifiers.SSMClassifier"
    assert (specs["ssm1"].params["n_layers"], specs["ssm2"].params["n_layers"]) == (1, 2)
    assert specs["transformer"].params["n_layers"] == specs["selective"].params["n_layers"] == 2
    for key in ("width", "fnn_width", "fnn_depth", "max_epochs", "patience", "lr"):
        assert len({str(spec.params[key]) for spec in specs.values()}) == 1, key
    # one training protocol: a learning-rate grid, early stopping (no fixed step count)
    assert all(len(spec.params["lr"]) >= 2 and "max_steps" not in spec.params
               for spec in specs.values())


@pytest.mark.parametrize("name, main_study", [("recall_fnn", "recall"),
                                              ("copying_fnn", "copying")])
def test_fnn_sweep_examples_vary_only_the_fnn_of_the_two_layer_ssm(name, main_study):
    study = Study.from_toml(ROOT / "examples" / f"{name}.toml")
    main = Study.from_toml(ROOT / "examples" / f"{main_study}.toml")
    hardest = max(main.settings.values(), key=lambda s: s.value)
    assert [s.label for s in study.settings.values()] == [hardest.label]
    budget = ("max_epochs", "patience")  # the sweep's is more generous
    ssm2 = main.estimators["ssm2"].params
    base = {k: v for k, v in ssm2.items() if k not in ("fnn_width", "fnn_depth", *budget)}
    sizes = set()
    for spec in study.estimators.values():
        assert spec.cls == main.estimators["ssm2"].cls
        assert {k: v for k, v in spec.params.items()
                if k not in ("fnn_width", "fnn_depth", *budget)} == base
        assert all(spec.params[k] >= ssm2[k] for k in budget)
        sizes.add((spec.params["fnn_width"], spec.params["fnn_depth"]))
    assert len(sizes) == len(study.estimators) >= 3
    assert (main.estimators["ssm2"].params["fnn_width"], 1) in sizes  # the main study's FNN
