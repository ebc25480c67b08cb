"""The quick study end to end: wall time and peak memory of ``nprates run``."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path


def quick_study_path() -> Path:
    """The built-in quick study (``examples/quick.toml``, shipped inside the package)."""
    return Path(str(resources.files("nprates") / "examples" / "quick.toml"))


def run(device="cpu", study: Path | None = None) -> dict:
    """Run ``study`` (default: the quick study) from scratch in a child process.

    Returns wall seconds and the child's peak resident memory in MiB (ru_maxrss of the
    largest child waited for, which includes any worker processes it waited for).
    """
    study = quick_study_path() if study is None else Path(study)
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "nprates", "run", str(study), "--out",
                               str(Path(out) / "results"), "--device", str(device), "--quiet"],
                              capture_output=True, text=True)
        seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"study run failed (exit {proc.returncode}): {proc.stderr.strip()}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"study": study.stem, "device": str(device), "seconds": seconds,
            "peak_memory_mib": peak_kib / 1024}
