"""Small CLI points of issue 30: --version, "did you mean", the demo's own timing."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nprates import __version__
from nprates.cli import main
from nprates.studies import Study, StudyError, check_study


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"nprates {__version__}"


def test_a_mistyped_key_gets_a_suggestion():
    with pytest.raises(StudyError, match="replicats: unknown field; did you mean 'replicates'"):
        Study.from_dict({"name": "x", "replicats": 3,
                         "estimators": {"r": {"class": "sklearn.linear_model.Ridge"}}})
    with pytest.raises(StudyError, match="colour: unknown field; expected one of"):
        Study.from_dict({"name": "x", "colour": 3,
                         "estimators": {"r": {"class": "sklearn.linear_model.Ridge"}}})


def test_a_mistyped_parameter_gets_a_suggestion():
    study = Study.from_dict({"name": "x", "sizes": [8, 16], "length": 4, "noise": 0.1,
                             "targets": {"t": {"kind": "callable",
                                               "factory": "study_fixtures:make_sine_target"}},
                             "estimators": {"r": {"class": "sklearn.linear_model.Ridge",
                                                  "params": {"alpah": 1.0}}}})
    with pytest.raises(StudyError, match="alpah: unknown parameter of Ridge; did you mean "
                                         "'alpha'"):
        check_study(study)


def test_the_command_times_itself_not_what_ran_before():
    code = ("import time; time.sleep(1.5)\n"
            "from nprates.cli import wall_seconds\nprint(wall_seconds())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert float(out.stdout) < 1.0
