"""``nprates bench``: what a rate study costs, measured on this machine.

Sections (each a module with ``run``):

- ``replicates``: R = 8 replicate-batched fits against 8 sequential fits (SSM, Transformer),
  with the quick study's networks and with wider ones.
- ``layers``: one SSM layer against one attention layer, forward + backward, L = 64..4096,
  with the log-log scaling exponent in L.
- ``scan``: the selective scan's sequential and chunked forms, forward + backward,
  L = 16..256.
- ``targets``: evaluation throughput of GammaSmooth and PiecewiseGammaSmooth.
- ``mixers``: one layer of every mixer family (S4D, selective SSM, attention, SSD, LRU,
  GLA, RetNet, Hyena), forward + backward, L = 16..1024, with the log-log slope in L.
- ``cells``: published cells (mixed class, draw 0, replicate 0; each estimator at
  n = 689 and 3200) refitted with this code, beside the cost and risk recorded in
  results/published; one training step against a plain-torch reference loop.
- ``study``: ``nprates demo`` (the quick study and its report) end to end, wall time and
  peak memory.
- ``importance``: token importance of 10,000 sequences of 16 tokens (``bench.importance``).

Each figure is a median over repeats after a warm-up (the study runs once).
"""

from __future__ import annotations

import time

from nprates.bench import cells, importance, layers, mixers, replicates, scan, study, targets
from nprates.bench.timing import machine

SECTIONS = ("replicates", "layers", "scan", "targets", "cells", "study", "mixers", "importance")


def run_all(device="cpu", quick: bool = False, sections=SECTIONS, progress=None,
            results="results/published") -> dict:
    """Run the chosen sections; returns {"machine", "device", "quick", section: figures}.

    ``quick`` shortens the sections (fewer steps, lengths and sequences; the cells at
    n = 689 only; the study is the same). ``progress(text)`` is told when each section
    starts. ``results``: the published results directory the ``cells`` section refits.
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
        elif name == "scan":
            report[name] = scan.run(device, repeats=1 if quick else 3)
        elif name == "cells":
            report[name] = {**cells.run(results, sizes=cells.SIZES[:1] if quick else cells.SIZES),
                            "steps": cells.steps(repeats=3 if quick else 5)}
        elif name == "targets":
            report[name] = targets.run(sequences=1000 if quick else 10_000,
                                       repeats=1 if quick else 3)
        elif name == "mixers":
            report[name] = mixers.run(device, repeats=3 if quick else 5,
                                      lengths=mixers.LENGTHS[:3] if quick else mixers.LENGTHS)
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
    if "scan" in report:
        r = report["scan"]
        lengths = sorted({row["length"] for row in r["rows"]})
        lines += ["", f"2b. selective scan forward+backward, batch {r['batch']}, H={r['channels']},"
                      f" N={r['d_state']}, chunk {r['chunk_size']} (seconds)",
                  "   " + f"{'scan':<12}" + "".join(f"{'L=' + str(L):>10}" for L in lengths)]
        for form in sorted({row["scan"] for row in r["rows"]}):
            times = {row["length"]: row["seconds"] for row in r["rows"] if row["scan"] == form}
            lines.append("   " + f"{form:<12}" + "".join(f"{times[L]:>10.4f}" for L in lengths))
    if "targets" in report:
        lines += ["", "3. target evaluation"]
        for x in report["targets"]:
            lines.append(f"   {x['target']:<22} {x['n_basis']} basis functions, {x['sequences']}"
                         f" sequences x {x['length']} tokens: {x['seconds']:.2f} s "
                         f"({x['sequences_per_second']:.0f} sequences/s)")
    if "cells" in report:
        r = report["cells"]
        lines += ["", f"5. published cells refitted ({r['class']}, draw {r['draw']}, replicate "
                      f"{r['replicate']}, one thread; published: as recorded in the cell)",
                  f"   {'estimator':<12} {'n':>5} {'wall s':>8} {'CPU s':>8} {'published s':>12}"
                  f" {'epochs':>7} {'published':>9} {'risk':>10} {'published':>10} {'ratio':>6}"]
        for x in r["rows"]:
            lines.append(f"   {x['estimator']:<12} {x['n']:>5} {x['seconds']:>8.1f} "
                         f"{x['cpu_seconds']:>8.1f} {x['published_seconds']:>12.1f} "
                         f"{x['epochs']:>7.0f} {x['published_epochs']:>9.0f} {x['risk']:>10.3g}"
                         f" {x['published_risk']:>10.3g} {x['risk_ratio']:>6.3f}")
        s = r["steps"]
        lines.append(f"   one Transformer step (width {s['width']}, FNN {s['fnn_width']}, batch "
                     f"{s['batch']} x {s['tokens']} tokens): ours {s['ours_r1'] * 1e3:.2f} ms "
                     f"(R=2: {s['ours_r2_per_replicate'] * 1e3:.2f} ms per replicate), plain "
                     f"torch {s['plain'] * 1e3:.2f} ms: overhead {100 * s['overhead']:+.0f}%")
    if "study" in report:
        x = report["study"]
        lines += ["", f"4. nprates demo ({x['study']} study and report) end to end: "
                      f"{x['seconds']:.0f} s, peak memory {x['peak_memory_mib']:.0f} MiB"]
    if "mixers" in report:
        lines += mixers.format_section(report["mixers"], 6)
    if "importance" in report:
        lines += importance.format_lines(report["importance"])
    lines += ["", f"bench took {report['seconds']:.0f} s"]
    return "\n".join(lines)
