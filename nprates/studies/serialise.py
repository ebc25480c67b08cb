"""A study as text: canonical JSON, its hash, field-by-field differences and TOML."""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Mapping


def canonical_json(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=True)


def digest(data) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def diff_paths(a, b, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            path = f"{prefix}.{key}" if prefix else key
            if key not in a or key not in b:
                out.append(path)
            else:
                out.extend(diff_paths(a[key], b[key], path))
        return out
    return [] if canonical_json(a) == canonical_json(b) else [prefix or "(whole study)"]


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def dump_toml(data: Mapping) -> str:
    """Write a study mapping as TOML: scalars first, then one table per target, task and
    estimator."""
    groups = ("targets", "tasks", "estimators")
    lines = []
    for key, value in data.items():
        if key not in groups:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for group in groups:
        for label, table in data.get(group, {}).items():
            lines.append("")
            lines.append(f"[{group}.{_toml_key(label)}]")
            lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"

