"""Which objects a study file may name: the trust model of study files (docs/trust.md).

A study file names classes (``[estimators.*] class``) and factories (``kind =
"callable"`` targets) that nprates imports and calls. A study file from someone else
is therefore code, like a pickle: running it runs whatever it names. So trust comes
only from the person running, never from the file being judged:

- without trust, a study may name only nprates' registered study objects and
  scikit-learn's public estimator classes (``nprates.studies.registry``);
- the person running trusts more modules by name, from three places that add up:
  ``nprates run --trust MODULE``, the environment variable ``NPRATES_TRUST``
  (comma-separated) and ``run_study(..., trust=[...])``. A ``trust`` list in a study
  file is refused (``FILE_TRUST_REFUSED``).

Trusting ``mypkg`` trusts the public classes and functions of ``mypkg`` and its public
submodules: a path with a private part (``mypkg._impl:f``, ``mypkg:_helper``) needs a
trusted name that spells that part out (``--trust mypkg._impl``). An object must be
defined in a trusted module (``mypkg:system``, a re-export of ``os.system``, is
refused). nprates' own machinery (running, storage, the command line) is never a
factory, trusted or not.

Checks on a path (``check_path``) come before anything is imported; checks on the
object (``check_object``) after.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Iterable

from nprates.studies import registry
from nprates.studies.errors import StudyError

#: Environment variable with trusted module names, comma-separated.
TRUST_ENV = "NPRATES_TRUST"
_MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_HOW = (f"trust it when you run the study: --trust MODULE, {TRUST_ENV}=MODULE or "
        f"run_study(..., trust=['MODULE']) (a study file is code: trust only modules you know)")
#: Why a study file's own ``trust`` list is refused, and what to do instead.
FILE_TRUST_REFUSED = (f"a study file cannot grant itself trust (the file is what is being "
                      f"judged); remove this field and {_HOW}; see docs/trust.md")


def is_dotted_name(text: str) -> bool:
    """Whether ``text`` is a dotted Python name (``mypkg.models``, ``Class.attr``)."""
    return bool(_MODULE_RE.match(text))


def module_names(value, name: str) -> tuple[str, ...]:
    """A list of module names (``--trust``, ``trust=``, ``NPRATES_TRUST``), checked.

    A single string is one name. StudyError naming ``name`` for anything else.
    """
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable) or isinstance(value, (bytes, dict)):
        raise StudyError(name, f"must be a list of module names, got {value!r}")
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not is_dotted_name(item.strip()):
            raise StudyError(f"{name}[{i}]", f"{item!r} is not a module name (e.g. 'mypkg' "
                             f"or 'mypkg.models')")
        out.append(item.strip())
    return tuple(dict.fromkeys(out))


def env_trusted() -> tuple[str, ...]:
    """The module names in ``NPRATES_TRUST`` (comma-separated; empty when unset)."""
    text = os.environ.get(TRUST_ENV, "")
    return module_names([p for p in text.split(",") if p.strip()], TRUST_ENV)


def trusted_names(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The modules the person running trusts: ``NPRATES_TRUST``, then ``extra``."""
    return tuple(dict.fromkeys(env_trusted() + tuple(extra)))


def _trusted_root(path: str, trusted: tuple[str, ...]) -> str | None:
    """The trusted name ``path`` lies under that spells out each of its private parts,
    or None. ``path`` is dotted (module, then attributes)."""
    parts = path.split(".")
    last_private = max((i for i, p in enumerate(parts) if p.startswith("_")), default=-1)
    for name in trusted:
        if registry.under(path, name) and len(name.split(".")) > last_private:
            return name
    return None


def check_path(module: str, attr: str, name: str, trust: Iterable[str] = ()) -> None:
    """Refuse (StudyError naming ``name``) the path ``module:attr`` before anything is
    imported: a module neither registered for studies nor trusted, or a private part
    that no trusted name spells out."""
    full = f"{module}.{attr}"
    if registry.under(module, registry.ROOT):
        if not registry.importable_module(module) or registry.is_private(attr):
            raise StudyError(name, f"'{module}:{attr}' is not one of nprates' study objects; a "
                             f"study may name nprates' target and estimator classes (e.g. "
                             f"'nprates.estimators.SSMRegressor'), never its running, storage "
                             f"or command-line functions")
        return
    trusted = trusted_names(trust)
    if _trusted_root(full, trusted) is not None:
        return
    if any(registry.under(module, t) for t in trusted):
        raise StudyError(name, f"'{module}:{attr}' has a private part; trusting a package "
                         f"trusts its public names only: trust the private module by its "
                         f"full name to allow it")
    if registry.under(module, "sklearn"):
        if not registry.importable_module(module) or registry.is_private(attr):
            raise StudyError(name, f"'{module}:{attr}' is not a public scikit-learn path; name "
                             f"the public one (e.g. 'sklearn.linear_model.Ridge')")
        return
    raise StudyError(name, f"module {module!r} is not trusted; without trust a study may name "
                     f"nprates' target and estimator classes and scikit-learn's estimator "
                     f"classes; {_HOW}")


def check_object(obj, path: str, name: str, trust: Iterable[str] = ()) -> None:
    """Refuse what a path resolved to unless it is a registered study object, a public
    scikit-learn estimator class, or a class or function defined in a trusted module."""
    if registry.is_registered(obj) or registry.is_sklearn_estimator(obj):
        return
    module = getattr(obj, "__module__", None)
    if not isinstance(module, str):
        module = None
    elif registry.under(module, registry.ROOT):
        raise StudyError(name, f"{path!r} is not one of nprates' study objects (its target and "
                         f"estimator classes); nprates' own functions are never factories")
    elif any(registry.under(module, t) for t in trusted_names(trust)):
        if inspect.isclass(obj) or inspect.isroutine(obj):
            return
        raise StudyError(name, f"{path!r} is neither a class nor a function")
    if module is not None and registry.under(module, "sklearn"):
        raise StudyError(name, f"{path!r} is not a scikit-learn estimator class; without "
                         f"trust a study may name scikit-learn's estimator classes only")
    raise StudyError(name, f"{path!r} resolves to an object of module {module!r}, which is "
                     f"not trusted; {_HOW}")
