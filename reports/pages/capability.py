"""The pages of a capability report: the study with parameter counts, then one page per
task with accuracy against the swept parameter (the analogue of the papers' Figure C.1)
and against the parameter count, optimisation-limited cells (a network that did not fit
its training data, or stopped at the step/epoch cap: ``nprates.analysis.capability``)
drawn hollow and starred in the table.

Every number comes from ``CapabilityData`` (``nprates.analysis.capability``); an estimator has
the same colour and marker on every page.
"""

from __future__ import annotations

import math

import numpy as np

from .. import style
from ._common import (HEADER_BOTTOM, LEFT, RIGHT, caption, heading, key_values, line_height,
                      new_page, table)
from .title import estimator_text, run_facts

TITLE = "Capability study"
TASK_TITLE = "Accuracy"
MAX_VALUE_COLUMNS = 6  # swept values shown in a task page's table
LIMITED_MARK = "*"     # after a table cell that is optimisation-limited


def _count(v) -> str:
    return f"{v:,.0f}" if isinstance(v, float) and math.isfinite(v) else "-"


def count_range(lo: float, hi: float) -> str:
    """A parameter count, or its range over a task's settings."""
    return _count(lo) if not math.isfinite(lo) or lo == hi else f"{_count(lo)} to {_count(hi)}"


def _class_name(data, estimator) -> str:
    path = data.classes.get(estimator, "")
    return path.replace(":", ".").rsplit(".", 1)[-1] if path else "-"


def _colour_labels(fig, data) -> None:
    for t in fig.texts:
        if t.get_text() in data.styles and t.get_fontweight() == "bold":
            t.set_color(data.styles[t.get_text()]["color"])


def title_page(data, title=None, date=""):
    study = data.study or {}
    fig = new_page(title or f"{TITLE}: {data.name}",
                   study.get("description") or f"nprates capability report of {data.source}")
    counts = data.status_counts()
    total = sum(counts.values())
    reps = int(data.table["replicate"].max()) + 1 if total else 0
    kw, left_w = 0.15, 0.43
    chars = style.chars_per_line(left_w - kw, style.BODY_SIZE)
    y = heading(fig, LEFT, 0.85, "Study")
    items = [
        ("Study", data.name),
        ("Kind", "capability: token-selection tasks (docs/theory.md section 7), accuracy against "
                 "task difficulty at one training size; no convergence rate"),
        ("Training size", f"{', '.join(str(n) for n in data.train_sizes())} sequences per "
                          f"cell"),
        ("Replicates", f"{study.get('replicates', reps)} per task setting and estimator"),
        ("Test set", f"{study['test_size']} sequences per task setting" if "test_size" in study
         else "not recorded (no study file)"),
        *run_facts(data, date),
        ("Intervals", f"{data.level:g} Student-t intervals over replicates"),
    ]
    y_left = key_values(fig, LEFT, y, items, kw, chars)

    x2 = 0.5
    chars2 = style.chars_per_line(RIGHT - x2 - 0.1, style.BODY_SIZE)
    y = heading(fig, x2, 0.85, "Tasks")
    y = key_values(fig, x2, y, [(t, data.describe(t)) for t in data.tasks], 0.1, chars2) - 0.01
    y = heading(fig, x2, y, "Estimators")
    n_cells = data.table.groupby("estimator").size()
    eitems = [(e, estimator_text((study.get("estimators") or {}).get(e))
               or f"{int(n_cells.get(e, 0))} cells (class not recorded: no study file)")
              for e in data.estimators]
    y_right = key_values(fig, x2, y, eitems, 0.1, chars2)
    _colour_labels(fig, data)

    y = min(y_left, y_right) - 0.02
    y = heading(fig, LEFT, y, "Parameter counts (trainable parameters of each fitted model)")
    header = ["estimator", "class"] + [f"task {t}" for t in data.tasks]
    rows = [[e, _class_name(data, e)] + [count_range(*data.param_counts(t, e))
                                         for t in data.tasks] for e in data.estimators]
    rest = (1 - 0.18 - 0.24) / max(1, len(data.tasks))
    table(fig, LEFT, RIGHT, y, header, rows, [0.18, 0.24] + [rest] * len(data.tasks),
          aligns=["left", "left"] + ["right"] * len(data.tasks),
          colors=[data.styles[e]["color"] for e in data.estimators])
    caption(fig, [
        "This report measures what each architecture can learn, not how fast: every "
        "estimator is trained on the same sequences of token-selection tasks whose "
        "difficulty grows with one parameter (the number of tokens to copy, the vocabulary "
        "size, or the number of key-value pairs to search), and scored by its token "
        "accuracy on fresh test sequences. In the theory of Nishikawa & Suzuki (their "
        "Figure C.1), one SSM layer with FNNs cannot copy long sequences, while two SSM "
        "layers with FNNs match Transformers on both tasks; a selective (input-dependent, "
        "Mamba-style) SSM is the natural further reference. Parameter counts grow with the "
        "vocabulary (embedding and readout); a range means the count differs between a "
        "task's settings.",
    ])
    return fig


