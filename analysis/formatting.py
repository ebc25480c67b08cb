"""Number formatting for the text tables, and conversion of results to plain JSON."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd

#: Width of the text summaries, in characters.
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
    """An interval as '[lo, hi]'."""
    return f"[{num(lo, fmt)}, {num(hi, fmt)}]"


def wrap(text: str, indent: str = "") -> list:
    """Lines of at most WIDTH characters; continuation lines get ``indent``."""
    return textwrap.wrap(text, WIDTH, subsequent_indent=indent, break_on_hyphens=False) or [""]


def jsonable(obj):
    """Plain Python (JSON-serialisable) version of obj: NaN -> None, numpy -> python.

    Handles dicts, lists, tuples, DataFrames (a list of records), numpy arrays and
    scalars, and objects with a ``to_dict()``; anything else becomes its ``str``.
    """
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
