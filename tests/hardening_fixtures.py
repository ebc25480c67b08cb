"""Misbehaving estimators for the hardening tests: they end their process, or sleep and
report their pid."""

from __future__ import annotations

import os
import sys
import time

from sklearn.linear_model import Ridge


class ExitingRidge(Ridge):
    """Ridge whose fit ends the process at ``exit_at`` rows: ``os._exit(3)`` (mode
    "crash", which no handler sees) or ``sys.exit(3)`` (mode "exit")."""

    def __init__(self, alpha=1.0, exit_at=(), mode="crash"):
        super().__init__(alpha=alpha)
        self.exit_at = exit_at
        self.mode = mode

    def fit(self, X, y, sample_weight=None):
        if len(X) in tuple(self.exit_at):
            if self.mode == "crash":
                os._exit(3)
            sys.exit(3)
        return super().fit(X, y, sample_weight)


class PidRidge(Ridge):
    """Ridge that appends its process id to ``pids`` and sleeps ``sleep`` seconds in fit."""

    def __init__(self, alpha=1.0, sleep=0.0, pids=""):
        super().__init__(alpha=alpha)
        self.sleep = sleep
        self.pids = pids

    def fit(self, X, y, sample_weight=None):
        if self.pids:
            with open(self.pids, "a") as fh:
                fh.write(f"{os.getpid()}\n")
        time.sleep(self.sleep)
        return super().fit(X, y, sample_weight)