def _x_axis(ax, values, param) -> None:
    """Log-2 axis ticked at the swept values when they span a factor of 4, else linear."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    lo, hi = min(values), max(values)
    if lo > 0 and hi / lo >= 4:
        ax.set_xscale("log", base=2)
        ax.set_xlim(lo / 1.25, hi * 1.25)
    else:
        pad = max((hi - lo) * 0.08, 0.5)
        ax.set_xlim(lo - pad, hi + pad)
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel(param)


def _dodge(x: np.ndarray, i: int, k: int, log: bool) -> np.ndarray:
    """Shift estimator i of k sideways so that intervals at one value do not overlap."""
    step = 0.035 * (i - (k - 1) / 2)
    return x * 2 ** step if log else x + step * (np.ptp(x) if len(x) > 1 else 1.0)


def panel(ax, data, task, metric: str, ylabel: str, chance=None) -> None:
    """One metric ("accuracy" or "exact_match") against the swept value: per estimator
    the replicates (small dots) and the mean with its interval (error bars)."""
    values = data.values(task)
    _x_axis(ax, values, data.param(task))
    log = ax.get_xscale() == "log"
    ests = data.estimators_of(task)
    for i, est in enumerate(ests):
        st = data.styles[est]
        s = data.summary_of(task, est)
        s = s[s["n_ok"] > 0]
        ok = data.rows(task, est)
        ok = ok[ok["status"] == "ok"]
        ax.scatter(_dodge(ok["task_value"].to_numpy(float), i, len(ests), log), ok[metric],
                   s=10, color=st["color"], alpha=0.4, marker=st["marker"], linewidths=0,
                   zorder=2)
        x = _dodge(s["task_value"].to_numpy(float), i, len(ests), log)
        _means(ax, x, s, metric, st, est, line=True)
    if chance is not None:
        ax.plot(values, chance, ls=":", color=style.THEORY_COLOR, lw=1.3, zorder=1,
                label="chance (1 / vocabulary)")
    ax.set_ylim(-0.03, 1.03)
    ax.set_ylabel(ylabel)


def _means(ax, x, s, metric: str, st: dict, label: str, line: bool) -> None:
    """Means of ``metric`` with their intervals at ``x``: filled markers where the cell
    fitted its training data, hollow where it is optimisation-limited (``limited``)."""
    mean = s[metric].to_numpy(float)
    lo, hi = s[f"{metric}_low"].to_numpy(float), s[f"{metric}_high"].to_numpy(float)
    yerr = np.vstack([np.where(np.isfinite(lo), mean - lo, 0.0),
                      np.where(np.isfinite(hi), hi - mean, 0.0)])
    ax.errorbar(x, mean, yerr=yerr, color=st["color"], ls="-" if line else "none", lw=1.6,
                capsize=3, marker=st["marker"], ms=6.5, mec=st["color"], zorder=3,
                label=label)
    limited = s["limited"].to_numpy(bool)
    if limited.any():  # hollow: drawn over the filled marker
        ax.scatter(x[limited], mean[limited], marker=st["marker"], s=6.5 ** 2,
                   facecolors="white", edgecolors=st["color"], linewidths=1.3, zorder=4)


def _count_axis(ax, counts: np.ndarray) -> None:
    """A parameter-count axis: logarithmic when the counts span a factor of 10, ticks
    written in thousands."""
    from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullLocator

    if len(counts) and counts.min() > 0 and counts.max() / counts.min() >= 10:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(4))
        if len(counts):
            pad = max(0.08 * np.ptp(counts), 0.02 * counts.max())
            ax.set_xlim(counts.min() - pad, counts.max() + pad)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
    ax.xaxis.set_minor_locator(NullLocator())


def parameter_panel(ax, data, task) -> None:
    """Token accuracy against the parameter count at the task's hardest setting (the
    largest swept value): one point per estimator, mean with its interval."""
    value = data.values(task)[-1]
    for est in data.estimators_of(task):
        s = data.summary_of(task, est)
        s = s[(s["task_value"] == value) & (s["n_ok"] > 0)]
        if len(s):
            _means(ax, s["n_params"].to_numpy(float), s, "accuracy", data.styles[est], est,
                   line=False)
    _count_axis(ax, data.summary_of(task)["n_params"].dropna().to_numpy(float))
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(f"parameters ({data.param(task)} = {value:g})")
    ax.set_ylabel("token accuracy")


def _value_columns(values) -> list:
    """At most MAX_VALUE_COLUMNS swept values, evenly spread, first and last included."""
    if len(values) <= MAX_VALUE_COLUMNS:
        return list(values)
    idx = np.unique(np.round(np.linspace(0, len(values) - 1, MAX_VALUE_COLUMNS)).astype(int))
    return [values[i] for i in idx]


def task_page(data, task):
    param = data.param(task)
    description = data.describe(task)
    fig = new_page(f"{TASK_TITLE}: {task}", f"Token accuracy against {param}: "
                   f"{description[0].upper()}{description[1:]}.")
    ests = data.estimators_of(task)
    single = data.exact_equals_accuracy(task)
    level = f"{data.level:g}"
    reps = sorted({int(k) for k in data.summary_of(task)["n_ok"]}) or [0]
    k = f"{reps[0]}" if len(reps) == 1 else f"{reps[0]} to {reps[-1]}"
    paras = [
        f"Each line is one estimator, trained on the same "
        f"{', '.join(map(str, data.train_sizes()))} sequences per replicate. Markers: the "
        f"mean over replicates (k = {k}); "
        f"error bars: {level} Student-t intervals over replicates (mean +- t(k-1) sd / "
        f"sqrt(k)), clipped to [0, 1], which show how much training data and initialisation "
        f"move the result; small dots: the individual replicates. Token accuracy is the "
        f"fraction of scored test tokens predicted right"
        + (". " if single else "; exact match the fraction of test sequences with every "
                               "scored token right. ")
        + ("The dotted line is chance, one over the vocabulary size. "
           if data.chance(task) is not None else "")
        + f"A line that stays high as {param} grows marks an architecture that solves the "
          f"task at that difficulty.",
    ]
    if single:
        paras.append("Exact match equals token accuracy here (one scored token per sequence), "
                     "so one panel shows both.")
    values = data.values(task)
    shown = _value_columns(values)
    threshold = f"{data.fit_threshold:g}"
    paras.append(f"Right: accuracy against the parameter count at {param} = {values[-1]:g}. "
                 f"Hollow markers, {LIMITED_MARK} in the table: optimisation-limited cells (a "
                 f"replicate with training accuracy below {threshold}, or stopped at the "
                 f"cap): their test accuracy bounds what training reached, not what the "
                 f"architecture can do.")
    paras.append(f"Table: token accuracy, mean [{level} interval] over replicates"
                 + (f", at {len(shown)} of the {len(values)} values" if len(shown) < len(values)
                    else "")
                 + f"; train acc: the token accuracy on the training sequences at the largest "
                   f"{param} (mean over replicates).")
    cautions = data.notes_for(task)
    top = caption(fig, paras, cautions, max_lines=15, overflow_hint=False)

    size = 8.5 if len(shown) > 4 else 9.5
    h = line_height(size, 1.55)
    table_top = top + 0.015 + h * (len(ests) + 1)
    header = (["estimator", "parameters"] + [f"{param} = {v:g}" for v in shown]
              + [f"train acc at {v:g}" for v in values[-1:]])
    rows = []
    for est in ests:
        s = data.summary_of(task, est).set_index("task_value")
        cells = []
        for v in shown:
            r = s.loc[v] if v in s.index else None
            cells.append("-" if r is None or not r["n_ok"] else
                         f"{style.fmt(r['accuracy'], '.2f')} "
                         f"{style.fmt_ci(r['accuracy_low'], r['accuracy_high'], '.2f')}"
                         + (LIMITED_MARK if r["limited"] else ""))
        hardest = s.loc[values[-1]] if values[-1] in s.index else None
        train_acc = hardest["train_accuracy"] if hardest is not None else math.nan
        rows.append([est, count_range(*data.param_counts(task, est))] + cells
                    + [style.fmt(train_acc, ".3f")])
    first = [0.12, 0.13]
    last = 0.1
    mid = (1 - sum(first) - last) / len(shown)
    table(fig, LEFT, RIGHT, table_top, header, rows, first + [mid] * len(shown) + [last],
          aligns=["left", "right"] + ["right"] * len(shown) + ["right"], size=size,
          colors=[data.styles[e]["color"] for e in ests])

    bottom = table_top + 0.085
    chance = data.chance(task)
    gs = fig.add_gridspec(1, 2 if single else 3, left=LEFT + 0.05, right=0.8, bottom=bottom,
                          top=HEADER_BOTTOM - 0.03, wspace=0.25)
    ax = fig.add_subplot(gs[0, 0])
    panel(ax, data, task, "accuracy", "token accuracy (= exact match)" if single
          else "token accuracy", chance)
    if not single:
        panel(fig.add_subplot(gs[0, 1]), data, task, "exact_match",
              "exact match (whole sequence right)")
    last = fig.add_subplot(gs[0, -1])
    parameter_panel(last, data, task)
    handles, labels = ax.get_legend_handles_labels()
    last.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.03, 1.0),
                borderaxespad=0.0, title="estimator", title_fontsize=9, fontsize=9)
    return fig

