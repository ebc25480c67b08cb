"""Text tables in the style of statsmodels' ``summary()`` and JSON conversion."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd

WIDTH = 78


def num(v, fmt: str = ".4f") -> str:
    """Format a number; NaN and None print as '-'."""
    if v is None:
        return "-"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if not math.isfinite(f):
        return "-"
    return format(f, fmt)


def ci_text(lo, hi, fmt: str = ".3f") -> str:
    return f"[{num(lo, fmt)}, {num(hi, fmt)}]"


def header(title: str, left, right) -> list:
    """Title, a rule and two columns of 'key: value' pairs (statsmodels' top block)."""
    half = WIDTH // 2
    lines = [title.center(WIDTH).rstrip(), "=" * WIDTH]
    for i in range(max(len(left), len(right))):
        cells = []
        for pairs in (left, right):
            if i < len(pairs):
                k, v = pairs[i]
                k, v = f"{k}:", str(v)
                cells.append(k + v.rjust(max(half - 2 - len(k), 1)))
            else:
                cells.append(" " * (half - 2))
        lines.append((cells[0] + "    " + cells[1]).rstrip())
    lines.append("=" * WIDTH)
    return lines


def coef_table(rows, level: float) -> list:
    """rows: (name, coef, se, t, p, lo, hi)."""
    a = (1 - level) / 2
    head = (f"{'':<18}{'coef':>10}{'std err':>10}{'t':>9}{'P>|t|':>9}"
            f"{f'[{a:.3g}':>11}{f'{1 - a:.3g}]':>11}")
    lines = [head, "-" * WIDTH]
    for name, coef, se, t, p, lo, hi in rows:
        lines.append(f"{name:<18}{num(coef):>10}{num(se):>10}{num(t, '.3f'):>9}"
                     f"{num(p, '.3f'):>9}{num(lo):>11}{num(hi):>11}")
    return lines


def frame(df: pd.DataFrame, formats: dict) -> list:
    """A DataFrame as aligned text: formats maps column -> (header, width, fmt)."""
    cols = [c for c in formats if c in df.columns]
    lines = ["".join(f"{formats[c][0]:>{formats[c][1]}}" for c in cols).rstrip()]
    for _, row in df.iterrows():
        cells = []
        for c in cols:
            _, w, fmt = formats[c]
            v = row[c]
            cells.append(f"{(v if fmt is None else num(v, fmt)):>{w}}")
        lines.append("".join(cells).rstrip())
    return lines


def notes(title: str, items) -> list:
    if not items:
        return []
    out = [f"{title}:"]
    for i, w in enumerate(items, 1):
        out += wrap(f"[{i}] {w}", indent="    ")
    return out


def wrap(text: str, indent: str = "") -> list:
    """Lines of at most WIDTH characters; continuation lines get ``indent``."""
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False) or [""]


def jsonable(obj):
    """Plain Python (JSON-serialisable) version of obj: NaN -> None, numpy -> python."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if obj is None or isinstance(obj, str):
        return obj
    if hasattr(obj, "to_dict"):
        return jsonable(obj.to_dict())
    return str(obj)
