"""Fit methods of the exponent: one class per method (``FitMethod`` subclasses).

``METHODS`` maps a name to its class; ``make_method`` builds the method ``fit_rate``
uses from a name or passes a ``FitMethod`` object through. A new method is one new
subclass: add it to ``METHODS`` to make it available by name.
"""

from __future__ import annotations

from .base import FitMethod
from .loglog import LogLog
from .offset import Offset
from .polylog import PolyLog

#: Fit methods by name.
METHODS = {cls.name: cls for cls in (LogLog, Offset, PolyLog)}


def make_method(method="loglog", polylog_k=None) -> FitMethod:
    """The FitMethod for ``method``: a name in ``METHODS`` or a FitMethod object.

    polylog_k : the power k for "polylog" (ignored by methods that take no k).
    """
    if isinstance(method, FitMethod):
        return method
    if isinstance(method, type) and issubclass(method, FitMethod):
        return method.from_options(polylog_k=polylog_k)
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)} or pass "
                         f"a FitMethod object")
    return METHODS[method].from_options(polylog_k=polylog_k)


__all__ = ["FitMethod", "LogLog", "Offset", "PolyLog", "METHODS", "make_method"]
