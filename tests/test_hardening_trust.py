"""Study files cannot run code they do not trust: the code-execution attacks are refused
with exit status 2 before anything is imported or called (the marker file stays absent)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib

import pytest
from sklearn.linear_model import Ridge

from nprates.cli import main
from nprates.studies import Study, StudyError, check_study, run_study
from nprates.studies.imports import class_path, import_object
from nprates.studies.registry import STUDY_OBJECTS
from nprates.studies.trust import TRUST_ENV, check_path

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


def shadow_stdlib(folder, *names):
    """Modules in ``folder`` named like the standard library's, each leaving a marker
    file (``marker_NAME``) when imported; returns the folder's marker pattern."""
    for name in names:
        (folder / f"{name}.py").write_text(
            f"open({str(folder / f'marker_{name}')!r}, 'w').close()\n"
            f"raise ImportError('shadowed {name}')\n")
    return "marker_*"


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
    # python -m nprates puts the current folder on sys.path and drops it before anything
    # is imported, so evilmod.py next to the study is neither imported untrusted nor found
    # when trusted, and argparse.py or tomllib.py there do not shadow the standard library
    pattern = shadow_stdlib(tmp_path, "argparse", "tomllib", "selectors")
    marker = tmp_path / "marker"
    (tmp_path / "evilmod.py").write_text(
        f"open({str(marker)!r}, 'w').close()\ndef make():\n    return None\n")
    path = attack(tmp_path, "evilmod:make", "{}")
    env = env_with_fixtures()
    proc = subprocess.run([sys.executable, "-m", "nprates", "run", str(path), "--out",
                           str(tmp_path / "out"), "--quiet", *trust],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and not marker.exists(), proc.stderr
    assert not list(tmp_path.glob(pattern))
    expected = "cannot import 'evilmod:make'" if trust else "module 'evilmod' is not trusted"
    assert expected in proc.stderr and "Traceback" not in proc.stderr


def test_a_study_cannot_grant_itself_trust(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(TRUST_ENV)
    marker = tmp_path / "marker"
    path = attack(tmp_path, "posix:system", f'{{command = "touch {marker}"}}',
                  extra='trust = ["posix"]')
    code, err = run_cli(capsys, path, "--out", tmp_path / "out")
    assert code == 2 and not marker.exists() and not (tmp_path / "out").exists()
    assert len(err.strip().splitlines()) == 1
    assert "attack.toml: trust: a study file cannot grant itself trust" in err
    assert "--trust MODULE" in err and "docs/trust.md" in err


INNER = {"name": "inner", "noise": 0.1, "length": 4, "sizes": [8], "replicates": 1,
         "test_size": 16, "targets": {"t": {"kind": "gamma_smooth"}},
         "estimators": {"r": {"class": "sklearn.linear_model.Ridge"}}}


@pytest.mark.parametrize("factory, params", [
    ("nprates.studies:run_study", {"study": INNER, "out_dir": "{out}"}),
    ("nprates.cli:main", {"argv": ["run", "helper.toml", "--trust", "posix", "--out", "{out}"]}),
    ("nprates.studies.store:write_cell", {"cells_dir": "{out}", "row": {
        "target": "x", "estimator": "y", "n": 1, "replicate": 0}}),
    ("nprates.cli.run:run", {"args": 1}),
    ("nprates:run_study", {"study": INNER, "out_dir": "{out}"}),
])
@pytest.mark.parametrize("trust", [[], ["--trust", "nprates"]])
def test_nprates_machinery_is_never_a_factory(tmp_path, capsys, factory, params, trust):
    out = tmp_path / "written"
    text = json.dumps(params).replace("{out}", str(out))
    base = tomllib.loads(STUDY.format(factory=factory, params="{}", extra="").replace("'", '"'))
    base["targets"]["t"]["params"] = json.loads(text)
    path = tmp_path / "attack.toml"
    path.write_text(Study.from_dict(base).to_toml())
    code, err = run_cli(capsys, path, "--out", tmp_path / "out", *trust)
    assert code == 2 and not out.exists() and len(err.strip().splitlines()) == 1, err
    assert f"targets.t.factory: '{factory}'" in err
    assert "nprates' own functions are never factories" in err or \
        "never its running, storage or command-line functions" in err


@pytest.mark.parametrize("how", ["env", "api"])
def test_trusting_a_package_does_not_trust_its_private_modules(tmp_path, monkeypatch, how):
    monkeypatch.delenv(TRUST_ENV)
    marker = tmp_path / "marker"
    spec = dict(name="private", noise=0.1, length=4, sizes=[8], replicates=1, test_size=16,
                targets={"t": {"kind": "callable", "factory":
                               "sklearn.utils._testing:assert_run_python_script_without_output",
                               "params": {"source_code": f"open({str(marker)!r}, 'w')"}}},
                estimators={"ridge": {"class": "sklearn.linear_model.Ridge"}})
    trust = ["sklearn"]
    if how == "env":
        monkeypatch.setenv(TRUST_ENV, "sklearn")
        trust = []
    with pytest.raises(StudyError, match="has a private part; trusting a package trusts its "
                       "public names only"):
        run_study(Study.from_dict(spec), tmp_path / "out", trust=trust, progress=False)
    assert not marker.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("path, message", [
    ("nprates.studies.store:os.system", "is not one of nprates' study objects"),
    ("sklearn.utils.discovery:all_estimators", "scikit-learn's estimator classes only"),
    ("sklearn.utils._testing:assert_run_python_script_without_output", "public scikit-learn"),
    ("sklearn.linear_model:Ridge.__init__", "public scikit-learn"),
    ("builtins:eval", "module 'builtins' is not trusted"),
    ("nprates.__main__:sys", "is not one of nprates' study objects"),
    ("nprates.estimators:fit_replicates", "nprates' own functions are never factories"),
    ("..relative:x", "is not an import path"),
])
def test_objects_reached_through_registered_modules_are_checked(path, message):
    with pytest.raises(StudyError, match=message):
        import_object(path, "targets.t.factory")


def test_registered_objects_need_no_trust(monkeypatch):
    monkeypatch.delenv(TRUST_ENV)
    from nprates.estimators import __all__ as exported

    for name in exported:
        obj = getattr(__import__("nprates.estimators", fromlist=[name]), name)
        if isinstance(obj, type) and hasattr(obj, "fit") and hasattr(obj, "get_params"):
            assert import_object(f"nprates.estimators:{name}", "x") is obj
    for path in STUDY_OBJECTS:
        import_object(path, "x")
    assert import_object("sklearn.ensemble.RandomForestRegressor", "x").__name__ == \
        "RandomForestRegressor"


def test_trust_comes_from_the_api_and_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(TRUST_ENV)
    spec = dict(name="trusted", noise=0.1, length=4, sizes=[8], replicates=1, test_size=16,
                targets={"t": {"kind": "callable", "factory": "study_fixtures:make_sine_target"}},
                estimators={"ridge": {"class": "sklearn.linear_model.Ridge"}})
    with pytest.raises(StudyError, match="module 'study_fixtures' is not trusted"):
        check_study(Study.from_dict(spec))
    check_study(Study.from_dict(spec).with_trust(["study_fixtures"]))
    assert len(run_study(Study.from_dict(spec), tmp_path / "a", progress=False,
                         trust=["study_fixtures"])) == 1
    monkeypatch.setenv(TRUST_ENV, "other, study_fixtures")
    check_study(Study.from_dict(spec))
    with pytest.raises(StudyError, match="trust\\[0\\]: 'no way' is not a module name"):
        Study.from_dict(spec).with_trust(["no way"])
    with pytest.raises(StudyError, match="trust: a study file cannot grant itself trust"):
        Study.from_dict({**spec, "trust": ["study_fixtures"]})


def test_a_target_built_before_does_not_skip_the_trust_check(monkeypatch):
    """Targets are built once per process and reused; one built for a study that trusts
    its factory's module is not handed to a study that does not (the check above passed
    or failed depending on which tests had run before it in the process)."""
    spec = dict(name="cached", noise=0.1, length=4, sizes=[8], replicates=1, test_size=16,
                targets={"t": {"kind": "callable", "factory": "study_fixtures:make_sine_target",
                               "params": {"scale": 3.0}}},
                estimators={"ridge": {"class": "sklearn.linear_model.Ridge"}})
    check_study(Study.from_dict(spec))  # trusted through NPRATES_TRUST: built and kept
    monkeypatch.delenv(TRUST_ENV)
    with pytest.raises(StudyError, match="module 'study_fixtures' is not trusted"):
        check_study(Study.from_dict(spec))


def test_trusting_a_package_trusts_its_public_submodules_only(monkeypatch):
    monkeypatch.delenv(TRUST_ENV)
    check_path("mypkg.models", "Model", "x", trust=["mypkg"])
    check_path("mypkg._impl", "f", "x", trust=["mypkg._impl"])
    check_path("mypkg._impl.sub", "f", "x", trust=["mypkg._impl"])
    for module, attr in [("mypkgevil", "f"), ("mypkg._impl", "f"), ("mypkg", "_f"),
                         ("mypkg.models", "Model.__init__")]:
        with pytest.raises(StudyError):
            check_path(module, attr, "x", trust=["mypkg"])


def test_class_objects_are_recorded_by_their_public_path():
    assert class_path(Ridge) == "sklearn.linear_model:Ridge"
    study = Study.from_dict(dict(name="obj", noise=0.1, length=4, sizes=[8],
                                 targets={"t": {"kind": "gamma_smooth"}},
                                 estimators={"ridge": Ridge}))
    assert study.estimators["ridge"].cls == "sklearn.linear_model:Ridge"


def test_the_trust_model_is_documented():
    text = (ROOT / "docs" / "trust.md").read_text()
    assert "--trust" in text and TRUST_ENV in text and "pickle" in text
SAFE_STUDY = """\
name = "safe"
noise = 0.1
length = 4
sizes = [8, 16]
replicates = 1
test_size = 16

[targets.t]
kind = "gamma_smooth"
t_max = 4
smoothness = {kind = "mixed", a0 = 1.0, alpha = 1.0, features = 2, window = 4}

[estimators.ridge]
class = "sklearn.linear_model.Ridge"
"""


def test_spawned_workers_never_import_from_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend("")  # as python -c or an interactive session has it
    pattern = shadow_stdlib(tmp_path, "selectors")
    safe_env = os.environ.get("PYTHONSAFEPATH")
    study = Study.from_toml_text(SAFE_STUDY)
    results = run_study(study, tmp_path / "out", executor="process", workers=1,
                        progress=False)
    assert list(results["status"]) == ["ok", "ok"] and not list(tmp_path.glob(pattern))
    assert sys.path[0] == "" and os.environ.get("PYTHONSAFEPATH") == safe_env  # restored
