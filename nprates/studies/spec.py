"""The study specification: a typed, validated description of a study.

A study is of one of two kinds, told apart by its tables: a *rate study* has
``[targets.LABEL]`` tables (regression targets, swept over sample sizes), a
*capability study* ``[tasks.LABEL]`` tables (token-selection tasks, swept over a task
parameter at one training size). A study has one or the other, never both.

A study is read from a TOML file (``Study.from_toml``) or built in Python
(``Study(...)`` or ``Study.from_dict``). Building one checks the structure: field
names, types and values. ``Study.check()`` goes further and imports every class and
factory, constructs every target and estimator and draws a tiny sample, so that a
study that would fail does so before any work starts. Every problem raises a
``StudyError`` (a ValueError) whose message names the file and the field as a
dotted path, e.g. ``quick.toml: estimators.ssm.class: cannot import 'nprates.estimators.Nope'``.

TOML layout::

    name = "quick"                  # label: letters, digits, '.', '-', '_'
    description = "..."             # optional, free text
    seed = 0                        # root seed (default 0)
    noise = 0.3                     # noise standard deviation sigma, >= 0
    length = 16                     # scored positions per sequence
    sizes = {start = 64, stop = 2048, num = 6}   # geometric grid, or a list [64, 128]
    replicates = 3                  # default 3
    test_size = 2000                # noise-free test sequences (default 2000)
    device = "auto"                 # auto | cpu | cuda | cuda:K (default auto)

    [targets.gamma]                 # one or more targets: label -> spec
    kind = "gamma_smooth"           # gamma_smooth | piecewise | callable
    t_max = 8                       # other keys: constructor keyword arguments
    smoothness = {kind = "mixed", a0 = 1.0, alpha = 1.0, features = 2, window = 4}
    # seed = 7                      # optional construction seed

    [targets.custom]
    kind = "callable"
    factory = "package.module:make_target"    # returns an object with the target contract
    params = {scale = 2.0}

    [estimators.ssm]                # one or more estimators: label -> spec
    class = "nprates.estimators.SSMRegressor"         # "module.Class" or "module:Class"
    params = {width = 32, n_layers = 2}

Capability study layout (docs/theory.md section 7; ``noise``, ``length``, ``sizes`` and
``[targets.*]`` are rate-study fields and are refused here)::

    name = "copying"
    seed = 0
    train_size = 2000               # training sequences of every cell (required)
    test_size = 1000                # test sequences, one test set per task setting
    replicates = 3                  # training sets (and initialisations) per setting
    device = "auto"

    [tasks.copy]                    # one or more tasks: label -> spec
    kind = "copying"                # copying (InputCopying) | recall (AssociativeRecall)
    vocab_size = 8                  # fixed parameters of the task class
    length = [4, 8, 16]             # exactly one swept parameter, a list of integers

    [tasks.recall]
    kind = "recall"
    vocab_size = 16                 # distinct_keys = true (default) is fixed too
    n_pairs = [2, 4, 8]             # recall sweeps n_pairs or vocab_size

    [estimators.ssm1]               # token classifiers: fit(tokens (n, T), targets (n, T))
    class = "nprates.estimators.classifiers.SSMClassifier"
    params = {n_layers = 1, width = 32}   # n_tokens and n_classes come from each setting

Each swept value is a *task setting*, labelled ``TASK/PARAM=VALUE`` (e.g.
``recall/n_pairs=4``); it plays the part a target plays in a rate study (the
``target`` column of the results).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import math
import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

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
DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?)$")
LABEL_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?$")
TOP_FIELDS = ("name", "description", "seed", "noise", "length", "sizes", "train_size",
              "replicates", "test_size", "device", "targets", "tasks", "estimators")
# fields of one kind of study only, with why the other kind has none
_RATE_ONLY = {"noise": "its tasks are noise-free",
              "length": "its sequence lengths come from the tasks",
              "sizes": "it trains every cell on train_size sequences"}
# fields that change no cell's result: ignored when a directory's study is compared
_COSMETIC = ("description", "device")


class StudyError(ValueError):
    """An invalid study. ``str(err)`` is ``"SOURCE: FIELD: message"``."""

    def __init__(self, field: str | None, message: str, source: str | None = None):
        self.field = field
        self.message = message
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [p for p in (self.source, self.field) if p]
        return ": ".join(parts + [self.message])

    def with_source(self, source: str | None) -> "StudyError":
        if source and not self.source:
            self.source = source
            self.args = (self._text(),)
        return self


# -- small typed readers -------------------------------------------------------------------

def _describe(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def _as_int(value, name: str, minimum: int | None = None) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise StudyError(name, f"must be an integer, got {_describe(value)}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise StudyError(name, f"must be >= {minimum}, got {value}")
    return value


def _as_float(value, name: str, minimum: float | None = None) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise StudyError(name, f"must be a number, got {_describe(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise StudyError(name, f"must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise StudyError(name, f"must be >= {minimum:g}, got {value:g}")
    return value


def _pop_kind(table: dict, name: str, kinds) -> str:
    """Remove and return ``table["kind"]``, which must be one of ``kinds``."""
    if "kind" not in table:
        raise StudyError(f"{name}.kind", f"required field missing; one of {', '.join(kinds)}")
    kind = _as_str(table.pop("kind"), f"{name}.kind")
    if kind not in kinds:
        raise StudyError(f"{name}.kind", f"unknown kind {kind!r}; expected one of "
                         f"{', '.join(kinds)}")
    return kind


def _as_str(value, name: str) -> str:
    if not isinstance(value, str):
        raise StudyError(name, f"must be a string, got {_describe(value)}")
    return value


def _as_label(value, name: str) -> str:
    value = _as_str(value, name)
    if not LABEL_RE.match(value) or "__" in value:
        raise StudyError(name, f"{value!r} is not a valid label: use 1-64 letters, digits, "
                         f"'.', '-' or '_' (no '__'), starting and ending with a letter or digit")
    return value


def _as_table(value, name: str) -> dict:
    if not isinstance(value, Mapping):
        raise StudyError(name, f"must be a table, got {_describe(value)}")
    bad = [k for k in value if not isinstance(k, str)]
    if bad:
        raise StudyError(name, f"keys must be strings, got {bad[0]!r}")
    return dict(value)


def _plain(value, name: str):
    """A deep copy of a parameter value restricted to what TOML can hold."""
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, Mapping):
        return {k: _plain(v, f"{name}.{k}") for k, v in _as_table(value, name).items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{name}[{i}]") for i, v in enumerate(value)]
    raise StudyError(name, f"must be a string, number, boolean, list or table (what TOML "
                     f"holds), got {_describe(value)}")


def _reject_unknown(table: Mapping, allowed, name: str | None, hint: str = "") -> None:
    for key in table:
        if key not in allowed:
            where = f"{name}.{key}" if name else key
            raise StudyError(where, f"unknown field; expected one of {', '.join(allowed)}{hint}")


def import_object(path: str, name: str):
    """Import ``"module.attr"`` or ``"module:attr.sub"``; StudyError naming ``name`` if not."""
    path = _as_str(path, name).strip()
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise StudyError(name, f"{path!r} is not an import path; write 'module.Name' or "
                         f"'module:Name'")
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise StudyError(name, f"cannot import {path!r} ({exc})") from None
    except Exception as exc:  # the module exists but raised while importing
        raise StudyError(name, f"cannot import {path!r}: importing {module_name!r} raised "
                         f"{type(exc).__name__}: {exc}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise StudyError(name, f"cannot import {path!r} ({module_name!r} has no attribute "
                             f"{attr!r})") from None
    return obj


def class_path(cls) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def accepted_keywords(func) -> set[str] | None:
    """Keyword names ``func`` accepts, or None when it takes ``**kwargs`` or is opaque."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return None
    return {p.name for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


# -- the spec ------------------------------------------------------------------------------

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
        table = _as_table(raw, name)
        kind = _pop_kind(table, name, TARGET_KINDS)
        seed = table.pop("seed", None)
        if seed is not None:
            seed = _as_int(seed, f"{name}.seed", 0)
        factory = None
        if kind == "callable":
            _reject_unknown(table, ("kind", "factory", "params", "seed"), name)
            if "factory" not in table:
                raise StudyError(f"{name}.factory", "required field missing for kind "
                                 "'callable' (an import path 'module:function')")
            factory = _as_str(table.pop("factory"), f"{name}.factory")
            params = _plain(_as_table(table.pop("params", {}), f"{name}.params"), f"{name}.params")
        else:
            params = _plain(table, name)
            if "smoothness" in params:
                _as_table(params["smoothness"], f"{name}.smoothness")
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
    """One estimator: an importable class path and its constructor ``params``."""

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
        table = _as_table(raw, name)
        _reject_unknown(table, ("class", "params"), name,
                        hint=" (constructor arguments go in the params table)")
        if "class" not in table:
            raise StudyError(f"{name}.class", "required field missing (an import path "
                             "such as 'nprates.estimators.SSMRegressor')")
        path = table["class"]
        if isinstance(path, type):
            path = class_path(path)
        path = _as_str(path, f"{name}.class")
        params = _plain(_as_table(table.get("params", {}), f"{name}.params"), f"{name}.params")
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
        table = _as_table(raw, name)
        kind = _pop_kind(table, name, TASK_KINDS)
        path, sweepable = TASK_KINDS[kind]
        task_cls = import_object(path, f"{name}.kind")
        signature = inspect.signature(task_cls).parameters
        _reject_unknown(table, ("kind",) + tuple(signature), name,
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
        values = [_as_int(v, f"{name}.{param}[{i}]", 1) for i, v in enumerate(raw_values)]
        if len(set(values)) != len(values):
            repeated = next(v for v in values if values.count(v) > 1)
            raise StudyError(f"{name}.{param}", f"{repeated} appears more than once")
        params = _plain(table, name)
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


def _parse_sizes(value) -> tuple[tuple[int, ...], dict | None]:
    if isinstance(value, Mapping):
        grid = _as_table(value, "sizes")
        _reject_unknown(grid, ("start", "stop", "num"), "sizes")
        for key in ("start", "stop", "num"):
            if key not in grid:
                raise StudyError(f"sizes.{key}", "required field missing in the geometric "
                                 "grid {start, stop, num}")
        start = _as_int(grid["start"], "sizes.start", 1)
        stop = _as_int(grid["stop"], "sizes.stop", 1)
        num = _as_int(grid["num"], "sizes.num", 1)
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
        sizes = [_as_int(v, f"sizes[{i}]", 1) for i, v in enumerate(value)]
        seen = set()
        for v in sizes:
            if v in seen:
                raise StudyError("sizes", f"{v} appears more than once")
            seen.add(v)
        return tuple(sorted(sizes)), None
    raise StudyError("sizes", f"must be a list of sample sizes or a geometric grid "
                     f"{{start, stop, num}}, got {_describe(value)}")


@dataclass(kw_only=True, eq=False)
class Study:
    """A rate study (targets x estimators x sample sizes x replicates) or a capability
    study (task settings x estimators x replicates at one training size).

    Parameters
    ----------
    name : str
        Label of the study (the ``study`` column of its results).
    targets : mapping label -> target spec (rate studies)
        ``{"kind": "gamma_smooth" | "piecewise" | "callable", ...}``; see the module doc.
    tasks : mapping label -> task spec (capability studies)
        ``{"kind": "copying" | "recall", PARAM: [values], ...}``; see the module doc.
        A study has ``targets`` or ``tasks``, not both.
    estimators : mapping label -> estimator spec
        ``{"class": "module.Class", "params": {...}}``; a class or an unfitted
        estimator instance is accepted too.
    sizes : list of int, or {"start", "stop", "num"} (rate studies)
        Sample sizes n (numbers of training sequences); a mapping is a geometric grid.
    noise : float (rate studies)
        Noise standard deviation sigma of the training outputs.
    length : int (rate studies)
        Scored positions per sequence (inputs get the target's burn-in tokens in front).
    train_size : int (capability studies)
        Training sequences of every cell.
    replicates : int
        Independent training sets per sample size (per task setting).
    test_size : int
        Number of test sequences (drawn once per target or task setting).
    seed : int
        Root seed; every random stream of the study is spawned from it.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:K"``, passed to estimators that
        take a ``device`` parameter and do not set one in their params.
    description : str
        Free text.

    After construction ``sizes`` is a sorted tuple of ints (``(train_size,)`` for a
    capability study), ``targets``, ``tasks`` and ``nprates.estimators`` map labels to
    ``TargetSpec``, ``TaskSpec`` and ``EstimatorSpec`` (the group a study does not have
    is empty), and ``settings`` maps setting labels to ``Setting`` (capability studies).
    """

    name: str
    estimators: Mapping
    targets: Mapping | None = None
    tasks: Mapping | None = None
    sizes: Any = None
    noise: float | None = None
    length: int | None = None
    train_size: int | None = None
    replicates: int = 3
    test_size: int = 2000
    seed: int = 0
    device: str = "auto"
    description: str = ""
    source: str | None = field(default=None, repr=False)
    text: str | None = field(default=None, repr=False)
    size_grid: dict | None = field(default=None, init=False, repr=False)
    settings: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self):
        try:
            self._normalise()
        except StudyError as exc:
            raise exc.with_source(self.source) from None

    def _normalise(self) -> None:
        self.name = _as_label(self.name, "name")
        self.description = _as_str(self.description, "description")
        self.seed = _as_int(self.seed, "seed", 0)
        if self.targets is not None and self.tasks is not None:
            raise StudyError("tasks", "a study has [targets.LABEL] tables (a rate study) or "
                             "[tasks.LABEL] tables (a capability study), not both")
        if self.targets is None and self.tasks is None:
            raise StudyError("targets", "required field missing: a rate study needs "
                             "[targets.LABEL] tables, a capability study [tasks.LABEL] tables")
        if self.tasks is None:
            self._normalise_rate_fields()
        else:
            self._normalise_capability_fields()
        self.replicates = _as_int(self.replicates, "replicates", 1)
        self.test_size = _as_int(self.test_size, "test_size", 2)
        self.device = _as_str(self.device, "device")
        if not DEVICE_RE.match(self.device):
            raise StudyError("device", f"must be 'auto', 'cpu', 'cuda' or 'cuda:K', got "
                             f"{self.device!r}")
        if self.tasks is None:
            self.targets = self._parse_group(self.targets, "targets", TargetSpec)
            self.tasks = {}
        else:
            self.tasks = self._parse_group(self.tasks, "tasks", TaskSpec)
            self.targets = {}
            self.settings = {s.label: s for spec in self.tasks.values() for s in spec.settings()}
        self.estimators = self._parse_group(self.estimators, "estimators", EstimatorSpec)

    def _normalise_rate_fields(self) -> None:
        for key in ("noise", "length", "sizes"):
            if getattr(self, key) is None:
                raise StudyError(key, "required field missing")
        if self.train_size is not None:
            raise StudyError("train_size", "only for capability studies ([tasks.LABEL]); a "
                             "rate study sweeps sizes")
        self.noise = _as_float(self.noise, "noise", 0.0)
        self.length = _as_int(self.length, "length", 1)
        self.sizes, self.size_grid = _parse_sizes(self.sizes)

    def _normalise_capability_fields(self) -> None:
        for key, why in _RATE_ONLY.items():
            if getattr(self, key) is not None:
                raise StudyError(key, f"only for rate studies ([targets.LABEL]); a capability "
                                 f"study ([tasks.LABEL]) has none: {why}")
        if self.train_size is None:
            raise StudyError("train_size", "required field missing (training sequences of "
                             "every cell of a capability study)")
        self.train_size = _as_int(self.train_size, "train_size", 2)
        self.sizes = (self.train_size,)

    @property
    def kind(self) -> str:
        """``"rate"`` or ``"capability"``."""
        return "capability" if self.tasks else "rate"

    @staticmethod
    def _parse_group(raw, name: str, spec_cls) -> dict:
        table = _as_table(raw, name)
        if not table:
            raise StudyError(name, f"must hold at least one entry ([{name}.LABEL] tables)")
        return {_as_label(label, f"{name}.{label}"): spec_cls.parse(label, value, f"{name}.{label}")
                for label, value in table.items()}

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping, source: str | None = None, text: str | None = None) -> "Study":
        """Build from a mapping with the TOML layout; unknown or missing fields are errors."""
        try:
            data = _as_table(data, "study")
            _reject_unknown(data, TOP_FIELDS, None)
            for key in ("name", "estimators"):
                if key not in data:
                    raise StudyError(key, "required field missing")
        except StudyError as exc:
            raise exc.with_source(source) from None
        return cls(**data, source=source, text=text)

    @classmethod
    def from_toml(cls, path, check: bool = True) -> "Study":
        """Read and validate a study file; ``check=False`` skips ``Study.check()``."""
        source = str(path)
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{source}: no such study file")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise StudyError(None, f"cannot read the file: {exc}", source) from None
        study = cls.from_toml_text(text, source)
        if check:
            study.check()
        return study

    @classmethod
    def from_toml_text(cls, text: str, source: str | None = None) -> "Study":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise StudyError(None, f"invalid TOML: {exc}", source) from None
        return cls.from_dict(data, source=source, text=text)

    # -- views -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The study as a plain mapping with the TOML layout."""
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        if self.kind == "capability":
            out.update(seed=self.seed, train_size=self.train_size, replicates=self.replicates,
                       test_size=self.test_size, device=self.device)
            out["tasks"] = {k: v.to_dict() for k, v in self.tasks.items()}
        else:
            out.update(seed=self.seed, noise=self.noise, length=self.length,
                       sizes=dict(self.size_grid) if self.size_grid else list(self.sizes),
                       replicates=self.replicates, test_size=self.test_size, device=self.device)
            out["targets"] = {k: v.to_dict() for k, v in self.targets.items()}
        out["estimators"] = {k: v.to_dict() for k, v in self.estimators.items()}
        return out

    def to_toml(self) -> str:
        """The file text given (when read from one), else the study written as TOML."""
        return self.text if self.text is not None else dump_toml(self.to_dict())

    def _result_fields(self) -> dict:
        data = self.to_dict()
        for key in _COSMETIC:
            data.pop(key, None)
        if "sizes" in data:
            data["sizes"] = list(self.sizes)
        return data

    def differences(self, other: "Study") -> list[str]:
        """Dotted paths of the result-determining fields where ``other`` differs."""
        return _diff(self._result_fields(), other._result_fields())

    def replace(self, **changes) -> "Study":
        """A copy with some fields changed (validated again; the file text is dropped)."""
        data = self.to_dict()
        data.update(changes)
        return Study.from_dict(data, source=self.source)

    def cell_key(self, target: str, estimator: str, n: int, replicate: int) -> str:
        """Unique key of a cell: its labels plus a hash of everything that shapes it.

        ``target`` is a target label, or a task-setting label in a capability study.
        """
        parts = {"study": self.name, "seed": self.seed, "test_size": self.test_size,
                 "estimator": {estimator: self.estimators[estimator].to_dict()},
                 "n": int(n), "replicate": int(replicate)}
        if self.kind == "capability":
            parts["task"] = {target: self.settings[target].to_dict()}
        else:
            parts.update(noise=self.noise, length=self.length,
                         target={target: self.targets[target].to_dict()})
        return f"{target}/{estimator}/n={n}/r={replicate}#{_digest(parts)[:12]}"

    def check(self, device: str | None = None, check_device: bool = True) -> "CheckedStudy":
        """Import, construct and smoke-test everything; raise StudyError on the first problem.

        ``device`` overrides the study's device; ``check_device=False`` skips the check
        that a requested CUDA device exists here (for remote workers).
        """
        from nprates.studies.check import check_study  # imports estimators (torch): lazily

        try:
            return check_study(self, device=device, check_device=check_device)
        except StudyError as exc:
            raise exc.with_source(self.source) from None

    def __eq__(self, other) -> bool:
        return isinstance(other, Study) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        if self.kind == "capability":
            return (f"Study(name={self.name!r}, tasks={list(self.settings)}, "
                    f"estimators={list(self.estimators)}, train_size={self.train_size}, "
                    f"replicates={self.replicates})")
        return (f"Study(name={self.name!r}, targets={list(self.targets)}, "
                f"estimators={list(self.estimators)}, sizes={list(self.sizes)}, "
                f"replicates={self.replicates}, noise={self.noise}, length={self.length})")


@dataclass(frozen=True)
class CheckedStudy:
    """What ``Study.check`` found: the cells to run and notes about skipped ones."""

    study: Study
    device: str
    cells: tuple  # (target or task setting, estimator, n, replicate), in run order
    skipped: tuple  # (target, estimator, reason)
    batched: frozenset  # estimator labels trained with replicates batched together


# -- hashing, diffing and TOML writing -------------------------------------------------------

def canonical_json(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _digest(data) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def _diff(a, b, prefix: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            path = f"{prefix}.{key}" if prefix else key
            if key not in a or key not in b:
                out.append(path)
            else:
                out.extend(_diff(a[key], b[key], path))
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

