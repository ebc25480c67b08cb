"""Building a capability study's pieces: task settings, token data sets and classifiers.

The counterpart of ``build`` for studies with ``[tasks.LABEL]`` tables. A task setting
(``TASK/PARAM=VALUE``) takes the place of a target in the seed streams (``seeds``):
training data from the stream (setting, train_size, replicate), shared by every
estimator, and one test set per setting from the setting's test stream. Test sets are
cached per process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nprates.studies import seeds
from nprates.studies.build import estimator_class, params_of
from nprates.studies.serialise import canonical_json
from nprates.tasks import TokenBatch

if TYPE_CHECKING:
    from nprates.studies.spec import Study

#: Classifier hyperparameters a capability study sets from each task setting.
TASK_SET_PARAMS = ("n_tokens", "n_classes")
_CACHE_SIZE = 8
_test_batches: dict = {}


def build_task(study: Study, setting: str):
    """The task object of ``setting`` (an ``nprates.tasks`` task; cheap to build)."""
    return study.settings[setting].build()


def test_batch(study: Study, setting: str) -> TokenBatch:
    """The test sequences of a setting (``test_size`` of them), drawn once per process."""
    key = (canonical_json(study.settings[setting].to_dict()), setting, study.seed,
           study.test_size)
    if key not in _test_batches:
        if len(_test_batches) >= _CACHE_SIZE:
            _test_batches.clear()
        _test_batches[key] = build_task(study, setting).sample(
            study.test_size, rng=seeds.test_rng(study.seed, setting))
    return _test_batches[key]


def train_batch(study: Study, setting: str, n: int, replicate: int) -> TokenBatch:
    """Training sequences of (setting, n, replicate): the same for every estimator."""
    return build_task(study, setting).sample(n, rng=seeds.data_rng(study.seed, setting, n,
                                                                   replicate))


def make_classifier(study: Study, label: str, task, device: str):
    """An unfitted classifier: its params, the task's ``n_tokens`` and ``n_classes`` (when
    it takes them), and the device (unless its params set one)."""
    spec = study.estimators[label]
    est = estimator_class(study, label)(**spec.params)
    accepted = params_of(est)
    fixed = {key: getattr(task, key) for key in TASK_SET_PARAMS if key in accepted}
    if "device" not in spec.params and "device" in accepted:
        fixed["device"] = device
    return est.set_params(**fixed) if fixed else est
