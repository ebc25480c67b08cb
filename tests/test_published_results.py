"""The published CPU study (docs/results.md): its cells are the study in
examples/results.toml, complete, and the page quotes them as they are."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from nprates.analysis import fit_rate, read_results_dir
from nprates.studies.seeds import draw_slot
from nprates.studies.spec import Study

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "published"
NEURAL = ("ssm", "transformer", "mlp")


@pytest.fixture(scope="module")
def study() -> Study:
    return Study.from_toml(ROOT / "examples" / "results.toml")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return read_results_dir(RESULTS)


def test_the_results_are_the_published_spec(study):
    assert Study.from_toml(RESULTS / "study.toml") == study
    # the design: three classes, SSM, Transformer, oracle and a static baseline,
    # two decades of n, at least 5 replicates and 3 draws
    assert set(study.targets) == {"mixed", "anisotropic", "selection"}
    assert set(study.estimators) == {"ssm", "transformer", "oracle", "mlp"}
    assert max(study.sizes) / min(study.sizes) >= 100
    assert study.replicates >= 5 and study.target_draws >= 3


def test_every_cell_is_present_and_is_the_cell_of_the_spec(study, table):
    expected = {study.cell_key(draw_slot(t, d), e, n, r)
                for t in study.targets for d in range(study.target_draws)
                for e in study.estimators for n in study.sizes
                for r in range(study.replicates)}
    keys = []
    for path in (RESULTS / "cells").glob("*.json"):
        keys.append(json.loads(path.read_text())["row"]["cell_key"])
    assert len(keys) == len(set(keys)) == len(expected) == 1260
    assert set(keys) == expected
    assert (table["status"] == "ok").all()


def test_caps_and_plateaus_leave_the_fits_clean(table):
    neural = table[table["estimator"].isin(NEURAL)]
    assert (neural["stopped_by"] == "cap").mean() < 0.10
    for (target, estimator), _ in table.groupby(["target", "estimator"]):
        try:
            fit = fit_rate(table, estimator=estimator, target=target)
        except ValueError:
            continue  # no fit: docs/results.md says why
        if fit.excluded_sizes:
            assert max(fit.excluded_sizes) < min(fit.sizes), (target, estimator)


def build_results():
    spec = importlib.util.spec_from_file_location("build_results",
                                                  ROOT / "docs" / "build_results.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    return build


def test_the_page_quotes_the_cells_and_the_readme_links_it():
    build = build_results()
    assert build.main(["--check"]) == 0
    page = (ROOT / "docs" / "results.md").read_text()
    for figure in ("results-rates.png", "results-exponents.png"):
        assert f"({figure})" in page and (ROOT / "docs" / figure).stat().st_size > 10_000
    assert (ROOT / "docs" / "results.pdf").read_bytes()[:5] == b"%PDF-"
    assert "docs/results.md" in (ROOT / "README.md").read_text()


def test_the_report_title_page_has_no_overlapping_text(tmp_path):
    """The published study's long estimator settings push the exponent table down: it
    shows the rows that fit above the caption and says where the rest are."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from nprates.reports import build_report
    from nprates.reports.pages import title

    report = build_report(RESULTS, tmp_path / "r.pdf", sections=["title"], n_boot=200)
    fig = title.page(report.data, date="2026-01-01")[0]
    renderer = FigureCanvasAgg(fig).get_renderer()
    boxes = [(t.get_window_extent(renderer), t.get_text()) for t in fig.texts
             if t.get_text().strip()]
    clashes = [(a[1][:30], b[1][:30]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if a[0].overlaps(b[0])]
    assert clashes == []
    text = " ".join(t for _, t in boxes)
    assert "SSMRegressor (width=rate(c=4, min=12, max=64, multiple=4)" in text
    assert "on the exponent page" in text  # 12 rows do not fit under these settings


@pytest.mark.parametrize("finished", [False, True])
def test_a_decisive_block_quotes_why_there_is_no_comparison(monkeypatch, finished):
    """A study whose sizes leave no common range: the block quotes the command's reason
    and asks --partial only of an unfinished study; a finished one is followed by the
    declared secondary analysis (--keep-plateau), labelled as not the verdict."""
    build = build_results()
    asked = []

    def compare(*argv):
        asked.append(argv)
        if "--keep-plateau" in argv:
            return "paired slope over n = 689, 1485, 3200\n"
        print("nprates compare: error: a common range needs >= 3 sizes", file=sys.stderr)
        raise RuntimeError("exited with 2")

    monkeypatch.setattr(build, "complete", lambda where: finished)
    monkeypatch.setattr(build, "cli_output", compare)
    block = build.decisive_block(ROOT / "results" / "decisive2")
    argv = ("compare", "results/decisive2", "ssm", "transformer")
    reason = "```text\nerror: a common range needs >= 3 sizes\n```"
    if finished:
        assert asked == [argv, argv + ("--keep-plateau",)]
        assert block.startswith("No comparison by the study's rule: the study is complete")
        first, second = block.split("The secondary analysis declared")
        assert first.rstrip().endswith(reason) and "(not the verdict)" in second
        assert second.endswith("```text\npaired slope over n = 689, 1485, 3200\n```")
    else:
        assert asked == [argv + ("--partial",)]
        assert block.startswith("No comparison yet:") and block.endswith(reason)


@pytest.mark.parametrize("finished", [False, True])
def test_a_decisive_block_adds_the_secondary_analysis_for_the_class_it_could_not_compare(
        monkeypatch, finished):
    """One class compared, the other not: an unfinished study's block is the command's
    output as it is; a finished one's adds, for the class left out only, the declared
    --keep-plateau analysis (asked with --target), labelled as not the verdict."""
    build = build_results()
    asked = []
    compared = ("Target: anisotropic ... Verdict: inconclusive\n\n"
                "mixed: no comparison: a common range needs >= 3 sizes\n")

    def compare(*argv):
        asked.append(argv)
        return "mixed, plateau kept: difference +0.05\n" if "--keep-plateau" in argv else compared

    monkeypatch.setattr(build, "complete", lambda where: finished)
    monkeypatch.setattr(build, "cli_output", compare)
    block = build.decisive_block(ROOT / "results" / "decisive2")
    argv = ("compare", "results/decisive2", "ssm", "transformer")
    if not finished:
        assert asked == [argv + ("--partial",)]
        assert block == build.text_block(compared)
        return
    assert asked == [argv, argv + ("--target", "mixed", "--keep-plateau")]
    first, second = block.split("The secondary analysis declared")
    assert first.startswith(build.text_block(compared))
    assert "No comparison by the study's rule on mixed: the study is complete" in first
    assert "--target mixed --keep-plateau" in second and "(not the verdict)" in second
    assert second.endswith("```text\nmixed, plateau kept: difference +0.05\n```")


def test_the_plan_block_plans_from_the_study_itself_or_quotes_why_not(monkeypatch):
    """The plan block asks ``nprates plan`` with the study's own file and cells as the
    pilot, and quotes the output; when no class can be compared, it quotes the reason."""
    build = build_results()
    asked, fails = [], []

    def plan(*argv):
        asked.append(argv)
        if fails:
            print("nprates plan: error: no target has a common range", file=sys.stderr)
            raise RuntimeError("exited with 2")
        return "design: 94 target draws x 1 replicate(s)\n"

    monkeypatch.setattr(build, "cli_output", plan)
    where = ROOT / "results" / "decisive2"
    block = build.plan_block(where)
    assert asked == [("plan", "results/decisive2/study.toml", "--compare", "ssm",
                      "transformer", "--pilot", "results/decisive2")]
    assert block == "```text\ndesign: 94 target draws x 1 replicate(s)\n```"
    fails.append(True)
    block = build.plan_block(where)
    assert block.startswith("No plan: `nprates plan results/decisive2/study.toml")
    assert block.endswith("```text\nerror: no target has a common range\n```")


def _decisive_like(seed: int = 10):
    """Simulated cells of a two-class study: on 'aniso' both networks are off the plateau
    at n = 100, 200, 400, 800; on 'mixed' the Transformer's n = 100 is on it (risk 0.9 of
    the null risk), leaving a common range of 2 sizes of its 3."""
    from nprates.analysis import simulate_curves

    kw = dict(replicates=1, noise=0.3, draws=6, draw_sd=0.15, scale=0.05)
    aniso = simulate_curves({"ssm": 0.6, "transformer": 0.6, "oracle": 0.7},
                            sizes=[100, 200, 400, 800], seed=seed, target="aniso", **kw)
    mixed = simulate_curves({"ssm": 0.6, "transformer": 0.6, "oracle": 0.7},
                            sizes=[100, 400, 1600], seed=seed + 1, target="mixed", **kw)
    t = pd.concat([aniso, mixed], ignore_index=True).assign(null_risk=1.0)
    t.loc[(t["target"] == "mixed") & (t["estimator"] == "transformer") & (t["n"] == 100),
          "risk"] = 0.9
    t["fit_seconds"] = t["n"] / 100.0
    return t


def test_the_lead_states_each_class_verdict_as_compare_measures_it():
    """The lead's sentence per class carries compare_rates' class difference and interval,
    its verdict and the power the design had from plan_comparison; the class with no common
    range gets the reason and the --keep-plateau analysis, labelled not the verdict; an
    unfinished study's lead is labelled interim."""
    from nprates.analysis import compare_rates
    from nprates.analysis.planning import plan_comparison

    build = build_results()
    t = _decisive_like()
    text = build.lead_text(t, ["ssm", "transformer", "oracle"])
    assert text.startswith("The decisive study's answer, on the complete study:")
    aniso, mixed = text.split("\n")[2:]
    c = compare_rates(t, "ssm", "transformer", margin=0.1, target="aniso")
    lo, hi = c.estimands["class"]["ci"]
    assert c.status == "inconclusive"  # this seed: 6 draws cannot decide at margin 0.1
    assert aniso.startswith(f"- **aniso**: the SSM's exponent minus the Transformer's is "
                            f"{c.difference:+.3f} over n = 100, 200, 400, 800, 95% class "
                            f"interval [{lo:+.3f}, {hi:+.3f}] (draws random: t over 6 "
                            f"per-draw estimates, 5 df): **inconclusive**")
    plan = plan_comparison(t, "ssm", "transformer", estimators=["ssm", "transformer", "oracle"],
                           skip_uncomparable=True)
    power = plan.pilot_design.set_index("target").loc["aniso", "power"]
    assert f"(6 draws x 1 replicate) had TOST power {power:.2f}" in aniso
    assert f"{plan.draws} draws x 1 replicate would reach 80%" in aniso and plan.draws > 6
    assert mixed.startswith("- **mixed**: no comparison by the study's rule. Sizes compared: "
                            "n = 400, 1600")
    assert "transformer is on the plateau at n = 100" in mixed and "keep_plateau" not in mixed
    kept = compare_rates(t, "ssm", "transformer", margin=0.1, target="mixed", keep_plateau=True)
    assert (f"(not the verdict): {kept.difference:+.3f} over n = 100, 400, 1600" in mixed)
    # clean at 400 and 1600; the grid (x4) continued gives 6400, at n / 100 s per cell for
    # each of 3 estimators and 6 functions: 6 * 3 * 64 s = 0.32 CPU h
    assert mixed.endswith("Its clean sizes (neither network on the plateau nor "
                          "optimisation-limited) are n = 400, 1600; the study's grid continued "
                          "above n = 1600 would add n = 6400 for a common range of 3, if both "
                          "networks are clean there. Adding it to the same 6 functions would "
                          "cost about 0.3 CPU h (the cost per cell extrapolated beyond "
                          "n = 1600); its power cannot be predicted from cells that stop at "
                          "n = 1600.")
    # no class to plan from: the lead still states the class without a power sentence
    only = build.lead_text(t[t["target"] == "mixed"], ["ssm", "transformer", "oracle"])
    assert only.split("\n")[2] == mixed
    # two sizes: the secondary analysis cannot be made either, and the lead says so
    two = t[(t["target"] == "mixed") & (t["n"] < 1600)]
    line = build.lead_text(two, ["ssm", "transformer", "oracle"]).split("\n")[2]
    assert "(not the verdict): none can be made either (" in line
    assert "are n = 400; the study's grid continued above n = 400 would add n = 1600, 6400" in line
    interim = build.lead_text(t.iloc[:-3], ["ssm", "transformer", "oracle"], "57 of 60 cells")
    assert interim.startswith("**Interim, not the verdict** (57 of 60 cells have finished")


def test_the_cost_block_projects_an_unfinished_study_and_states_a_finished_ones_cost():
    """Unfinished: the CPU-hours spent and the cost projected from the (class, function)
    units finished whole; finished: what the study cost, and no projection."""
    from types import SimpleNamespace

    build = build_results()
    t = _decisive_like()
    t = t[t["target"] == "aniso"].assign(fit_seconds=lambda d: d["n"] * 1.2)
    study = SimpleNamespace(targets=["aniso"], target_draws=6, sizes=[100, 200, 400, 800],
                            estimators=["ssm", "transformer", "oracle"])
    done = build.study_cost(t, study, label="estimator")
    assert done.split("\n")[2] == "| ssm | 120 | 240 | 480 | 960 | 24 | 3.00 |"
    assert done.endswith("\n\nAll 72 cells have finished: 9.00 CPU-hours of fit time, "
                         "1.50 CPU-hours per (class, function).")
    last = t[(t["draw"] == t["draw"].max()) & (t["n"] == 800)].index
    partial = build.study_cost(t.drop(last), study, label="estimator")
    assert partial.endswith("\n\n69 of 72 cells have finished, 8.20 CPU-hours of fit time. "
                            "The 5 (class, function) units finished whole cost 1.50 CPU-hours "
                            "each on average, so the 6 units of the study take about 9.0 "
                            "CPU-hours at that pace.")
