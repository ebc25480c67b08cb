"""Refresh what docs/results.md quotes from the committed studies, without retraining.

    python docs/build_results.py            # rewrite the quoted blocks, the PNGs, the PDF
    python docs/build_results.py --check    # exit 1 if a quoted block is out of date

docs/results.md is prose written by hand around blocks that this script writes: each sits
between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``. The ``fit`` and ``compare``
blocks are the verbatim output of ``nprates fit results/published`` and ``nprates compare
results/published ssm transformer``; the other blocks are tables computed here from the
same results directory with the same fits. The ``decisive`` and ``decisive2`` blocks are
``nprates compare results/decisive ssm transformer`` and the same of results/decisive2
(with ``--partial`` while cells are missing), ``decisive2cost`` the fit seconds and
CPU-hours of results/decisive2 (so far with its projected total; once complete, what it
cost), ``decisive2plan`` ``nprates
plan`` with results/decisive2 as its pilot (the power the study's design had and the design
that would decide), ``decisive2lead`` the page's lead: the same comparison and power per
class in a sentence each (labelled interim while cells are missing), and the ``freshrecovery``
block the recovery table of results/recovery. It
also refreshes docs/zoo.md's blocks from results/zoo: ``zoofit``, the verbatim ``nprates
fit results/zoo`` (``--partial`` while cells are missing), ``zootable``, each family's
exponent, verdict and risk against the Transformer's at the largest n, and ``zoocost``,
the measured fit seconds. The figures (docs/results-*.png, docs/zoo-rates.png) are drawn
by the functions the PDF report uses, and docs/results.pdf is ``nprates report
results/published -o docs/results.pdf``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from nprates.analysis import (InsufficientData, compare_rates, fit_all, fit_rate, read_results_dir,
                              risk_ratios)
from nprates.analysis.layout import layout
from nprates.analysis.recovery import half_way_n, recovery_by_size
from nprates.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "published"
DECISIVE = ROOT / "results" / "decisive"
DECISIVE2 = ROOT / "results" / "decisive2"
RECOVERY = ROOT / "results" / "recovery"
ZOO = ROOT / "results" / "zoo"
DOC = ROOT / "docs" / "results.md"
ZOO_DOC = ROOT / "docs" / "zoo.md"
ZOO_REFERENCE = "transformer"
NEURAL = ("ssm", "transformer", "mlp")
BASELINE = "mlp"


def cli_output(*argv: str) -> str:
    """What ``nprates ARGV``, run in the repository's root, prints on stdout (it must
    exit 0)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), working_directory(ROOT):
        status = cli(list(argv))
    if status != 0:
        raise RuntimeError(f"nprates {' '.join(argv)} exited with {status}")
    return out.getvalue()


@contextlib.contextmanager
def working_directory(path: Path):
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def text_block(text: str) -> str:
    return "```text\n" + text.rstrip("\n") + "\n```"


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def fits(table: pd.DataFrame) -> dict:
    """(target, estimator) -> RateFit, or the reason there is none (the defaults of
    ``nprates fit``)."""
    out = {}
    for (target, estimator), _ in table.groupby(["target", "estimator"], sort=True):
        try:
            out[target, estimator] = fit_rate(table, estimator=estimator, target=target)
        except ValueError as exc:
            out[target, estimator] = str(exc)
    return out


