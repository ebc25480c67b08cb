"""Page 1: what was studied, on what, with which estimators, and the headline exponents."""

from __future__ import annotations

import math

import numpy as np

from .. import style
from ..verdicts import verdict
from ._common import (LEFT, RIGHT, caption, caption_lines, caption_top, heading,
                      heading_height, key_values, line_height, new_page, table)

_SMOOTHNESS_KEYS = ("kind", "a0", "alpha", "features", "window")


def smoothness_text(spec: dict) -> str:
    """A smoothness table of the study file in words."""
    if not isinstance(spec, dict):
        return str(spec)
    kind = spec.get("kind", "mixed")
    a0, alpha = spec.get("a0", 1.0), spec.get("alpha", 1.0)
    parts = [f"{kind} smoothness, a_c = {a0:g} x rank^{alpha:g}"
             if isinstance(a0, (int, float)) and isinstance(alpha, (int, float))
             else f"{kind} smoothness"]
    if "features" in spec or "window" in spec:
        parts.append(f"{spec.get('features', '?')} features x {spec.get('window', '?')} lags")
    rest = {k: v for k, v in spec.items() if k not in _SMOOTHNESS_KEYS}
    parts += [f"{k} = {v}" for k, v in rest.items()]
    return ", ".join(parts)


def target_text(label: str, spec: dict | None, have_study: bool = True) -> str:
    if not isinstance(spec, dict):
        return "(not in the study file)" if have_study else "(no study file given)"
    kind = spec.get("kind", "?")
    if kind == "callable":
        out = f"callable {spec.get('factory', '?')}"
        if spec.get("params"):
            out += " (" + ", ".join(f"{k}={v}" for k, v in spec["params"].items()) + ")"
        return out
    parts = [str(kind).replace("_", " ")]
    if "smoothness" in spec:
        parts.append(smoothness_text(spec["smoothness"]))
    parts += [f"{k} = {v}" for k, v in spec.items() if k not in ("kind", "smoothness")]
    return "; ".join(parts)


def estimator_text(spec) -> str:
    if not isinstance(spec, dict):
        return ""
    cls = str(spec.get("class", "?"))
    params = spec.get("params") or {}
    if params:
        shown = ", ".join(f"{k}={_param_text(v)}" for k, v in params.items())
        return f"{cls} ({shown})"
    return cls


def _param_text(value) -> str:
    """A hyperparameter as a study file's reader would write it, without Python's quotes: a
    size rule as ``rate(c=4, min=12, max=64, multiple=4)``, lists and floats short."""
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={_param_text(v)}" for k, v in value.items() if k != "rule")
        return f"{value['rule']}({inner})" if "rule" in value else "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_param_text(v) for v in value) + "]"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def versions_text(versions: dict) -> str:
    order = ["nprates", "python", "torch", "numpy", "scipy", "scikit-learn"]
    keys = [k for k in order if k in versions] + sorted(k for k in versions if k not in order)
    return ", ".join(f"{k} {versions[k]}" for k in keys) if keys else "not recorded"


def run_facts(data, date: str) -> list:
    """The (key, value) rows that end a title page's study block: the cells by status, the
    devices, the compute time, the library versions, the run (its dates, root seed and study
    hash) and the date of the report; first, when the run had not finished, a PARTIAL
    line."""
    counts = data.status_counts()
    devices = data.devices()
    partial = data.table.attrs.get("incomplete", "")
    return [
        *([("PARTIAL", f"{partial} (the run had not finished)")] if partial else []),
        ("Cells", f"{sum(counts.values())} fitted models: {counts['ok']} ok, "
                  f"{counts['failed']} failed, {counts['diverged']} diverged"),
        ("Device", ", ".join(devices) if devices else "not recorded"),
        ("Compute time", f"{style.fmt_seconds(data.compute_seconds())} (sum of the fit times)"),
        ("Libraries", versions_text(data.versions())),
        ("Run", data.run_text() or "not recorded (no results directory)"),
        ("Date", date or "-"),
    ]


