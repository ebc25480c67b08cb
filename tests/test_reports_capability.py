"""Reports and summaries of capability studies: accuracy against the swept parameter per
estimator with t intervals over replicates, parameter counts, training accuracy and the
fit verdicts (optimisation-limited cells marked), FNN-size sweeps, no rate pages."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

pypdf = pytest.importorskip("pypdf")

from nprates.analysis import simulate_curves  # noqa: E402
from nprates.analysis.capability import (capability_verdicts, format_capability_table,  # noqa: E402
                                         fnn_sweep, is_capability, summarize_capability)
from nprates.cli import main  # noqa: E402
from nprates.studies.serialise import dump_toml  # noqa: E402
from nprates.studies.store import CELLS_DIR, write_cell  # noqa: E402
from nprates.reports import build_report, estimator_styles  # noqa: E402
from nprates.reports.pages import capability as capability_pages  # noqa: E402
from nprates.reports.style import order_estimators  # noqa: E402

DATE = "2025-01-01"
CLASSES = {"ssm1": "nprates.estimators.classifiers.SSMClassifier",
           "ssm2": "nprates.estimators.classifiers.SSMClassifier",
           "transformer": "nprates.estimators.classifiers.TransformerClassifier",
           "selective": "nprates.estimators.classifiers.SelectiveSSMClassifier"}
STUDY = {
    "name": "simcap", "description": "A simulated capability study for the report tests.",
    "seed": 0, "train_size": 2000, "replicates": 3, "test_size": 1000, "device": "cpu",
    "tasks": {"copy": {"kind": "copying", "vocab_size": 8, "length": [4, 8, 16]},
              "recall": {"kind": "recall", "vocab_size": 8, "n_pairs": [2, 4, 8]}},
    "estimators": {label: {"class": cls, "params": {"width": 32}}
                   for label, cls in CLASSES.items()},
}
# mean token accuracy per estimator at the three swept values of each task
TRUTH = {"copy": ("length", [4, 8, 16], {"transformer": [1.0, 0.99, 0.97],
                                         "ssm1": [0.95, 0.7, 0.35], "ssm2": [1.0, 0.97, 0.9],
                                         "selective": [0.8, 0.5, 0.3]}),
         "recall": ("n_pairs", [2, 4, 8], {"transformer": [1.0, 0.95, 0.75],
                                           "ssm1": [0.99, 0.4, 0.25], "ssm2": [1.0, 0.42, 0.3],
                                           "selective": [0.97, 0.5, 0.3]})}
PARAMS = {"ssm1": 10248, "ssm2": 15656, "transformer": 17736, "selective": 16936}
CAP_CELL = ("recall/n_pairs=8", "ssm1")  # its replicate 0 stops at the cap


def simulated(seed=0, failed=True) -> pd.DataFrame:
    """A capability results table like a study's; one failed cell when ``failed``."""
    rng = np.random.default_rng(seed)
    rows = []
    for task, (param, values, accs) in TRUTH.items():
        for est, means in accs.items():
            for v, mean in zip(values, means):
                for r in range(3):
                    acc = float(np.clip(mean + rng.normal(0, 0.02), 0, 1))
                    rows.append(dict(
                        study="simcap", target=f"{task}/{param}={v}", estimator=est, n=2000,
                        replicate=r, risk=1 - acc, risk_se=0.01, status="ok", task=task,
                        task_param=param, task_value=float(v), accuracy=acc, accuracy_se=0.01,
                        exact_match=acc ** v if task == "copy" else acc,
                        n_params=float(PARAMS[est] + (8 * v if task == "copy" else 0)),
                        train_loss=float(-np.log(max(acc, 0.05))), fit_seconds=10.0 * v,
                        device="cpu", versions='{"python": "3.11", "torch": "2.13.0"}',
                        data_seed=f"{task}/{param}={v}/n=2000/r={r}", epochs=12.0,
                        cell_key=f"{task}/{param}={v}/{est}/n=2000/r={r}#0",
                        train_accuracy=1.0 if mean >= 0.95 else min(1.0, acc + 0.1),
                        stopped_by=("cap" if (f"{task}/{param}={v}", est) == CAP_CELL
                                    and r == 0 else "early_stopping"),
                        lr=3e-3, capacity='{"fnn_depth": 1, "fnn_width": 64, "width": 32}'))
    table = pd.DataFrame(rows)
    if failed:
        bad = (table["target"] == "copy/length=16") & (table["estimator"] == "ssm1") \
            & (table["replicate"] == 2)
        table.loc[bad, ["status", "error"]] = ["failed", "RuntimeError: boom"]
        table.loc[bad, ["risk", "accuracy", "exact_match", "n_params"]] = np.nan
    return table


