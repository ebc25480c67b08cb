"""Size hyperparameters that grow with the sample size: capacity rules.

In an estimator's ``params`` a size hyperparameter (``width``, ``fnn_width``,
``d_state``, ...) may be a rule instead of a number::

    width = {rule = "rate", c = 4.0, min = 8, max = 64, multiple = 2}

meaning ``round(c * n ** (1 / (2 * a_dagger + 1)))`` for a cell of ``n`` training
sequences, clipped to ``[min, max]`` and rounded to a multiple of ``multiple``; ``a_dagger``
is the target's effective smoothness (docs/theory.md section 6: the width of the
theory's estimators grows like n^(1/(2 a_dagger + 1))). ``min`` defaults to 1, ``max`` to
no bound, ``multiple`` to 1 (a Transformer's width must be a multiple of its heads).
A rule is resolved per (target, n); ``capacity_json`` records the resolved sizes in
the results row (column ``capacity``).
"""

from __future__ import annotations

import json
import math

from nprates.studies.errors import StudyError
from nprates.studies.fields import as_float, as_int, as_str, reject_unknown

RULES = ("rate",)
RULE_FIELDS = ("rule", "c", "min", "max", "multiple")
#: Hyperparameters recorded in the ``capacity`` column when an estimator has them.
SIZE_PARAMS = ("width", "fnn_width", "d_state", "n_layers", "n_heads", "depth", "fnn_depth")


def is_rule(value) -> bool:
    """Whether a parameter value is a capacity rule (a table with a ``rule`` key)."""
    return isinstance(value, dict) and "rule" in value


def check_rule(rule: dict, name: str) -> None:
    """Refuse a malformed rule (StudyError naming ``name`` or ``name.FIELD``)."""
    reject_unknown(rule, RULE_FIELDS, name, hint=" (a capacity rule)")
    kind = as_str(rule["rule"], f"{name}.rule")
    if kind not in RULES:
        raise StudyError(f"{name}.rule", f"unknown rule {kind!r}; expected one of "
                         f"{', '.join(RULES)}")
    if "c" not in rule:
        raise StudyError(f"{name}.c", "required field missing (the multiplier c of "
                         "c * n ** (1 / (2 * a_dagger + 1)))")
    if as_float(rule["c"], f"{name}.c", 0.0) == 0.0:
        raise StudyError(f"{name}.c", "must be > 0")
    multiple = as_int(rule.get("multiple", 1), f"{name}.multiple", 1)
    low = as_int(rule.get("min", multiple), f"{name}.min", 1)
    for key in ("min", "max"):
        if key in rule and as_int(rule[key], f"{name}.{key}", 1) % multiple:
            raise StudyError(f"{name}.{key}", f"must be a multiple of multiple = {multiple}")
    if "max" in rule and as_int(rule["max"], f"{name}.max", 1) < low:
        raise StudyError(f"{name}.max", f"must be >= min = {low}, got {rule['max']}")


def rule_value(rule: dict, n: int, a_dagger: float, name: str) -> int:
    """The size a rule gives at sample size ``n`` for a target of smoothness ``a_dagger``."""
    if not (isinstance(a_dagger, float) and math.isfinite(a_dagger) and a_dagger > 0):
        raise StudyError(name, "the rule 'rate' needs the target's a_dagger (its effective "
                         "smoothness) and this target has none; give a number instead")
    multiple = int(rule.get("multiple", 1))
    value = float(rule["c"]) * n ** (1.0 / (2.0 * a_dagger + 1.0))
    value = min(max(value, int(rule.get("min", multiple))), rule.get("max", math.inf))
    return multiple * max(1, int(round(value / multiple)))


def resolve_params(params: dict, n: int, a_dagger: float, name: str) -> dict:
    """A copy of ``params`` with every capacity rule replaced by its size at ``n``."""
    return {key: rule_value(value, n, a_dagger, f"{name}.{key}") if is_rule(value) else value
            for key, value in params.items()}


def capacity_json(est) -> str:
    """JSON of the estimator's size hyperparameters (``SIZE_PARAMS`` it has), or ""."""
    get = getattr(est, "get_params", None)
    params = get(deep=False) if callable(get) else {}
    sizes = {k: params[k] for k in SIZE_PARAMS
             if isinstance(params.get(k), int) and not isinstance(params.get(k), bool)}
    return json.dumps(sizes, sort_keys=True) if sizes else ""
