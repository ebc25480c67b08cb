"""Resolving import paths (``"module.Class"`` or ``"module:attr.sub"``) of a study's
classes and factories, and reading which keywords they accept.

Every path is checked against the trusted modules (``nprates.studies.trust``) before
anything is imported, and what it resolves to after."""

from __future__ import annotations

import importlib
import inspect
import sys

from nprates.studies.errors import StudyError
from nprates.studies.fields import as_str
from nprates.studies.trust import check_module, check_object


def import_object(path: str, name: str, trust=()):
    """Import ``"module.attr"`` or ``"module:attr.sub"``; StudyError naming ``name`` if not.

    ``trust``: module names trusted besides the defaults and ``NPRATES_TRUST``; a path
    outside them is refused before anything is imported.
    """
    path = as_str(path, name).strip()
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise StudyError(name, f"{path!r} is not an import path; write 'module.Name' or "
                         f"'module:Name'")
    check_module(module_name, name, trust)
    check_module(f"{module_name}.{attr}", name, trust)  # private attributes likewise
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
