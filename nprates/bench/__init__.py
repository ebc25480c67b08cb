"""``nprates bench``: what a rate study costs, measured on this machine.

Sections (each a module with ``run``):

- ``replicates``: R = 8 replicate-batched fits against 8 sequential fits (SSM, Transformer),
  with the quick study's networks and with wider ones.
- ``layers``: one SSM layer against one attention layer, forward + backward, L = 64..4096,
  with the log-log scaling exponent in L.
- ``targets``: evaluation throughput of GammaSmooth and PiecewiseGammaSmooth.
- ``study``: ``nprates demo`` (the quick study and its report) end to end, wall time and
  peak memory.
- ``importance``: token importance of 10,000 sequences of 16 tokens (``bench.importance``).

Each figure is a median over repeats after a warm-up (the study runs once).
"""

from __future__ import annotations

import time

from nprates.bench import importance, layers, replicates, study, targets
from nprates.bench.timing import machine

SECTIONS = ("replicates", "layers", "targets", "study", "importance")


def run_all(device="cpu", quick: bool = False, sections=SECTIONS, progress=None) -> dict:
    """Run the chosen sections; returns {"machine", "device", "quick", section: figures}.

    ``quick`` shortens the sections (fewer steps, lengths and sequences; the study is the
    same). ``progress(text)`` is told when each section starts.
    """
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown bench section(s) {unknown}; choose from {list(SECTIONS)}")
    report = {"machine": machine(), "device": str(device), "quick": quick}
    started = time.perf_counter()
    for name in SECTIONS:
        if name not in sections:
            continue
        if progress:
            progress(f"bench: {name} ...")
        if name == "replicates":
            report[name] = replicates.run(device, quick=quick)
        elif name == "layers":
            report[name] = layers.run(device, lengths=(64, 256, 1024) if quick else layers.LENGTHS,
                                      repeats=3 if quick else 5)
        elif name == "targets":
            report[name] = targets.run(sequences=1000 if quick else 10_000,
                                       repeats=1 if quick else 3)
        elif name == "importance":
            report[name] = importance.run(sequences=1000 if quick else 10_000)
        else:
            report[name] = study.run(device)
    report["seconds"] = time.perf_counter() - started
    return report


def format_report(report: dict) -> str:
    """The figures of ``run_all`` as a plain-text table."""
    m = report["machine"]
    gpu = f", GPU {m['gpu']}" if m.get("gpu") else ", no GPU"
    lines = [f"nprates bench on {m['processor']} ({m['cpu_count']} cores, torch "
             f"{m['torch']}, {m['torch_threads']} threads{gpu}), device {report['device']}"
             f"{' (quick)' if report['quick'] else ''}"]
    if "replicates" in report:
        r = report["replicates"]
        c = r["config"]
        lines += ["", f"1. replicate-batched training: R={c['replicates']}, n={c['n']}, "
                      f"{c['steps']} steps of batch {c['batch_size']}, early stopping off",
                  f"   {'estimator':<12} {'batched s':>10} {'sequential s':>13} {'speed-up':>9}"
                  f" {'max |diff|':>11}"]
        for setting, rows in r["results"].items():
            lines.append(f"   {setting}: {r['settings'][setting]}")
            for name, x in rows.items():
                lines.append(f"   {name:<12} {x['batched_s']:>10.2f} {x['sequential_s']:>13.2f} "
                             f"{x['speedup']:>8.2f}x {x['max_prediction_difference']:>11.1e}")
    if "layers" in report:
        r = report["layers"]
        lengths = sorted({row["length"] for row in r["rows"]})
        lines += ["", f"2. one layer forward+backward, batch {r['batch']}, width {r['width']}"
                      f" (seconds)",
                  "   " + f"{'layer':<10}" + "".join(f"{'L=' + str(L):>10}" for L in lengths)
                  + f"{'exponent':>10}"]
        for name in ("ssm", "attention"):
            times = {row["length"]: row["seconds"] for row in r["rows"] if row["layer"] == name}
            lines.append("   " + f"{name:<10}" + "".join(f"{times[L]:>10.4f}" for L in lengths)
                         + f"{r['exponents'][name]:>10.2f}")
        lines.append(f"   attention / SSM at L={lengths[-1]}: {r['ratio_at_max']:.1f}x")
    if "targets" in report:
        lines += ["", "3. target evaluation"]
        for x in report["targets"]:
            lines.append(f"   {x['target']:<22} {x['n_basis']} basis functions, {x['sequences']}"
                         f" sequences x {x['length']} tokens: {x['seconds']:.2f} s "
                         f"({x['sequences_per_second']:.0f} sequences/s)")
    if "study" in report:
        x = report["study"]
        lines += ["", f"4. nprates demo ({x['study']} study and report) end to end: "
                      f"{x['seconds']:.0f} s, peak memory {x['peak_memory_mib']:.0f} MiB"]
    if "importance" in report:
        lines += importance.format_lines(report["importance"])
    lines += ["", f"bench took {report['seconds']:.0f} s"]
    return "\n".join(lines)