def pdf_pages(path) -> list:
    """The text of each page, runs of whitespace (line breaks of wrapped text) as one space."""
    return [" ".join(p.extract_text().split()) for p in pypdf.PdfReader(str(path)).pages]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    table = simulated()
    path = tmp_path_factory.mktemp("cap") / "report.pdf"
    return table, build_report(table, path, study=STUDY, date=DATE), pdf_pages(path)


def test_summary_gives_means_and_t_intervals_over_replicates():
    table = simulated()
    summary = summarize_capability(table, level=0.9)
    assert len(summary) == 2 * 3 * 4
    assert list(summary["task"].unique()) == ["copy", "recall"]
    copy = summary[summary["task"] == "copy"]
    assert list(copy["task_value"].unique()) == [4.0, 8.0, 16.0]  # numeric, not string, order
    for row in summary.itertuples():
        ok = table[(table["target"] == row.target) & (table["estimator"] == row.estimator)
                   & (table["status"] == "ok")]["accuracy"].to_numpy()
        assert row.n_ok == len(ok) and row.n_failed == 3 - len(ok)
        half = stats.t.ppf(0.95, len(ok) - 1) * ok.std(ddof=1) / math.sqrt(len(ok))
        assert row.accuracy == pytest.approx(ok.mean())
        assert row.accuracy_low == pytest.approx(max(0.0, ok.mean() - half))
        assert row.accuracy_high == pytest.approx(min(1.0, ok.mean() + half))
    failed = summary[(summary["target"] == "copy/length=16") & (summary["estimator"] == "ssm1")]
    assert failed["n_ok"].item() == 2 and failed["n_failed"].item() == 1
    assert summary["accuracy_high"].max() <= 1.0 and summary["accuracy_low"].min() >= 0.0


def test_training_accuracy_gives_each_cell_a_fit_verdict():
    table = simulated()
    summary = summarize_capability(table, level=0.9).set_index(["target", "estimator"])
    for (target, est), row in summary.iterrows():
        ok = table[(table["target"] == target) & (table["estimator"] == est)
                   & (table["status"] == "ok")]
        assert row.train_accuracy == pytest.approx(ok["train_accuracy"].mean())
        assert row.n_fitted == int((ok["train_accuracy"] >= 0.99).sum())
        assert row.lr == 3e-3
    assert summary.loc[("recall/n_pairs=2", "transformer"), "fit"] == "fitted"
    assert summary.loc[("recall/n_pairs=4", "ssm2"), "fit"] == "not fitted"
    assert summary.loc[CAP_CELL, "fit"] == "not fitted (cap)"
    assert summary.loc[CAP_CELL, "n_cap"] == 1
    assert summary["limited"].tolist() == [f != "fitted" for f in summary["fit"]]
    # a lower threshold changes the verdicts; the cap still limits a cell that fitted
    low = summarize_capability(table, fit_threshold=0.3).set_index(["target", "estimator"])
    assert low.loc[("recall/n_pairs=4", "ssm2"), "fit"] == "fitted"
    assert low.loc[CAP_CELL, "fit"] == "fitted (cap)" and low.loc[CAP_CELL, "limited"]
    with pytest.raises(ValueError, match="fit_threshold"):
        summarize_capability(table, fit_threshold=1.5)
    # results without training accuracy (older studies): unknown, not limited
    old = summarize_capability(table.drop(columns=["train_accuracy", "stopped_by"]))
    assert set(old["fit"]) == {"unknown"} and not old["limited"].any()


