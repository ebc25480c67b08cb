"""The quick study end to end: wall time and peak memory of ``nprates demo``."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def run(device="cpu") -> dict:
    """Run ``nprates demo`` (the quick study, its exponent table and its report) from
    scratch in a child process, with the demo's own worker processes.

    Returns wall seconds and peak resident memory in MiB: Linux's ru_maxrss of the children
    waited for, i.e. the largest single process (the demo or one of its workers).
    """
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "nprates", "demo", "--out",
                               str(Path(out) / "demo"), "--device", str(device), "--quiet"],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"nprates demo failed (exit {proc.returncode}): {proc.stderr.strip()}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"study": "quick", "device": str(device), "seconds": seconds,
            "peak_memory_mib": peak_kib / 1024}
