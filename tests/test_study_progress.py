"""Progress output: cells done / total, failures, elapsed time and ETA."""

from __future__ import annotations

import io

from nprates.studies.progress import Progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_terminal_progress_redraws_one_line_and_keeps_notes():
    out = Terminal()
    bar = Progress("s", 4, resumed=1, failed=1, stream=out)
    assert bar.line().endswith("s: 1/4 cells (1 resumed), 1 failed, 0:00 elapsed, ETA ?")
    bar.advance(1)
    bar.note("failed: t/e/n=8/r=0: ValueError: bad")
    bar.advance(2, failed=1)
    bar.finish("out")
    text = out.getvalue()
    assert "\r\x1b[2Ks: 2/4 cells (1 resumed), 1 failed, 0:00 elapsed, ETA 0:00" in text
    assert "\r\x1b[2Kfailed: t/e/n=8/r=0: ValueError: bad\n" in text
    assert text.endswith("\r\x1b[2Ks: 4/4 cells done (1 resumed), 2 failed in 0:00 -> out\n")


def test_log_progress_prints_whole_lines_and_can_be_silenced():
    out = io.StringIO()
    bar = Progress("s", 3, stream=out, log_interval=3600)
    bar.show()
    bar.advance(1)  # within the interval: nothing
    bar.advance(2)  # the last cell is always shown
    assert out.getvalue().splitlines() == ["s: 0/3 cells, 0 failed, 0:00 elapsed, ETA ?",
                                           "s: 3/3 cells, 0 failed, 0:00 elapsed, ETA 0:00"]
    quiet = io.StringIO()
    silent = Progress("s", 1, enabled=False, stream=quiet)
    silent.show()
    silent.note("x")
    silent.advance(1)
    silent.finish("out")
    assert quiet.getvalue() == ""
