"""Which modules a study file may name: the trust model of study files.

A study file names classes (``[estimators.*] class``) and factories (``kind =
"callable"`` targets) that nprates imports and calls. A study file from someone else
is therefore code, like a pickle: running it runs whatever it names. nprates only
imports and calls what comes from a *trusted* module:

- nprates' own packages (``nprates``, hence ``nprates.estimators``) and scikit-learn
  (``sklearn``) are always trusted;
- further modules are trusted by name, from four places that add up: the study's
  ``trust = ["mypkg", ...]`` list, ``nprates run --trust MODULE``,
  ``run_study(..., trust=[...])`` and the environment variable ``NPRATES_TRUST``
  (comma-separated module names).

Trusting ``mypkg`` trusts its submodules (``mypkg.models``) too. Everything else is
refused with a StudyError before it is imported, and an object found in a trusted
module must itself be defined in a trusted module (``nprates.studies.store:os.system``
is refused: ``os`` is not trusted). In the default roots, names with a leading
underscore (private modules and objects) are refused as well: their public names are
what a study writes (``sklearn.linear_model.Ridge``).

The ``nprates`` command never imports from the current folder implicitly: ``python -m
nprates`` drops the folder that Python put first on ``sys.path`` (see
``drop_current_folder``), so a ``mymodel.py`` next to the study is found only when it
is trusted and importable (installed, or on ``PYTHONPATH``).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable

from nprates.studies.errors import StudyError

#: Always trusted: nprates' own packages and scikit-learn.
DEFAULT_TRUSTED = ("nprates", "sklearn")
#: Environment variable with more trusted module names, comma-separated.
TRUST_ENV = "NPRATES_TRUST"
_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_HOW = (f"trust it with --trust MODULE, a trust = [\"MODULE\"] list in the study or "
        f"{TRUST_ENV}=MODULE (a study file is code: trust only modules you know)")


def module_names(value, name: str) -> tuple[str, ...]:
    """A list of module names (a study's ``trust`` field, ``--trust``, ``trust=``), checked.

    A single string is one name. StudyError naming ``name`` for anything else.
    """
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or isinstance(value, (bytes, dict)):
        raise StudyError(name, f"must be a list of module names, got {value!r}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not _MODULE_RE.match(item.strip()):
            raise StudyError(f"{name}[{i}]", f"{item!r} is not a module name (e.g. 'mypkg' "
                             f"or 'mypkg.models')")
        out.append(item.strip())
    return tuple(dict.fromkeys(out))


def env_trusted() -> tuple[str, ...]:
    """The module names in ``NPRATES_TRUST`` (comma-separated; empty when unset)."""
    text = os.environ.get(TRUST_ENV, "")
    return module_names([p for p in text.split(",") if p.strip()], TRUST_ENV)


def trusted_roots(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The default roots, then ``NPRATES_TRUST``, then ``extra``."""
    return tuple(dict.fromkeys(DEFAULT_TRUSTED + env_trusted() + tuple(extra)))


def _under(module: str, roots: Iterable[str]) -> str | None:
    """The root that ``module`` equals or lies under, or None."""
    for root in roots:
        if module == root or module.startswith(root + "."):
            return root
    return None


def check_module(module: str, name: str, trust: Iterable[str] = ()) -> None:
    """Refuse (StudyError naming ``name``) a module name outside the trusted roots,
    or a private name in a default root. Imports nothing."""
    root = _under(module, trusted_roots(trust))
    if root is None:
        raise StudyError(name, f"module {module!r} is not trusted; a study may name classes "
                         f"and factories from {', '.join(DEFAULT_TRUSTED)} and modules you "
                         f"trust: {_HOW}")
    if root in DEFAULT_TRUSTED and root not in tuple(trust) + env_trusted() \
            and any(part.startswith("_") for part in module.split(".")):
        raise StudyError(name, f"{module!r} is a private module of {root}; name the public "
                         f"path (e.g. 'sklearn.linear_model.Ridge')")


def check_object(obj, path: str, name: str, trust: Iterable[str] = ()) -> None:
    """Refuse an imported object that is not defined in a trusted module (re-exported
    functions such as ``os.system`` reached through a trusted module's attributes), and
    anything but a class from scikit-learn (its public functions include downloaders
    and module loaders; a study needs only its estimator classes)."""
    module = getattr(obj, "__module__", None)
    if isinstance(obj, type(sys)):
        module = obj.__name__
    root = _under(module, trusted_roots(trust)) if isinstance(module, str) else None
    if root is None:
        raise StudyError(name, f"{path!r} resolves to an object of module {module!r}, which "
                         f"is not trusted; {_HOW}")
    if root == "sklearn" and root not in tuple(trust) + env_trusted() and (
            not isinstance(obj, type) or module.startswith("sklearn.externals")):
        raise StudyError(name, f"{path!r} is not a scikit-learn estimator class; a study may "
                         f"name scikit-learn's classes only")


def drop_current_folder() -> None:
    """Remove the current folder that ``python -m`` (or ``python script``) put first on
    ``sys.path``, so that no module is imported from it implicitly."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
