"""Rate studies: declarative sweeps over targets x estimators x sample sizes x replicates.

>>> study = Study.from_toml("examples/quick.toml")      # its structure validated
>>> checked = check_study(study)    # imports, constructs, smoke-tests (run_study does too)
>>> results = run_study(study, "results/quick")          # resumable, one row per cell
>>> results = load_results("results/quick")              # at any time, even mid-run

The checker (the estimators, torch), the runner and the store (pandas) load on first
use, so that worker processes, which only need the spec and the cells, start quickly,
and a study file's mistakes are reported without torch.
"""

from importlib import import_module

from nprates.studies.errors import StudyError
from nprates.studies.spec import Study
from nprates.studies.tables import EstimatorSpec, TargetSpec

_LAZY = {"run_study": "nprates.studies.runner", "StudyIncomplete": "nprates.studies.runner",
         "load_results": "nprates.studies.store", "check_study": "nprates.studies.check",
         "CheckedStudy": "nprates.studies.check"}

__all__ = ["Study", "StudyError", "StudyIncomplete", "TargetSpec", "EstimatorSpec",
           "check_study", "CheckedStudy", "run_study", "load_results"]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'nprates.studies' has no attribute {name!r}")
