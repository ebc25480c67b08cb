"""Resolving import paths (``"module.Class"`` or ``"module:attr.sub"``) of a study's
classes and factories, and reading which keywords they accept."""

from __future__ import annotations

import importlib
import inspect

from nprates.studies.errors import StudyError
from nprates.studies.fields import as_str


def import_object(path: str, name: str):
    """Import ``"module.attr"`` or ``"module:attr.sub"``; StudyError naming ``name`` if not."""
    path = as_str(path, name).strip()
    if ":" in path:
        module_name, _, attr = path.partition(":")
    else:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise StudyError(name, f"{path!r} is not an import path; write 'module.Name' or "
                         f"'module:Name'")
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
    return obj


def class_path(cls) -> str:
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
