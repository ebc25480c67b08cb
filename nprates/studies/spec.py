"""The study specification: a typed, validated description of a study.

A study is of one of two kinds, told apart by its tables: a *rate study* has
``[targets.LABEL]`` tables (regression targets, swept over sample sizes), a
*capability study* ``[tasks.LABEL]`` tables (token-selection tasks, swept over a task
parameter at one training size). A study has one or the other, never both.

A study is read from a TOML file (``Study.from_toml``) or built in Python
(``Study(...)`` or ``Study.from_dict``). Building one checks the structure: field
names, types and values, importing nothing (a ``Study`` is a plain typed spec).
``nprates.studies.check_study(study)`` goes further and imports every class and
factory, constructs every target and estimator and draws a tiny sample, so that a
study that would fail does so before any work starts (``run_study`` calls it first).
Every problem raises a ``StudyError`` (a ValueError) whose message names the file and
the field as a dotted path, e.g. ``quick.toml: estimators.ssm.class: cannot import
'nprates.estimators.Nope'``.

TOML layout::

    name = "quick"                  # label: letters, digits, '.', '-', '_'
    description = "..."             # optional, free text
    seed = 0                        # root seed (default 0)
    noise = 0.3                     # noise standard deviation sigma, >= 0
    length = 16                     # scored positions per sequence
    sizes = {start = 64, stop = 2048, num = 6}   # geometric grid, or a list [64, 128]
    replicates = 3                  # default 3
    target_draws = 1                # functions drawn from each target class (default 1)
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

    [estimators.transformer]        # a size may grow with n: a capacity rule
    class = "nprates.estimators.TransformerRegressor"
    params = {n_heads = 2, width = {rule = "rate", c = 4.0, min = 8, max = 64, multiple = 2}}

A *capacity rule* ``{rule = "rate", c, min = 1, max, multiple = 1}`` in place of a size
hyperparameter (``width``, ``fnn_width``, ``d_state``, ...) gives the size
``round(c * n ** (1 / (2 * a_dagger + 1)))`` for a cell of n training sequences, clipped
to ``[min, max]`` and rounded to a multiple of ``multiple``; ``a_dagger`` is the target's
effective smoothness (a target without one refuses the rule: give a number). The
width of the theory's estimators grows at this rate (docs/theory.md section 6). Each
row records the sizes used (column ``capacity``, JSON) and the parameter count
(``n_params``); see ``nprates.studies.capacity``.

``target_draws = K`` draws K independent functions from each target class (draw 0 is
the function a one-draw study uses; draw D >= 1 has its own construction, data, test and
initialisation seeds); rows carry the draw index (column ``draw``), so an exponent's
interval can account for the variation between functions of the class.

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

An FNN-size sweep (how expressive the FNNs of an SSM+FNN network must be) is written as
one estimator entry per FNN size, equal in everything but ``fnn_width`` / ``fnn_depth``
(``examples/recall_fnn.toml``)::

    [estimators.ssm2_f64]
    class = "nprates.estimators.classifiers.SSMClassifier"
    params = {n_layers = 2, width = 32, fnn_width = 64, fnn_depth = 1}

    [estimators.ssm2_f256x2]
    class = "nprates.estimators.classifiers.SSMClassifier"
    params = {n_layers = 2, width = 32, fnn_width = 256, fnn_depth = 2}

Each row records the sizes (``capacity``) and the parameter count;
``nprates.analysis.capability.fnn_sweep`` reads the sweep back and names the smallest FNN
that fits its training data.

This module holds ``Study``; the specs of its tables (``TargetSpec``, ``EstimatorSpec``,
``TaskSpec``, ``Setting``) are in ``tables``, the field readers in ``fields``, import paths
in ``imports``, hashing and TOML writing in ``serialise``. ``check.check_study`` checks a
``Study`` (the dependency goes one way: this module imports no checker or builder).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from nprates.analysis.untrusted import loads_toml, read_text
from nprates.studies.errors import StudyError
from nprates.studies.seeds import draw_slot, split_slot
from nprates.studies.fields import (DEVICE_RE, as_float, as_int, as_label, as_str, as_table,
                                    parse_sizes, reject_unknown)
from nprates.studies.serialise import diff_paths, digest, dump_toml
from nprates.studies.tables import EstimatorSpec, TargetSpec, TaskSpec
from nprates.studies.trust import FILE_TRUST_REFUSED, module_names

TOP_FIELDS = ("name", "description", "seed", "noise", "length", "sizes", "train_size",
              "replicates", "target_draws", "test_size", "device", "targets", "tasks",
              "estimators")
# fields of one kind of study only, with why the other kind has none
_RATE_ONLY = {"noise": "its tasks are noise-free",
              "length": "its sequence lengths come from the tasks",
              "sizes": "it trains every cell on train_size sequences",
              "target_draws": "its task settings are fixed, not drawn"}
# fields that change no cell's result: ignored when a directory's study is compared
_COSMETIC = ("description", "device")


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
    target_draws : int (rate studies)
        Independent functions drawn from each target class (default 1).
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
    capability study), ``targets``, ``tasks`` and ``estimators`` map labels to
    ``TargetSpec``, ``TaskSpec`` and ``EstimatorSpec`` (the group a study does not have
    is empty), and ``settings`` maps setting labels to ``Setting`` (capability studies).
    ``trust`` holds the modules the person running trusts (``with_trust``; never from the
    study itself, docs/trust.md).
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
    target_draws: int | None = None
    test_size: int = 2000
    seed: int = 0
    device: str = "auto"
    description: str = ""
    source: str | None = field(default=None, repr=False)
    text: str | None = field(default=None, repr=False)
    size_grid: dict | None = field(default=None, init=False, repr=False)
    settings: dict = field(default_factory=dict, init=False, repr=False)
    trust: tuple = field(default=(), init=False, repr=False)

    def __post_init__(self):
        try:
            self._normalise()
        except StudyError as exc:
            raise exc.with_source(self.source) from None

    def _normalise(self) -> None:
        self.name = as_label(self.name, "name")
        self.description = as_str(self.description, "description")
        self.seed = as_int(self.seed, "seed", 0)
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
        self.replicates = as_int(self.replicates, "replicates", 1)
        self.test_size = as_int(self.test_size, "test_size", 2)
        self.device = as_str(self.device, "device")
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
        self.noise = as_float(self.noise, "noise", 0.0)
        self.length = as_int(self.length, "length", 1)
        self.sizes, self.size_grid = parse_sizes(self.sizes)
        self.target_draws = as_int(1 if self.target_draws is None else self.target_draws,
                                   "target_draws", 1)

    def _normalise_capability_fields(self) -> None:
        for key, why in _RATE_ONLY.items():
            if getattr(self, key) is not None:
                raise StudyError(key, f"only for rate studies ([targets.LABEL]); a capability "
                                 f"study ([tasks.LABEL]) has none: {why}")
        if self.train_size is None:
            raise StudyError("train_size", "required field missing (training sequences of "
                             "every cell of a capability study)")
        self.train_size = as_int(self.train_size, "train_size", 2)
        self.sizes = (self.train_size,)

    @property
    def kind(self) -> str:
        """``"rate"`` or ``"capability"``."""
        return "capability" if self.tasks else "rate"

    @staticmethod
    def _parse_group(raw, name: str, spec_cls) -> dict:
        table = as_table(raw, name)
        if not table:
            raise StudyError(name, f"must hold at least one entry ([{name}.LABEL] tables)")
        return {as_label(label, f"{name}.{label}"): spec_cls.parse(label, value, f"{name}.{label}")
                for label, value in table.items()}

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping, source: str | None = None, text: str | None = None) -> "Study":
        """Build from a mapping with the TOML layout; unknown or missing fields are errors."""
        try:
            data = as_table(data, "study")
            if "trust" in data:
                raise StudyError("trust", FILE_TRUST_REFUSED)
            reject_unknown(data, TOP_FIELDS, None)
            for key in ("name", "estimators"):
                if key not in data:
                    raise StudyError(key, "required field missing")
        except StudyError as exc:
            raise exc.with_source(source) from None
        return cls(**data, source=source, text=text)

    @classmethod
    def from_toml(cls, path) -> "Study":
        """Read a study file and validate its structure (``check_study`` does the rest)."""
        source = str(path)
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"{source}: no such study file")
        try:
            text = read_text(path)
        except (OSError, ValueError) as exc:
            raise StudyError(None, f"cannot read the file: {exc}", source) from None
        return cls.from_toml_text(text, source)

    @classmethod
    def from_toml_text(cls, text: str, source: str | None = None) -> "Study":
        try:
            data = loads_toml(text)
        except ValueError as exc:
            raise StudyError(None, str(exc), source) from None
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
                       replicates=self.replicates)
            if self.target_draws != 1:
                out["target_draws"] = self.target_draws
            out.update(test_size=self.test_size, device=self.device)
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
        return diff_paths(self._result_fields(), other._result_fields())

    def replace(self, **changes) -> "Study":
        """A copy with some fields changed (validated again; the file text is dropped)."""
        data = self.to_dict()
        data.update(changes)
        return Study.from_dict(data, source=self.source).with_trust(self.trust)

    def with_trust(self, trust) -> "Study":
        """A copy whose classes and factories may come from the modules in ``trust`` too
        (the person running trusts them; ``nprates.studies.trust``). StudyError naming
        ``trust`` for something that is not a list of module names."""
        out = copy.copy(self)
        out.trust = tuple(dict.fromkeys(self.trust + module_names(trust, "trust")))
        return out

    def target_slots(self, label: str) -> list[str]:
        """The target slots of a target's draws: ``label`` (draw 0), then
        ``label/draw=D`` (``seeds.draw_slot``); cells run under these."""
        return [draw_slot(label, d) for d in range(self.target_draws or 1)]

    def cell_key(self, target: str, estimator: str, n: int, replicate: int) -> str:
        """Unique key of a cell: its labels plus a hash of everything that shapes it.

        ``target`` is a target slot (a target label, or ``TARGET/draw=D``), or a
        task-setting label in a capability study.
        """
        parts = {"study": self.name, "seed": self.seed, "test_size": self.test_size,
                 "estimator": {estimator: self.estimators[estimator].to_dict()},
                 "n": int(n), "replicate": int(replicate)}
        if self.kind == "capability":
            parts["task"] = {target: self.settings[target].to_dict()}
        else:
            label, draw = split_slot(target)
            parts.update(noise=self.noise, length=self.length,
                         target={label: self.targets[label].to_dict()})
            if draw:
                parts["draw"] = draw
        return f"{target}/{estimator}/n={n}/r={replicate}#{digest(parts)[:12]}"

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

