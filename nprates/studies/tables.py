"""The specs of a study's tables: ``[targets.LABEL]`` (``TargetSpec``),
``[estimators.LABEL]`` (``EstimatorSpec``) and ``[tasks.LABEL]`` (``TaskSpec``, with one
``Setting`` per swept value). The file format is documented in ``nprates.studies.spec``.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field
from typing import Any

from nprates.studies.capacity import check_rule, is_rule
from nprates.studies.errors import StudyError
from nprates.studies.fields import as_int, as_str, as_table, plain, pop_kind, reject_unknown
from nprates.studies.imports import class_path, import_object

TARGET_KINDS = {
    "gamma_smooth": "nprates:GammaSmooth",
    "piecewise": "nprates:PiecewiseGammaSmooth",
    "callable": None,
}
#: Capability-study task kinds: the task class and the parameters a study may sweep.
TASK_KINDS = {
    "copying": ("nprates.tasks:InputCopying", ("length", "vocab_size")),
    "recall": ("nprates.tasks:AssociativeRecall", ("n_pairs", "vocab_size")),
}
SMOOTHNESS_CLASS = "nprates:Smoothness"


@dataclass(frozen=True)
class TargetSpec:
    """One target: ``kind`` with constructor ``params`` (or a ``factory`` for callables)."""

    label: str
    kind: str
    params: dict = field(default_factory=dict)
    factory: str | None = None
    seed: int | None = None

    @classmethod
    def parse(cls, label: str, raw, name: str) -> "TargetSpec":
        if isinstance(raw, TargetSpec):
            raw = raw.to_dict()
        table = as_table(raw, name)
        kind = pop_kind(table, name, TARGET_KINDS)
        seed = table.pop("seed", None)
        if seed is not None:
            seed = as_int(seed, f"{name}.seed", 0)
        factory = None
        if kind == "callable":
            reject_unknown(table, ("kind", "factory", "params", "seed"), name)
            if "factory" not in table:
                raise StudyError(f"{name}.factory", "required field missing for kind "
                                 "'callable' (an import path 'module:function')")
            factory = as_str(table.pop("factory"), f"{name}.factory")
            params = plain(as_table(table.pop("params", {}), f"{name}.params"), f"{name}.params")
        else:
            params = plain(table, name)
            if "smoothness" in params:
                as_table(params["smoothness"], f"{name}.smoothness")
        return cls(label=label, kind=kind, params=params, factory=factory, seed=seed)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "callable":
            out["factory"] = self.factory
            if self.params:
                out["params"] = self.params
        else:
            out.update(self.params)
        if self.seed is not None:
            out["seed"] = self.seed
        return out


@dataclass(frozen=True)
class EstimatorSpec:
    """One estimator: an importable class path and its constructor ``params`` (size
    hyperparameters may be capacity rules, ``nprates.studies.capacity``)."""

    label: str
    cls: str
    params: dict = field(default_factory=dict)

    @classmethod
    def parse(cls, label: str, raw, name: str) -> "EstimatorSpec":
        if isinstance(raw, EstimatorSpec):
            raw = raw.to_dict()
        if isinstance(raw, type):
            raw = {"class": raw}
        elif hasattr(raw, "get_params") and hasattr(raw, "fit"):
            raw = {"class": type(raw), "params": _non_default_params(raw)}
        table = as_table(raw, name)
        reject_unknown(table, ("class", "params"), name,
                        hint=" (constructor arguments go in the params table)")
        if "class" not in table:
            raise StudyError(f"{name}.class", "required field missing (an import path "
                             "such as 'nprates.estimators.SSMRegressor')")
        path = table["class"]
        if isinstance(path, type):
            path = class_path(path)
        path = as_str(path, f"{name}.class")
        params = plain(as_table(table.get("params", {}), f"{name}.params"), f"{name}.params")
        for key, value in params.items():
            if is_rule(value):
                check_rule(value, f"{name}.params.{key}")
        return cls(label=label, cls=path, params=params)

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"class": self.cls}
        if self.params:
            out["params"] = self.params
        return out


@dataclass(frozen=True)
class Setting:
    """One task setting of a capability study: a task with its swept parameter at ``value``.

    ``label`` is ``TASK/PARAM=VALUE``; ``params`` the task class's full keyword arguments.
    """

    label: str
    task: str
    kind: str
    param: str
    value: int
    params: dict

    def build(self):
        """The task object (``nprates.tasks.InputCopying`` or ``AssociativeRecall``)."""
        return import_object(TASK_KINDS[self.kind][0], f"tasks.{self.task}.kind")(**self.params)

    def to_dict(self) -> dict:
        return {"kind": self.kind, **self.params}


@dataclass(frozen=True)
class TaskSpec:
    """One task of a capability study: ``kind``, fixed ``params`` and the swept ``param``
    with its ``values`` (ascending)."""

    label: str
    kind: str
    params: dict
    param: str
    values: tuple

    @classmethod
    def parse(cls, label: str, raw, name: str) -> "TaskSpec":
        if isinstance(raw, TaskSpec):
            raw = raw.to_dict()
        table = as_table(raw, name)
        kind = pop_kind(table, name, TASK_KINDS)
        path, sweepable = TASK_KINDS[kind]
        task_cls = import_object(path, f"{name}.kind")
        signature = inspect.signature(task_cls).parameters
        reject_unknown(table, ("kind",) + tuple(signature), name,
                        hint=f" (the parameters of {task_cls.__name__})")
        swept = [k for k, v in table.items() if isinstance(v, (list, tuple))]
        example = f"{sweepable[0]} = [2, 4, 8]"
        if not swept:
            raise StudyError(name, f"no swept parameter: give one of {', '.join(sweepable)} as "
                             f"a list, e.g. {example}")
        if len(swept) > 1:
            raise StudyError(f"{name}.{swept[1]}", f"only one parameter is swept per task and "
                             f"{swept[0]} is already a list; write one [tasks.LABEL] table "
                             f"per sweep")
        param = swept[0]
        if param not in sweepable:
            raise StudyError(f"{name}.{param}", f"cannot be swept; a {kind} task sweeps one of "
                             f"{', '.join(sweepable)}")
        raw_values = table.pop(param)
        if len(raw_values) == 0:
            raise StudyError(f"{name}.{param}", "the swept list must not be empty")
        values = [as_int(v, f"{name}.{param}[{i}]", 1) for i, v in enumerate(raw_values)]
        if len(set(values)) != len(values):
            repeated = next(v for v in values if values.count(v) > 1)
            raise StudyError(f"{name}.{param}", f"{repeated} appears more than once")
        params = plain(table, name)
        for key, p in signature.items():
            if p.default is inspect.Parameter.empty and key not in params and key != param:
                raise StudyError(f"{name}.{key}", f"required field missing (a parameter of "
                                 f"{task_cls.__name__})")
        spec = cls(label=label, kind=kind, params=params, param=param,
                   values=tuple(sorted(values)))
        for setting in spec.settings():
            try:
                setting.build()
            except (TypeError, ValueError) as exc:
                raise StudyError(_blamed(name, str(exc), signature),
                                 f"{setting.label}: {exc}") from None
        return spec

    def settings(self) -> list:
        """The task settings, one per swept value, in ascending order of the value."""
        return [Setting(label=f"{self.label}/{self.param}={v}", task=self.label, kind=self.kind,
                        param=self.param, value=v, params={**self.params, self.param: v})
                for v in self.values]

    def to_dict(self) -> dict:
        return {"kind": self.kind, **self.params, self.param: list(self.values)}


def _blamed(name: str, message: str, parameters) -> str:
    """``name.PARAM`` when the task's error message starts with a parameter's name (the
    task classes name the offending parameter first), else ``name``."""
    match = re.match(r"[A-Za-z_]+", message)
    return f"{name}.{match.group()}" if match and match.group() in parameters else name


def _non_default_params(estimator) -> dict:
    params = estimator.get_params(deep=False)
    defaults = {p.name: p.default for p in inspect.signature(type(estimator)).parameters.values()}
    return {k: v for k, v in params.items()
            if k not in defaults or not _same(v, defaults[k])}


def _same(a, b) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:
        return False