def test_verdicts_say_per_setting_whether_test_accuracies_compare():
    verdicts = capability_verdicts(summarize_capability(simulated())).set_index(
        ["task", "task_value"])
    assert verdicts.loc[("recall", 2.0), "status"] == "comparable"
    assert verdicts.loc[("recall", 2.0), "verdict"] == "comparable"
    v = verdicts.loc[("recall", 8.0)]
    assert v.status == "optimisation-limited" and v.fitted == ""
    assert v.verdict.startswith("optimisation-limited (transformer: not fitted; ssm1: not "
                                 "fitted (cap); ssm2: not fitted; selective: not fitted)")
    assert verdicts.loc[("copy", 8.0), "fitted"] == "transformer, ssm2"  # summary order
    text = format_capability_table(summarize_capability(simulated()))
    assert "n_pairs = 2: comparable" in text and "length = 16: optimisation-limited (" in text
    assert "train acc" in text and "at least 0.99" in flat(text)


def flat(text: str) -> str:
    """``text`` with runs of whitespace (wrapped lines) as one space."""
    return " ".join(text.split())


def sweep_table(train_accuracies) -> pd.DataFrame:
    """One setting, a 2-layer SSM with four FNN sizes (width x depth) and its accuracies."""
    rows = []
    for (label, width, depth, params), train in zip(
            [("f256", 256, 1, 60000), ("f64", 64, 1, 20000), ("f64x2", 64, 2, 30000),
             ("f1024", 1024, 1, 200000)], train_accuracies):
        for r in range(3):
            rows.append(dict(study="sweep", target="recall/n_pairs=8", estimator=label, n=800,
                             replicate=r, risk=0.5, status="ok", task="recall",
                             task_param="n_pairs", task_value=8.0, accuracy=0.5,
                             n_params=float(params), train_loss=0.1, fit_seconds=1.0,
                             train_accuracy=train, stopped_by="early_stopping",
                             capacity=f'{{"fnn_depth": {depth}, "fnn_width": {width}, '
                                      f'"n_layers": 2, "width": 32}}'))
    return pd.DataFrame(rows)


def test_fnn_sweep_names_the_smallest_fnn_that_fits():
    summary = summarize_capability(sweep_table([1.0, 0.6, 0.995, 1.0]))
    sweep = fnn_sweep(summary)
    assert sweep["estimator"].tolist() == ["f64", "f64x2", "f256", "f1024"]  # by parameters
    assert sweep[["fnn_width", "fnn_depth"]].values.tolist() == [[64, 1], [64, 2], [256, 1],
                                                                  [1024, 1]]
    assert sweep["smallest_fitted"].tolist() == [False, True, False, False]
    assert "the smallest FNN that fits its training data is f64x2 (fnn_width 64, fnn_depth 2, " \
           "30000 parameters)" in flat(format_capability_table(summary))
    none = summarize_capability(sweep_table([0.9, 0.6, 0.7, 0.95]))
    assert not fnn_sweep(none)["smallest_fitted"].any()
    assert "no FNN tried fits its training data; the largest tried is f1024" in \
        flat(format_capability_table(none))
    assert fnn_sweep(summary, ["f64", "f1024"])["estimator"].tolist() == ["f64", "f1024"]
    with pytest.raises(ValueError, match="not in the summary"):
        fnn_sweep(summary, ["f64", "f32"])


def test_estimators_of_different_networks_are_not_an_fnn_sweep():
    summary = summarize_capability(simulated())   # four networks, one FNN size
    with pytest.raises(ValueError, match="do not form an FNN-size sweep"):
        fnn_sweep(summary)
    assert "FNN-size sweep" not in format_capability_table(summary)


def test_rate_tables_and_mixed_tables_are_told_apart():
    rate = simulate_curves(0.6, replicates=2, seed=0)
    assert not is_capability(rate) and is_capability(simulated())
    with pytest.raises(ValueError, match="no capability rows"):
        summarize_capability(rate)
    with pytest.raises(ValueError, match="mixes 72 capability rows"):
        build_report(pd.concat([simulated(failed=False), rate]), "/nonexistent/r.pdf")


