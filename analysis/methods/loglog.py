"""``LogLog``: least squares of log risk on log n."""

from __future__ import annotations

from .base import FitMethod


class LogLog(FitMethod):
    """log risk = c - beta log n (natural logs; ``intercept`` c is log risk at n = 1).

    Equal to the weighted fit of the per-size mean log risks. The base class holds
    everything this method does.
    """

    name = "loglog"
