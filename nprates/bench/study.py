"""The quick study end to end: wall time and peak memory of ``nprates demo``."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


# Runs in the child: the demo, then the peak memory of this process and of the workers it
# waited for. ru_maxrss survives exec, so the child's own would count the bench process,
# whose pages it held between fork and exec; the high-water mark of the address space
# (VmHWM) starts afresh at exec. The workers fork from the demo, so theirs is sound.
_CHILD = """
import json, resource, sys
from pathlib import Path
from nprates.cli import main
status = main(["demo", "--out", sys.argv[1], "--device", sys.argv[2], "--quiet"])
status_file = Path("/proc/self/status")
own = (int(next(line.split()[1] for line in status_file.read_text().splitlines()
                if line.startswith("VmHWM:")))
       if status_file.exists() else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
print(json.dumps({"status": status, "peak_kib": peak}))
"""


def run(device="cpu") -> dict:
    """Run ``nprates demo`` (the quick study, its exponent table and its report) from
    scratch in a child process, with the demo's own worker processes.

    Returns wall seconds and peak resident memory in MiB (Linux's ru_maxrss): that of the
    largest single process, the demo or one of its workers.
    """
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _CHILD, str(Path(out) / "demo"),
                               str(device)], capture_output=True, text=True)
        seconds = time.perf_counter() - start
    result = None
    if proc.returncode == 0 and proc.stdout.strip():
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result is None or result["status"] != 0:
        raise RuntimeError(f"nprates demo failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return {"study": "quick", "device": str(device), "seconds": seconds,
            "peak_memory_mib": result["peak_kib"] / 1024}
