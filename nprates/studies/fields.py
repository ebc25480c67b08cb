"""Typed readers of study-file fields: each checks one value and returns it normalised.

Every reader takes the value and ``name``, the field's dotted path (e.g.
``targets.gamma.t_max``), and raises a ``StudyError`` naming that path when the value is
not of the right type or range.
"""

from __future__ import annotations

import difflib
import math
import numbers
import re
from typing import Mapping

import numpy as np

from nprates.studies.errors import StudyError

DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
LABEL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?$")


def describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def as_int(value, name: str, minimum: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise StudyError(name, f"must be an integer, got {describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise StudyError(name, f"must be >= {minimum}, got {value}")
    return value


def as_float(value, name: str, minimum: float | None = None) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise StudyError(name, f"must be a number, got {describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise StudyError(name, f"must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise StudyError(name, f"must be >= {minimum:g}, got {value:g}")
    return value


def pop_kind(table: dict, name: str, kinds) -> str:
    """Remove and return ``table["kind"]``, which must be one of ``kinds``."""
    if "kind" not in table:
        raise StudyError(f"{name}.kind", f"required field missing; one of {', '.join(kinds)}")
    kind = as_str(table.pop("kind"), f"{name}.kind")
    if kind not in kinds:
        raise StudyError(f"{name}.kind", f"unknown kind {kind!r}; expected one of "
                         f"{', '.join(kinds)}")
    return kind


def as_str(value, name: str) -> str:
    if not isinstance(value, str):
        raise StudyError(name, f"must be a string, got {describe(value)}")
    return value


def as_label(value, name: str) -> str:
    value = as_str(value, name)
    if not LABEL_RE.match(value) or "__" in value:
        raise StudyError(name, f"{value!r} is not a valid label: use 1-64 letters, digits, "
                         f"'.', '-' or '_' (no '__'), starting and ending with a letter or digit")
    return value


def as_table(value, name: str) -> dict:
    if not isinstance(value, Mapping):
        raise StudyError(name, f"must be a table, got {describe(value)}")
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise StudyError(name, f"keys must be strings, got {bad[0]!r}")
    return dict(value)


def plain(value, name: str):
    """A deep copy of a parameter value restricted to what TOML can hold."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {k: plain(v, f"{name}.{k}") for k, v in as_table(value, name).items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{name}[{i}]") for i, v in enumerate(value)]
    raise StudyError(name, f"must be a string, number, boolean, list or table (what TOML "
                     f"holds), got {describe(value)}")


def reject_unknown(table: Mapping, allowed, name: str | None, hint: str = "") -> None:
    """StudyError for the first key of ``table`` not in ``allowed``, with the closest
    allowed key as a "did you mean" (``difflib``) when one is close."""
    for key in table:
        if key not in allowed:
            where = f"{name}.{key}" if name else key
            raise StudyError(where, f"unknown field; {did_you_mean(key, allowed)}expected one "
                             f"of {', '.join(allowed)}{hint}")


def did_you_mean(key, allowed) -> str:
    """``"did you mean 'x'? "`` for the allowed name closest to ``key`` (``difflib``), or
    "" when none is close."""
    close = difflib.get_close_matches(str(key), sorted(str(a) for a in allowed), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def parse_sizes(value) -> tuple[tuple[int, ...], dict | None]:
    """The ``sizes`` field: (sorted sample sizes, the geometric grid {start, stop, num} or
    None when a list was given)."""
    if isinstance(value, Mapping):
        grid = as_table(value, "sizes")
        reject_unknown(grid, ("start", "stop", "num"), "sizes")
        for key in ("start", "stop", "num"):
            if key not in grid:
                raise StudyError(f"sizes.{key}", "required field missing in the geometric "
                                 "grid {start, stop, num}")
        start = as_int(grid["start"], "sizes.start", 1)
        stop = as_int(grid["stop"], "sizes.stop", 1)
        num = as_int(grid["num"], "sizes.num", 1)
        if stop < start:
            raise StudyError("sizes.stop", f"must be >= sizes.start = {start}, got {stop}")
        sizes = [int(round(v)) for v in np.geomspace(start, stop, num)]
        if len(set(sizes)) != len(sizes):
            raise StudyError("sizes.num", f"{num} geometric points from {start} to {stop} "
                             f"repeat after rounding to integers ({sizes}); use fewer points")
        return tuple(sizes), {"start": start, "stop": stop, "num": num}
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.ndim == 1):
        if len(value) == 0:
            raise StudyError("sizes", "must not be empty")
        sizes = [as_int(v, f"sizes[{i}]", 1) for i, v in enumerate(value)]
        seen = set()
        for v in sizes:
            if v in seen:
                raise StudyError("sizes", f"{v} appears more than once")
            seen.add(v)
        return tuple(sorted(sizes)), None
    raise StudyError("sizes", f"must be a list of sample sizes or a geometric grid "
                     f"{{start, stop, num}}, got {describe(value)}")
