"""Plain-text progress on stderr: cells done / total, failures, elapsed time, ETA."""

from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(round(max(seconds, 0.0)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Progress of a study run.

    On a terminal one line is redrawn in place; elsewhere (logs, pipes) a line is
    printed every ``log_interval`` seconds. ``enabled=False`` prints nothing.
    """

    def __init__(self, name: str, total: int, resumed: int = 0, failed: int = 0,
                 enabled: bool = True, stream=None, log_interval: float = 15.0):
        self.name = name
        self.total = total
        self.resumed = resumed  # cells finished before this run (``failed`` of them not ok)
        self.done = resumed
        self.failed = failed
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_interval = log_interval
        self.start = time.monotonic()
        self._last = -float("inf")
        self._drawn = False

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        ran = self.done - self.resumed
        left = self.total - self.done
        if left == 0:
            eta = "0:00"
        elif ran > 0:
            eta = _clock(elapsed / ran * left)
        else:
            eta = "?"
        resumed = f" ({self.resumed} resumed)" if self.resumed else ""
        return (f"{self.name}: {self.done}/{self.total} cells{resumed}, {self.failed} failed, "
                f"{_clock(elapsed)} elapsed, ETA {eta}")

    def _emit(self, text: str, final: bool = False) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
            self._drawn = not final
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def show(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        interval = 0.1 if self.tty else self.log_interval
        if force or now - self._last >= interval:
            self._last = now
            self._emit(self.line())

    def advance(self, cells: int, failed: int = 0) -> None:
        self.done += cells
        self.failed += failed
        self.show(force=self.done == self.total)

    def note(self, text: str) -> None:
        """Print a message on its own line (above the progress line on a terminal)."""
        if not self.enabled:
            return
        if self.tty and self._drawn:
            self.stream.write("\r\x1b[2K")
        self.stream.write(text + "\n")
        self.stream.flush()
        self._drawn = False
        if self.tty:
            self.show(force=True)

    def finish(self, where: str) -> None:
        if not self.enabled:
            return
        elapsed = _clock(time.monotonic() - self.start)
        failed = f", {self.failed} failed" if self.failed else ""
        resumed = f" ({self.resumed} resumed)" if self.resumed else ""
        self._emit(f"{self.name}: {self.done}/{self.total} cells done{resumed}{failed} in {elapsed} "
                   f"-> {where}", final=True)
