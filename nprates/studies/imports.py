"""Resolving import paths (``"module.Class"`` or ``"module:attr.sub"``) of a study's
classes and factories, and reading which keywords they accept.

``import_object(path, name, trust)`` is the one way a path from a study becomes an
object: every path is checked against the trust model (``nprates.studies.trust``)
before anything is imported, and what it resolves to after. Anything that takes an
import path from a study (a class, a target factory, an estimator's ``factory``
parameter) resolves it here, with the study's ``trust``."""

from __future__ import annotations

import importlib
import inspect
import sys

from nprates.studies.errors import StudyError
from nprates.studies.fields import as_str
from nprates.studies.trust import check_object, check_path, is_dotted_name

#: Longest import path accepted (characters).
MAX_PATH = 200


def import_object(path: str, name: str, trust=()):
    """Import ``"module.attr"`` or ``"module:attr.sub"``; StudyError naming ``name`` if not.

    ``name`` is the study field the path came from (``targets.t.factory``); ``trust``
    the module names the person running trusts besides ``NPRATES_TRUST`` (a study's
    ``Study.trust``). Without trust a path may name only nprates' registered study
    objects and scikit-learn's estimator classes (``nprates.studies.registry``); a path
    outside the trust model is refused before anything is imported.
    """
    path = as_str(path, name).strip()
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if len(path) > MAX_PATH or not is_dotted_name(module_name) or not is_dotted_name(attr):
        raise StudyError(name, f"{path[:MAX_PATH]!r} is not an import path; write 'module.Name' or "
                         f"'module:Name'")
    check_path(module_name, attr, name, trust)
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
    check_object(obj, path, name, trust)
    return obj


def class_path(cls) -> str:
    """``"module:Class"`` for a class, through the shortest public module that exports
    it (``sklearn.linear_model:Ridge``, not ``sklearn.linear_model._ridge:Ridge``)."""
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        module = ".".join(parts[:end])
        if any(p.startswith("_") for p in parts[:end]):
            break
        if getattr(sys.modules.get(module), cls.__qualname__, None) is cls:
            return f"{module}:{cls.__qualname__}"
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