def draws_block(table: pd.DataFrame, fitted: dict) -> str:
    """The exponent of each target draw fitted on its own, beside the class exponent."""
    draws = sorted(int(d) for d in table["draw"].unique())
    head = ("| target | estimator | " + " | ".join(f"draw {d}" for d in draws)
            + " | class exponent [95% CI] | theory |")
    lines = [head, "|" + "---|" * (4 + len(draws))]
    for (target, estimator), fit in fitted.items():
        if isinstance(fit, str):
            cells = ["no fit"] * len(draws) + ["no fit (see the fit table's warnings)", "-"]
        else:
            per = fit.draw_exponents.set_index("draw")["exponent"]
            cells = [f"{per[d]:.3f}" if d in per.index and np.isfinite(per[d]) else "-"
                     for d in draws]
            cells += [f"{fit.exponent:.3f} [{fit.ci[0]:.3f}, {fit.ci[1]:.3f}]",
                      f"{fit.theory_exponent:.3f}"]
        lines.append(f"| {target} | {estimator} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cells_block(table: pd.DataFrame, fitted: dict) -> str:
    """Per (target, estimator): finished cells, cells at the epoch cap, plateau sizes left
    out, the sizes fitted and the compute spent."""
    lines = ["| target | estimator | cells ok / all | at the cap | plateau sizes (left out) "
             "| sizes fitted | compute (CPU h) |", "|---|---|---|---|---|---|---|"]
    for (target, estimator), rows in table.groupby(["target", "estimator"], sort=True):
        ok = int((rows["status"] == "ok").sum())
        stopped = rows["stopped_by"].fillna("").astype(str)
        cap = (f"{int((stopped == 'cap').sum())} ({(stopped == 'cap').mean():.0%})"
               if (stopped != "").any() else "-")
        lay = layout(table, target, [estimator], keep_plateau=True, rate=False)
        plateau = [int(n) for n in lay.sizes[lay.plateau[0]]]  # the fits' own rule
        fit = fitted[target, estimator]
        sizes = "none (fewer than 3 left)" if isinstance(fit, str) else \
            f"{min(fit.sizes)} ... {max(fit.sizes)} ({len(fit.sizes)})"
        hours = rows["fit_seconds"].sum() / 3600
        lines.append(f"| {target} | {estimator} | {ok} / {len(rows)} | {cap} | "
                     f"{', '.join(map(str, plateau)) or 'none'} | {sizes} | {hours:.2f} |")
    return "\n".join(lines)


def baseline_block(table: pd.DataFrame) -> str:
    """The static baseline's risk against each sequence model's at the largest n
    (``risk_ratios``: paired by draw and replicate), over all draws and per draw."""
    n = int(table["n"].max())
    lines = [f"| target | {BASELINE} against | ratio of risks {BASELINE} / other at n = {n} "
             "[95% CI] | pairs | ratio per draw |", "|---|---|---|---|---|"]
    for target in sorted(table["target"].unique()):
        for other in ("ssm", "transformer"):
            row = risk_ratios(table, BASELINE, other, target=target).set_index("n").loc[n]
            per = []
            for d in sorted(table["draw"].unique()):
                one = risk_ratios(table[table["draw"] == d], BASELINE, other,
                                  target=target).set_index("n")["ratio"]
                per.append(f"{one[n]:.2f}" if n in one.index else "-")
            lines.append(f"| {target} | {other} | {row['ratio']:.2f} [{row['ci_low']:.2f}, "
                         f"{row['ci_high']:.2f}] | {int(row['n_pairs'])} | {', '.join(per)} |")
    return "\n".join(lines)


def slopes_block(table: pd.DataFrame, fitted: dict) -> str:
    """Local exponents between consecutive fitted sizes, with their 95% intervals, for
    every fit: where along n the fitted exponent comes from."""
    sizes = sorted(int(n) for n in table["n"].unique())
    steps = list(zip(sizes, sizes[1:]))
    lines = ["| target | estimator | " + " | ".join(f"{a} to {b}" for a, b in steps) + " |",
             "|---|---|" + "---|" * len(steps)]
    for (target, estimator), fit in fitted.items():
        if isinstance(fit, str):
            continue
        local = {(int(r.n_low), int(r.n_high)): r for r in fit.local_slopes.itertuples()}
        cells = [f"{local[s].exponent:.2f} [{local[s].ci_low:.2f}, {local[s].ci_high:.2f}]"
                 if s in local else "-" for s in steps]
        lines.append(f"| {target} | {estimator} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratios_block(table: pd.DataFrame) -> str:
    """The SSM's risk against the Transformer's at every n (``risk_ratios``: paired by draw
    and replicate), for every class, including those where a rate cannot be fitted."""
    sizes = sorted(int(n) for n in table["n"].unique())
    lines = ["| target | " + " | ".join(f"n = {n}" for n in sizes) + " |",
             "|---|" + "---|" * len(sizes)]
    for target in sorted(table["target"].unique()):
        ratios = risk_ratios(table, "ssm", "transformer", target=target).set_index("n")
        cells = [f"{ratios.at[n, 'ratio']:.2f} [{ratios.at[n, 'ci_low']:.2f}, "
                 f"{ratios.at[n, 'ci_high']:.2f}]" if n in ratios.index else "-" for n in sizes]
        lines.append(f"| {target} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ci(e: dict) -> str:
    """An estimand as ``estimate [low, high]`` (3 decimals)."""
    return f"{e['estimate']:+.3f} [{e['ci'][0]:+.3f}, {e['ci'][1]:+.3f}]"


def estimands_block(table: pd.DataFrame) -> str:
    """SSM minus Transformer exponent per class on the common off-plateau range: both
    estimands and the heterogeneity test across draws (``compare_rates``)."""
    lines = ["| target | sizes compared | difference, class (draws random) [95% CI] | "
             "difference, given the draws [95% CI] | equal across draws: F, p |",
             "|---|---|---|---|---|"]
    for target in sorted(table["target"].unique()):
        try:
            c = compare_rates(table, "ssm", "transformer", target=target)
        except InsufficientData:
            lines.append(f"| {target} | none (no 3 sizes where both are off the plateau) "
                         f"| - | - | - |")
            continue
        h = c.variance["heterogeneity"]
        lines.append(f"| {target} | {', '.join(map(str, c.sizes))} | {ci(c.estimands['class'])} "
                     f"| {ci(c.estimands['conditional'])} | F = {h['F']:.2f} on "
                     f"({h['df1']:.0f}, {h['df2']:.1f}) df, p = {h['p_value']:.3f} |")
    return "\n".join(lines)


def plateau_block(table: pd.DataFrame) -> str:
    """Plateau sizes per fit under the old rule (most cells at or above half the null risk)
    and under the fits' rule (``nprates.analysis.layout``), and the sizes the new rule
    drops from each fit."""
    lines = ["| target | estimator | plateau, old rule (risk >= 0.5 null) | plateau, rule of "
             "the fits | sizes the rule now drops |", "|---|---|---|---|---|"]
    ok = table[table["status"] == "ok"]
    for (target, estimator), rows in ok.groupby(["target", "estimator"], sort=True):
        share = rows.groupby("n")["trivial"].mean()
        old = [int(n) for n, v in share.items() if v > 0.5]
        lay = layout(table, target, [estimator], keep_plateau=True, rate=False)
        new = [int(n) for n in lay.sizes[lay.plateau[0]]]
        dropped = [n for n in new if n not in old]
        lines.append(f"| {target} | {estimator} | {', '.join(map(str, old)) or 'none'} | "
                     f"{', '.join(map(str, new)) or 'none'} | "
                     f"{', '.join(map(str, dropped)) or 'none'} |")
    return "\n".join(lines)


def levels_block(table: pd.DataFrame) -> str:
    """The median risk as a fraction of the risk of predicting the mean (``null_risk``), per
    target, estimator and n: near 1 is the trivial plateau, which a rate fit leaves out."""
    level = table.assign(level=table["risk"] / table["null_risk"])
    median = level.pivot_table(index=["target", "estimator"], columns="n", values="level",
                               aggfunc="median")
    lines = ["| target | estimator | " + " | ".join(f"n = {n}" for n in median.columns) + " |",
             "|---|---|" + "---|" * len(median.columns)]
    for (target, estimator), row in median.iterrows():
        lines.append(f"| {target} | {estimator} | " + " | ".join(f"{v:.3f}" for v in row) + " |")
    return "\n".join(lines)


def compute_block(table: pd.DataFrame) -> str:
    """Compute spent per estimator: the sum of the cells' fit times, each cell trained on
    one thread (a batched task's time is shared among its replicates)."""
    lines = ["| estimator | cells | compute (CPU h) | median seconds per cell at the largest n |",
             "|---|---|---|---|"]
    top = table["n"].max()
    for estimator, rows in table.groupby("estimator", sort=True):
        at_top = rows.loc[rows["n"] == top, "fit_seconds"].median()
        lines.append(f"| {estimator} | {len(rows)} | {rows['fit_seconds'].sum() / 3600:.2f} "
                     f"| {at_top:.1f} |")
    lines.append(f"| all | {len(table)} | {table['fit_seconds'].sum() / 3600:.2f} | |")
    return "\n".join(lines)


def recovery_block(table: pd.DataFrame, empty: str) -> str:
    """Selection recovery against n of the piecewise cells that carry it, beside the risk
    as a fraction of the trivial risk and the optimisation gap (training MSE minus the
    noise variance) as a fraction of the risk (near 1: the fit is as far from the target on
    its training data as on new data, so the plateau is not overfitting); per network, the sizes covered, the first n whose
    mean rank-1 recovery is half-way between chance and 1, and the first n past the
    trivial plateau (the fits' own rule). ``empty``: the text when no cell carries it."""
    by_size = recovery_by_size(table)
    if not len(by_size):
        return empty
    lines = ["| target | estimator | n | cells | risk / trivial risk | optimisation gap / risk "
             "| rank 1 [95% interval] | top-K recall | mass | chance (rank 1 / top-K / mass) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for r in by_size.itertuples():
        rows = table[(table.target == r.target) & (table.estimator == r.estimator)
                     & (table.n == r.n) & table.recovery_top1.notna()]
        level = float((rows.risk / rows.null_risk).median())
        gap = float((rows.opt_gap / rows.risk).median())
        lines.append(f"| {r.target} | {r.estimator} | {r.n} | {r.cells} | {level:.3f} | "
                     f"{gap:.2f} | "
                     f"{r.top1:.3f} [{r.top1_low:.3f}, {r.top1_high:.3f}] | {r.topk:.3f} | "
                     f"{r.mass:.3f} | {r.top1_chance:.3f} / {r.topk_chance:.3f} / "
                     f"{r.mass_chance:.3f} |")
    for (target, estimator), rows in by_size.groupby(["target", "estimator"], sort=True):
        covered = [int(n) for n in rows.n]
        total = int(((table.target == target) & (table.estimator == estimator)).sum())
        half = half_way_n(by_size, target, estimator)
        lay = layout(table, target, [estimator], keep_plateau=True, rate=False)
        plateau = [int(n) for n in lay.sizes[lay.plateau[0]]]
        past = [int(n) for n in lay.sizes if not plateau or n > max(plateau)]
        notes.append(f"- {target} / {estimator}: recovery on {int(rows.cells.sum())} of "
                     f"{total} cells, sizes {', '.join(map(str, covered))}; half-way "
                     + (f"first reached at n = {half:g}" if half == half else
                        f"not reached at the sizes covered (up to n = {max(covered)})")
                     + "; the risk leaves the trivial plateau at "
                     + (f"n = {past[0]}" if past else "no size of the study") + ".")
    return "\n".join(lines + [""] + notes)


def blocks() -> dict:
    """Every quoted block of docs/results.md, by name."""
    table = read_results_dir(RESULTS)
    fitted = fits(table)
    where = relative(RESULTS)
    return {
        "fit": text_block(cli_output("fit", where)),
        "compare": text_block(cli_output("compare", where, "ssm", "transformer")),
        "estimands": estimands_block(table),
        "plateau": plateau_block(table),
        "draws": draws_block(table, fitted),
        "slopes": slopes_block(table, fitted),
        "cells": cells_block(table, fitted),
        "baseline": baseline_block(table),
        "ratios": ratios_block(table),
        "levels": levels_block(table),
        "compute": compute_block(table),
        "recovery": recovery_block(table, "No published cell carries selection recovery yet."),
        "freshrecovery": recovery_block(read_results_dir(RECOVERY),
                                        "No cell of results/recovery has finished yet."),
        "decisive": decisive_block(DECISIVE),
        "decisive2": decisive_block(DECISIVE2),
        "decisive2cost": cost_block(DECISIVE2),
        "decisive2plan": plan_block(DECISIVE2),
        "decisive2lead": lead_block(DECISIVE2),
    }


def has_cells(where: Path) -> bool:
    """Has some cell of the results directory ``where`` finished? (Its cell files are
    counted, not read.)"""
    return (where / "cells").is_dir() and any((where / "cells").glob("*.json"))


def quoted(*argv: str):
    """``(block, None)``: what ``nprates ARGV`` prints, as a text block; where it exits
    non-zero, ``(None, reason)``: its error lines without the ``nprates CMD: `` prefix, as a
    text block."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            return text_block(cli_output(*argv)), None
        except RuntimeError:
            pass
    prefix = f"nprates {argv[0]}: "
    return None, text_block("\n".join(line.removeprefix(prefix)
                                      for line in err.getvalue().splitlines()))


def decisive_block(where: Path) -> str:
    """``nprates compare WHERE ssm transformer``, with ``--partial`` while cells are missing.

    Where the command finds nothing it can compare, the block quotes its reason instead.
    Once the study is complete, every class the command could not compare ("no
    comparison", or the whole command's reason) is followed by the secondary analysis
    declared for that case: the same command with ``--keep-plateau`` (with ``--target``
    where other classes were compared). Before the first cell, a line saying so."""
    if not has_cells(where):
        return f"No cell of {relative(where)} has finished yet."
    finished = complete(where)
    argv = ["compare", relative(where), "ssm", "transformer", *([] if finished else ["--partial"])]
    block, reason = quoted(*argv)
    command = f"`nprates {' '.join(argv)}`"
    if not finished:
        return block if block is not None else f"No comparison yet: {command} says\n\n" + reason
    if block is None:
        head = f"No comparison by the study's rule: the study is complete, and {command} says\n\n"
        head, secondaries = head + reason, [[*argv, "--keep-plateau"]]
    else:
        undecided = re.findall(r"^(\S+): no comparison:", block, flags=re.MULTILINE)
        if not undecided:
            return block
        head = block + (f"\n\nNo comparison by the study's rule on {', '.join(undecided)}: "
                        f"the study is complete, and {command} gives the reason above.")
        secondaries = [[*argv, "--target", t, "--keep-plateau"] for t in undecided]
    for secondary in secondaries:
        with contextlib.redirect_stderr(io.StringIO()):
            kept = text_block(cli_output(*secondary))
        head += (f"\n\nThe secondary analysis declared before the study finished, `nprates "
                 f"{' '.join(secondary)}`, which also compares sizes the rule calls plateau or "
                 f"optimisation-limited (not the verdict):\n\n" + kept)
    return head


def plan_block(where: Path) -> str:
    """``nprates plan WHERE/study.toml --compare ssm transformer --pilot WHERE``: for each
    class the study can compare, the power its own design had under the variance components
    it measured and the design that would reach the default goal; where it can compare no
    class, the command's reason. Before the first cell, a line saying so."""
    if not has_cells(where):
        return f"No cell of {relative(where)} has finished yet."
    argv = ["plan", relative(where / "study.toml"), "--compare", "ssm", "transformer",
            "--pilot", relative(where)]
    block, reason = quoted(*argv)
    return block if block is not None else f"No plan: `nprates {' '.join(argv)}` says\n\n" + reason


def verdict_words(c) -> str:
    """The verdict of the comparison ``c`` in the page's words, with its test's p-value."""
    reason = f" ({c.reason})" if c.reason else ""
    if c.status == "comparable":
        return (f"**equal within +-{c.margin:g}**{reason} (equivalence shown: TOST "
                f"p = {c.p_equivalence:.3g})")
    if c.status == "different":
        return (f"**different**{reason} (equal exponents rejected, p = {c.p_value:.3g}; the "
                f"{c.faster}'s is the larger)")
    return (f"**inconclusive**{reason}: neither shown equal within +-{c.margin:g} (TOST "
            f"p = {c.p_equivalence:.3g}) nor shown different (p = {c.p_value:.3g})")


def replicates(r: int) -> str:
    """``r`` replicate(s), in words."""
    return f"{r} replicate{'s' if r != 1 else ''}"


def difference_words(c) -> str:
    """The class estimand of ``c``'s difference: estimate, interval, sizes, draws."""
    e = c.estimands["class"]
    draws = int(round(e["df"])) + 1
    return (f"{c.difference:+.3f} over n = {', '.join(str(int(n)) for n in c.sizes)}, "
            f"{c.level:.0%} class interval [{e['ci'][0]:+.3f}, {e['ci'][1]:+.3f}] (draws "
            f"random: t over {draws} per-draw estimates, {draws - 1} df)")


def extension_words(table: pd.DataFrame, target: str, estimators) -> str:
    """What would give the SSM and the Transformer a common range of 3 sizes on ``target``:
    its clean sizes (neither on the plateau nor optimisation-limited, by the fits' rule),
    the sizes the study's geometric grid would add above its largest, and what adding them
    to the same functions costs by ``CostModel`` (extrapolated beyond the measured sizes)."""
    from nprates.analysis.planning import CostModel

    lay = layout(table, target, ["ssm", "transformer"], keep_plateau=True, rate=False)
    clean = [int(n) for n in lay.sizes[~lay.plateau.any(axis=0)]]
    if len(clean) >= 3:
        return ""
    top, ratio = float(lay.sizes[-1]), float(lay.sizes[-1] / lay.sizes[-2])
    more = [int(round(top * ratio ** (i + 1))) for i in range(3 - len(clean))]
    cost = CostModel.from_results(table[table["target"] == target], list(estimators))
    draws = table.loc[table["target"] == target, "draw"].nunique()
    hours = draws * sum(float(cost.seconds(e, more).sum()) for e in estimators) / 3600
    sizes = ", ".join(map(str, more))
    return (f"Its clean sizes (neither network on the plateau nor optimisation-limited) are "
            f"n = {', '.join(map(str, clean)) or 'none'}; the study's grid continued above "
            f"n = {int(top)} would add n = {sizes} for a common range of 3, if both networks "
            f"are clean there. Adding {'it' if len(more) == 1 else 'them'} to the same "
            f"{draws} functions would cost about {hours:.1f} CPU h (the cost per cell "
            f"extrapolated beyond n = {int(top)}); its power cannot be predicted from cells "
            f"that stop at n = {int(top)}.")


def lead_text(table: pd.DataFrame, estimators, state: str = "") -> str:
    """The decisive study's answer per class, in a sentence each, for the page's lead.

    table : its finished cells; estimators : those the study runs (the plan's cost);
    state : "" for the complete study, else what has finished ("504 of 774 cells"),
    which labels the text interim. Each class gets the common-range paired comparison of
    the SSM and the Transformer (class estimand, TOST at margin 0.1), as ``nprates
    compare`` gives it; an undecided one also the TOST power its design had and the
    design that would reach 80% (``plan_comparison`` on its own cells); a class with no
    common range the reason and the declared secondary analysis (``keep_plateau``)."""
    from nprates.analysis.planning import plan_comparison

    try:
        plan = plan_comparison(table, "ssm", "transformer", margin=0.1, power=0.8,
                               estimators=list(estimators), skip_uncomparable=True)
        had = plan.pilot_design.set_index("target")
    except InsufficientData:  # no class has a common range: nothing to plan
        plan, had = None, pd.DataFrame()
    lines = []
    for target in sorted(table["target"].unique()):
        try:
            c = compare_rates(table, "ssm", "transformer", margin=0.1, target=target)
        except InsufficientData as exc:
            why = re.sub(r"^.*? on target '[^']*': | \(keep_plateau=True.*\)$", "", str(exc))
            try:
                kept = compare_rates(table, "ssm", "transformer", margin=0.1, target=target,
                                     keep_plateau=True)
                secondary = f"{difference_words(kept)}; {verdict_words(kept)}."
            except InsufficientData as none:
                secondary = f"none can be made either ({none})."
            lines.append(f"- **{target}**: no comparison by the study's rule. {why}. The "
                         f"declared secondary analysis, which keeps the sizes the rule leaves "
                         f"out (not the verdict): {secondary} "
                         + extension_words(table, target, estimators))
            continue
        line = (f"- **{target}**: the SSM's exponent minus the Transformer's is "
                f"{difference_words(c)}: {verdict_words(c)}.")
        if c.status == "inconclusive" and target in had.index:
            own = had.loc[target]
            line += (f" At margin 0.1 this design ({int(own['draws'])} draws x "
                     f"{replicates(int(own['replicates']))}) had TOST power {own['power']:.2f} "
                     f"(class half-width {own['half_width']:.3f}), and "
                     + (f"{plan.draws} draws x {replicates(plan.replicates)} would reach 80% under the "
                        "variance it measured (its plan is in the next section)." if plan.reached else
                        "no design the plan tries reaches 80% (its plan is in the next section)."))
        lines.append(line)
    head = ("The decisive study's answer, on the complete study:" if not state else
            f"**Interim, not the verdict** ({state} have finished; the verdict is taken once, "
            "on the complete study):")
    return head + "\n\n" + "\n".join(lines)


def lead_block(where: Path) -> str:
    """``lead_text`` of the results directory ``where``; before its first cell, a line
    saying so."""
    found = finished_cells(where)
    if found is None:
        return f"No cell of {relative(where)} has finished yet."
    table, study = found
    finished = not table.attrs.get("incomplete")  # as complete(where), without a second read
    return lead_text(table, study.estimators,
                     "" if finished else f"{len(table)} of {cells_in(study)} cells")


def cells_in(study) -> int:
    """How many cells the study has: (class, function) units times estimators x sizes."""
    return len(study.targets) * study.target_draws * len(study.estimators) * len(study.sizes)


def finished_cells(where: Path):
    """``(table, study)``: the finished cells of the results directory ``where`` and its
    study; None before its first cell."""
    from nprates.studies import Study, load_results

    table = load_results(where) if (where / "study.toml").exists() else None
    if table is None or table.empty:
        return None
    return table, Study.from_toml(where / "study.toml")


def cost_block(where: Path) -> str:
    """``study_cost`` of the results directory ``where``; before its first cell, a line
    saying so."""
    found = finished_cells(where)
    if found is None:
        return f"No cell of {relative(where)} has finished yet."
    return study_cost(*found, label="estimator")


def zoo_blocks() -> dict:
    """Every quoted block of docs/zoo.md, by name: the verbatim ``nprates fit`` of
    results/zoo, the families' table and the cost table, the first two labelled interim
    while cells are missing; while no cell has finished, a line saying so."""
    from nprates.analysis.completeness import incomplete

    found = finished_cells(ZOO)
    if found is None:
        none = f"No cell of {relative(ZOO)} has finished yet."
        return {"zoofit": none, "zootable": none, "zoocost": none}
    table, study = found
    missing = incomplete(table)
    with contextlib.redirect_stderr(io.StringIO()):  # the partial-results warning
        fit_text = cli_output("fit", relative(ZOO), *(["--partial"] if missing else []))
    state = "" if not missing else (
        f"**Interim, not the study's result:** {missing.removeprefix('incomplete: ').split(';')[0]}.\n\n")
    return {"zoofit": state + text_block(fit_text), "zootable": state + zoo_table(table, study),
            "zoocost": study_cost(table, study)}


def study_cost(table: pd.DataFrame, study, label: str = "family") -> str:
    """Median fit seconds per estimator (``label`` heads their column) and n over the
    finished cells, the CPU-hours spent, and the whole study's cost projected from the
    functions whose cells have all finished (the mean cost of a (class, function) times
    the number of them); for a complete study, what it cost."""
    sizes = [int(n) for n in study.sizes]
    seconds = table.pivot_table(index="estimator", columns="n", values="fit_seconds",
                                aggfunc="median")
    lines = [f"| {label} | " + " | ".join(f"n = {n}" for n in sizes) + " | cells | CPU h |",
             "|---|" + "---|" * (len(sizes) + 2)]
    for estimator in study.estimators:
        if estimator not in seconds.index:
            continue
        cells = [f"{seconds.at[estimator, n]:.0f}" if n in seconds.columns
                 and np.isfinite(seconds.at[estimator, n]) else "-" for n in sizes]
        mine = table[table["estimator"] == estimator]
        lines.append(f"| {estimator} | " + " | ".join(cells)
                     + f" | {len(mine)} | {mine['fit_seconds'].sum() / 3600:.2f} |")
    per_unit = len(study.estimators) * len(sizes)
    units = table.groupby(["target", "draw"])["fit_seconds"].agg(["size", "sum"])
    whole = units[units["size"] == per_unit]
    total = len(study.targets) * study.target_draws
    spent = table["fit_seconds"].sum() / 3600
    if len(table) == cells_in(study):
        return "\n".join(lines) + (
            f"\n\nAll {len(table)} cells have finished: {spent:.2f} CPU-hours of fit time, "
            f"{spent / total:.2f} CPU-hours per (class, function).")
    text = (f"\n\n{len(table)} of {cells_in(study)} cells have finished, {spent:.2f} CPU-hours "
            "of fit time.")
    if len(whole):
        text += (f" The {len(whole)} (class, function) units finished whole cost "
                 f"{whole['sum'].mean() / 3600:.2f} CPU-hours each on average, so the "
                 f"{total} units of the study take about {whole['sum'].mean() * total / 3600:.1f} "
                 "CPU-hours at that pace.")
    return "\n".join(lines) + text


def zoo_table(table: pd.DataFrame, study) -> str:
    """Per class and family (the study's order): the exponent with its interval (class:
    draws random) and verdict from ``fit_all``, the sizes fitted, and at the largest n
    with cells the median risk over the null risk and the geometric-mean risk ratio to
    the Transformer's (``risk_ratios``: paired by draw, t interval over draws)."""
    order = list(study.estimators)
    fitted = fit_all(table).set_index(["target", "estimator"])
    lines = ["| class | family | exponent [95% CI] | verdict | sizes fitted | n | risk / null "
             f"| risk / {ZOO_REFERENCE}'s [95% CI] | functions |",
             "|---|---|---|---|---|---|---|---|---|"]
    for target in sorted(table["target"].unique()):
        rows = table[(table["target"] == target) & (table["status"] == "ok")]
        for estimator in [e for e in order if e in set(rows["estimator"])]:
            fit = fitted.loc[(target, estimator)]
            mine = rows[rows["estimator"] == estimator]
            n = int(mine["n"].max())
            level = (mine.loc[mine["n"] == n, "risk"] / mine.loc[mine["n"] == n, "null_risk"]).median()
            if np.isfinite(fit["exponent"]):
                exponent = f"{fit['exponent']:.3f} [{fit['ci_low']:.3f}, {fit['ci_high']:.3f}]"
                sizes = f"{fit['n_min']} ... {fit['n_max']} ({fit['n_sizes']})"
            else:
                lay = layout(table, target, [estimator], keep_plateau=True, rate=False)
                off = [str(int(n)) for n in lay.sizes[~lay.plateau[0]]]
                exponent = "-"
                sizes = f"off the plateau only at {', '.join(off)}" if off else "all on the plateau"
            ratio = "1 (reference)"
            if estimator != ZOO_REFERENCE:
                at = risk_ratios(table, estimator, ZOO_REFERENCE, target=target).set_index("n")
                if n not in at.index:
                    ratio = "-"
                elif np.isfinite(at.at[n, "ci_low"]):
                    ratio = f"{at.at[n, 'ratio']:.2f} [{at.at[n, 'ci_low']:.2f}, {at.at[n, 'ci_high']:.2f}]"
                else:
                    ratio = f"{at.at[n, 'ratio']:.2f} (one function: no interval)"
            lines.append(f"| {target} | {estimator} | {exponent} | {fit['verdict']} | {sizes} | {n} "
                         f"| {level:.3f} | {ratio} | {mine.loc[mine['n'] == n, 'draw'].nunique()} |")
    return "\n".join(lines)


def complete(path: Path) -> bool:
    """Whether every cell of the study in ``path`` has finished (and no run holds it)."""
    from nprates.studies import load_results

    return not load_results(path).attrs.get("incomplete")


BLOCK = re.compile(r"(<!-- begin (?P<name>[a-z0-9]+) -->\n)(?P<body>(?:.*?\n)?)(<!-- end (?P=name) -->)",
                   re.S)


def refreshed(doc: str, new: dict, where: str = "docs/results.md") -> str:
    """``doc`` with every block replaced by its new text (each block must exist)."""
    missing = set(new) - set(m["name"] for m in BLOCK.finditer(doc))
    if missing:
        raise ValueError(f"{where} has no block named {sorted(missing)}")
    return BLOCK.sub(lambda m: m.group(1) + new[m["name"]] + "\n" + m.group(4), doc)


def figures() -> None:
    """The rate curves and the exponent forest as PNGs, and the PDF report."""
    from nprates.reports import plot_exponents, plot_rates

    # the directory, not its table: its study file gives the report's order and colours
    plot_rates(RESULTS).savefig(ROOT / "docs" / "results-rates.png", dpi=90)
    plot_exponents(RESULTS).savefig(ROOT / "docs" / "results-exponents.png", dpi=90)
    cli_output("report", relative(RESULTS), "-o", "docs/results.pdf")
    if (ZOO / "study.toml").exists():
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # partial results: the page says so
            plot_rates(ZOO).savefig(ROOT / "docs" / "zoo-rates.png", dpi=80)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if docs/results.md or docs/zoo.md is not what the results give")
    args = parser.parse_args(argv)
    docs = {DOC: blocks(), ZOO_DOC: zoo_blocks()}
    stale = []
    for path, new_blocks in docs.items():
        doc = path.read_text()
        new = refreshed(doc, new_blocks, relative(path))
        if new != doc:
            stale.append(relative(path))
            if not args.check:
                path.write_text(new)
    if args.check:
        if stale:
            print(f"{', '.join(stale)} out of date: run python docs/build_results.py",
                  file=sys.stderr)
            return 1
        return 0
    figures()
    return 0


if __name__ == "__main__":
    sys.exit(main())
