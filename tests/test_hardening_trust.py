"""Study files cannot run code they do not trust: the code-execution attacks are refused
with exit status 2 before anything is imported or called (the marker file stays absent)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sklearn.linear_model import Ridge

from nprates.cli import main
from nprates.studies import Study, StudyError, run_study
from nprates.studies.imports import class_path, import_object
from nprates.studies.trust import TRUST_ENV, check_module

from study_fixtures import ROOT, env_with_fixtures

STUDY = """\
name = "attack"
noise = 0.1
length = 4
sizes = [8, 16]
replicates = 1
test_size = 16
{extra}
[targets.t]
kind = "callable"
factory = {factory!r}
params = {params}

[estimators.ridge]
class = "sklearn.linear_model.Ridge"
"""


def attack(tmp_path, factory, params, extra=""):
    path = tmp_path / "attack.toml"
    path.write_text(STUDY.format(factory=factory, params=params, extra=extra).replace("'", '"'))
    return path


def run_cli(capsys, *argv):
    code = main(["run", *map(str, argv), "--quiet"])
    err = capsys.readouterr().err
    return code, err


def test_os_system_factory_is_refused(tmp_path, capsys):
    marker = tmp_path / "marker"
    path = attack(tmp_path, "os:system", f'{{command = "touch {marker}"}}')
    code, err = run_cli(capsys, path, "--out", tmp_path / "out")
    assert code == 2 and not marker.exists()
    assert "targets.t.factory: module 'os' is not trusted" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_subprocess_run_factory_is_refused(tmp_path, capsys):
    marker = tmp_path / "marker"
    path = attack(tmp_path, "subprocess:run",
                  f'{{args = ["sh", "-c", "touch {marker}"]}}')
    code, err = run_cli(capsys, path, "--out", tmp_path / "out")
    assert code == 2 and not marker.exists()
    assert "module 'subprocess' is not trusted" in err


@pytest.mark.parametrize("trust", [[], ["--trust", "evilmod"]])
def test_module_in_the_current_folder_is_never_imported(tmp_path, trust):
    # python -m nprates puts the current folder on sys.path; nprates run drops it, so
    # evilmod.py next to the study is neither imported untrusted nor found when trusted
    marker = tmp_path / "marker"
    (tmp_path / "evilmod.py").write_text(
        f"open({str(marker)!r}, 'w').close()\ndef make():\n    return None\n")
    path = attack(tmp_path, "evilmod:make", "{}")
    env = env_with_fixtures()
    proc = subprocess.run([sys.executable, "-m", "nprates", "run", str(path), "--out",
                           str(tmp_path / "out"), "--quiet", *trust],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and not marker.exists(), proc.stderr
    expected = "cannot import 'evilmod:make'" if trust else "module 'evilmod' is not trusted"
    assert expected in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("path, message", [
    ("nprates.studies.store:os.system", "is not trusted"),       # re-exported through nprates
    ("sklearn.utils.discovery:all_estimators", "scikit-learn's classes only"),
    ("sklearn.utils._testing:assert_run_python_script_without_output", "private module"),
    ("builtins:eval", "module 'builtins' is not trusted"),
])
def test_objects_reached_through_trusted_modules_are_checked(path, message):
    with pytest.raises(StudyError, match=message):
        import_object(path, "targets.t.factory")


def test_trust_from_the_study_the_api_and_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUST_ENV)
    spec = dict(name="trusted", noise=0.1, length=4, sizes=[8], replicates=1, test_size=16,
                targets={"t": {"kind": "callable", "factory": "study_fixtures:make_sine_target"}},
                estimators={"ridge": {"class": "sklearn.linear_model.Ridge"}})
    with pytest.raises(StudyError, match="module 'study_fixtures' is not trusted"):
        Study.from_dict(spec).check()
    Study.from_dict({**spec, "trust": ["study_fixtures"]}).check()
    assert len(run_study(Study.from_dict(spec), tmp_path / "a", progress=False,
                         trust=["study_fixtures"])) == 1
    monkeypatch.setenv(TRUST_ENV, "other, study_fixtures")
    Study.from_dict(spec).check()
    assert Study.from_dict({**spec, "trust": ["x"]}).differences(Study.from_dict(spec)) == []
    with pytest.raises(StudyError, match="trust\\[0\\]: 'no way' is not a module name"):
        Study.from_dict({**spec, "trust": ["no way"]})


def test_trusting_a_package_trusts_its_submodules_only():
    check_module("mypkg.models", "x", trust=["mypkg"])
    with pytest.raises(StudyError):
        check_module("mypkgevil", "x", trust=["mypkg"])


def test_class_objects_are_recorded_by_their_public_path():
    assert class_path(Ridge) == "sklearn.linear_model:Ridge"
    study = Study.from_dict(dict(name="obj", noise=0.1, length=4, sizes=[8],
                                 targets={"t": {"kind": "gamma_smooth"}},
                                 estimators={"ridge": Ridge}))
    assert study.estimators["ridge"].cls == "sklearn.linear_model:Ridge"


def test_the_trust_model_is_documented():
    text = (ROOT / "docs" / "trust.md").read_text()
    assert "--trust" in text and TRUST_ENV in text and "pickle" in text