def page(data, title=None, date=""):
    study = data.study or {}
    name = data.name
    fig = new_page(title or f"Convergence rates: {name}",
                   study.get("description") or f"nprates report of {data.source}")
    counts = data.status_counts()
    total = sum(counts.values())
    sizes = data.sizes()
    reps = int(data.table["replicate"].max()) + 1 if total else 0
    noise = np.unique(np.round(data.table["noise"].dropna().astype(float), 6))
    left_w = 0.43
    kw = 0.15
    chars = style.chars_per_line(left_w - kw, style.BODY_SIZE)
    y = heading(fig, LEFT, 0.85, "Study")
    items = [
        ("Study", name),
        ("Sample sizes n", style.fmt_sizes(sizes)),
        ("Replicates", f"{study.get('replicates', reps)} per size"),
        ("Noise σ", ", ".join(f"{v:g}" for v in noise) if len(noise) else "-"),
    ]
    if "length" in study:
        items.append(("Sequence", f"{study['length']} scored positions; test set "
                                   f"{study.get('test_size', '?')} sequences"))
    items += [
        *run_facts(data, date),
        ("Fit method", f"{data.method}, {data.level:g} intervals, {data.n_boot} bootstrap "
                       f"draws"),
    ]
    y_left = key_values(fig, LEFT, y, items, kw, chars)

    x2 = 0.5
    chars2 = style.chars_per_line(RIGHT - x2 - 0.1, style.BODY_SIZE)
    y = heading(fig, x2, 0.85, "Targets")
    titems = []
    for tgt in data.targets:
        spec = (study.get("targets") or {}).get(tgt)
        a, th = data.a_dagger(tgt), data.theory_exponent(tgt)
        desc = target_text(tgt, spec, bool(study))
        if math.isfinite(a) or math.isfinite(th):
            desc += (f". a_dagger = {style.fmt(a, '.4g')}, theoretical exponent "
                     f"2a/(2a+1) = {style.fmt(th)}")
        titems.append((tgt, desc))
    y = key_values(fig, x2, y, titems, 0.1, chars2) - 0.01
    y = heading(fig, x2, y, "Estimators")
    counts = data.table.groupby("estimator").size()
    eitems = [(e, estimator_text((study.get("estimators") or {}).get(e))
               or f"{int(counts.get(e, 0))} cells (class not recorded: no study file)")
              for e in data.estimators]
    y_right = key_values(fig, x2, y, eitems, 0.1, chars2)
    # colour the estimator labels as on every other page
    for t in fig.texts:
        if t.get_text() in data.styles and t.get_fontweight() == "bold":
            t.set_color(data.styles[t.get_text()]["color"])

    top = min(y_left, y_right) - 0.02
    order = {(t, e): i for i, (t, e) in enumerate(
        (t, e) for t in data.targets for e in data.estimators_of(t))}
    ft = data.fit_table.copy()
    ft["_order"] = [order.get((t, e), len(order)) for t, e in zip(ft["target"], ft["estimator"])]
    ft = ft.sort_values("_order", kind="stable")
    rows, colors = [], []
    lev = f"{data.level:g}"
    for r in ft.itertuples():
        item = data.fits.get((r.target, r.estimator))
        rows.append([r.target, r.estimator, style.fmt(r.exponent), style.fmt_ci(r.ci_low,
                     r.ci_high), style.fmt(r.theory_exponent), f"{r.n_ok} / {r.n_failed}",
                     verdict(item) if item is not None else r.verdict])
    show_target = len(data.targets) > 1
    header = ["target", "estimator", "exponent β", f"{lev} interval", "theory", "ok / failed",
              "verdict vs theory"]
    fracs = [0.17, 0.17, 0.11, 0.19, 0.09, 0.11, 0.16]
    if not show_target:
        header, fracs = header[1:], [0.22, 0.13, 0.22, 0.11, 0.13, 0.19]
        rows = [r[1:] for r in rows]
    ecol = 1 if show_target else 0
    colors = [data.styles.get(r[ecol], {}).get("color") for r in rows]
    paras = [
        "This report measures how fast each estimator's excess risk (its mean squared error "
        "against the noise-free target on fresh test sequences) falls as the number n of "
        "training sequences grows. The exponent β in risk ~ n^-β is fitted by "
        f"{data.method} regression over the sample sizes; the interval is a "
        f"{data.level:g} bootstrap-t interval over replicates. The theory (Nishikawa & "
        "Suzuki) predicts β = 2a/(2a+1) up to log factors, a the effective smoothness "
        "a_dagger of the target. 'consistent': the data agree with that rate; 'slower': the "
        "risk falls significantly more slowly; 'faster': more quickly than the worst case "
        "of the class; 'inconclusive': too little data to tell.",
    ]
    shown, below = _rows_that_fit(top, len(rows), paras)
    if shown:
        y = heading(fig, LEFT, top, "Measured exponents β (risk ~ n^-β)")
        table(fig, LEFT, RIGHT, y, header, rows[:shown], fracs, colors=colors[:shown],
              color_col=ecol, size=TABLE_SIZE,
              aligns=["left"] * (len(header) - 5) + ["right", "center", "right", "center",
                                                     "left"])
    caption(fig, paras + below)
    return [fig]


#: The font size of the title page's exponent table, in points.
TABLE_SIZE = 9.5


def _rows_that_fit(top: float, n_rows: int, paras: list) -> tuple[int, list]:
    """How many rows of the exponent table fit between ``top`` (figure y) and the caption,
    and the caption's extra paragraph saying where the rest are (empty when all fit)."""
    row = line_height(TABLE_SIZE, 1.55)
    head = top - heading_height()  # below the table's heading
    for shown in range(n_rows, -1, -1):
        below = ([] if shown == n_rows else
                 [f"{n_rows - shown} more rows of this table appear on the exponent page."
                  if shown else "The measured exponents are on the exponent page."])
        if head - (1 + shown) * row - 0.01 >= caption_top(caption_lines(paras + below)):
            return shown, below
    return 0, ["The measured exponents are on the exponent page."]