def test_report_has_a_title_page_and_one_accuracy_page_per_task(report):
    table, rep, texts = report
    assert rep.pages == ["Capability study: simcap", "Accuracy: copy", "Accuracy: recall"]
    assert len(texts) == 3
    everything = "\n".join(texts)
    for rate_word in ("Rate curves", "Convergence exponents", "exponent β", "Notes and cautions"):
        assert rate_word not in everything
    title = texts[0]
    assert "Parameter counts" in title and "no convergence rate" in title
    assert "input copying; vocab_size = 8; length swept over 4, 8, 16" in title
    # copy's parameter counts differ between its settings (8 per unit of length here)
    assert "10,280 to 10,376" in title and "10,248" in title and "17,736" in title
    assert "Training size 2000 sequences per cell" in title


def test_accuracy_pages_show_the_summary_numbers_and_captions(report):
    table, rep, texts = report
    copy, recall = texts[1], texts[2]
    summary = summarize_capability(table)
    for text, task in ((copy, "copy"), (recall, "recall")):
        for row in summary[summary["task"] == task].itertuples():
            cell = f"{row.accuracy:.2f} [{row.accuracy_low:.2f}, {row.accuracy_high:.2f}]"
            assert cell in text, (task, row.estimator, cell)
    assert "Token accuracy against length" in copy and "exact match (whole sequence right)" in copy
    assert "0.95 Student-t intervals over replicates" in copy
    assert "chance (1 / vocabulary)" in copy
    assert "ssm1: 1 cell(s) failed at length = 16: RuntimeError: boom" in copy
    # optimisation-limited cells are starred and named; the parameter panel is drawn
    limited = summary[summary["limited"] & (summary["task"] == "recall")]
    assert len(limited) and all(f"{r.accuracy:.2f} [{r.accuracy_low:.2f}, "
                                f"{r.accuracy_high:.2f}]*" in recall for r in limited.itertuples())
    assert "n_pairs = 8: optimisation-limited (transformer: not fitted; ssm1: not fitted " \
        "(cap)" in recall
    assert "train acc at 8" in recall and "Hollow markers" in recall
    fitted = summary[~summary["limited"] & (summary["task"] == "recall")].iloc[0]
    assert f"{fitted.accuracy:.2f} [{fitted.accuracy_low:.2f}, {fitted.accuracy_high:.2f}]*" \
        not in recall
    axes = capability_pages.task_page(rep.data, "recall").axes
    assert [a.get_xlabel() for a in axes] == ["n_pairs", "parameters (n_pairs = 8)"]
    drawn = np.concatenate([c.lines[0].get_xdata() for c in axes[1].containers])
    assert set(drawn) == {PARAMS[e] for e in CLASSES}        # one point per estimator at 8
    # recall scores one token per sequence: exact match is accuracy, one panel
    assert "token accuracy (= exact match)" in recall
    assert "Exact match equals token accuracy here" in recall
    assert "exact match (whole sequence right)" not in recall


def test_estimators_keep_their_colours_ssms_first(report):
    _, rep, _ = report
    order = order_estimators(list(CLASSES), CLASSES)
    assert order == ["ssm1", "ssm2", "selective", "transformer"]
    assert rep.data.estimators == order
    assert rep.data.styles == estimator_styles(order)


def test_nprates_report_on_a_capability_directory(tmp_path, capsys):
    out = tmp_path / "results"
    (out / CELLS_DIR).mkdir(parents=True)
    (out / "study.toml").write_text(dump_toml(STUDY))
    for row in simulated(failed=False).to_dict("records"):
        write_cell(out / CELLS_DIR, row)
    assert main(["report", str(out), "-o", str(tmp_path / "cap.pdf")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"report written to {tmp_path / 'cap.pdf'} (3 pages: "
                              f"capability study, accuracy)")
    texts = pdf_pages(tmp_path / "cap.pdf")
    assert "A simulated capability study for the report tests." in texts[0]
