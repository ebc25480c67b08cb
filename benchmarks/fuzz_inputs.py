"""Fuzzing the inputs nprates takes from others: cell files and study files.

    nice -n 19 python benchmarks/fuzz_inputs.py [--cells 1000] [--studies 1000] [--seed 0]
                                                [--timeout 20] [--json PATH]

Each case mutates a real input at random and reads it in-process, with a per-case
timeout:

- **cells**: a cell file of ``results/published`` (byte flips, cuts, insertions and
  repeats; or one field of its row replaced by a hostile value, its checksum recomputed
  as an attacker would; or the file replaced by a FIFO, a link to ``/dev/zero``, a
  directory or an empty file), in a results directory with three sound cells and the
  published ``study.toml``; read with ``load_results``, and every 20th case also with
  ``nprates fit`` (``nprates.cli.main``). Expected: the sound cells load and the mutated
  one is loaded or skipped with one one-line warning.
- **studies**: a study file of ``examples/`` (the same byte mutations, or a value of its
  tables replaced, deleted or added, e.g. a ``trust`` list or an attacking factory),
  validated with ``Study.from_toml``; every 50th valid one also with ``check_study``
  (imports, constructs and smoke-tests everything). Expected: a study or one
  ``StudyError`` line.

Anything else counts: a **traceback** (an exception other than the expected one, or a
message of more than one line), a **hang** (the per-case timeout), a **crash** (the
worker process died; cases run in worker processes of ``--chunk`` cases, and a fresh one
resumes after the case that killed its predecessor). The counts are printed (and written
as JSON with ``--json``); the target is 0 of each. ``tests/test_fuzz_inputs.py`` runs a
short version
(``run_cases`` in its own process, without ``check_study``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "results" / "published"
EXAMPLES = ROOT / "examples"
OUTCOMES = ("ok", "refused", "traceback", "hang", "crash")

HOSTILE = [
    None, True, False, 0, -1, 2**63, int("9" * 400), 1e308, -1e308, 0.5, "", "ok", "x" * 5000,
    "t\x1b[2J\x1b]0;pwned\x07", "$\\frac{1}{$", "\u202eevil", "a/../../b", "nan", "inf",
    [], [1, 2], {}, {"a": {"b": [1]}}, json.loads("[" * 40 + "1" + "]" * 40),
]
TEXT_HOSTILE = ["1e400", "NaN", "-Infinity", "9" * 400, "[" * 5000 + "]" * 5000,
                "{" * 3000, '"\\ud800"', "null", '"' + "x" * 100000 + '"']
STUDY_HOSTILE = HOSTILE + ["posix:system", "nprates.studies:run_study", "nprates.cli:main",
                           "nprates.studies.store:write_cell", "builtins.eval",
                           "sklearn.utils._testing:assert_run_python_script_without_output",
                           "..x:y", "os.system", {"rule": "rate", "c": 1e300}]


# -- mutations -------------------------------------------------------------------------------

def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """1-4 random byte edits: flip, cut, insert, repeat or truncate."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if not data:
            data += bytes([rng.randrange(256)])
        i = rng.randrange(len(data))
        op = rng.choice(("flip", "cut", "insert", "repeat", "truncate", "bracket"))
        if op == "flip":
            data[i] = rng.randrange(256)
        elif op == "cut":
            del data[i:i + rng.randint(1, 40)]
        elif op == "insert":
            data[i:i] = rng.choice([b"[", b"{", b"\x00", b"\xff", b"9" * 500, b"\x1b[2J",
                                    b"\"", b"\\", b"=", b"\n[x]\n", b"$", b"1e400"])
        elif op == "repeat":
            data[i:i] = data[i:i + rng.randint(1, 200)] * rng.randint(2, 50)
        elif op == "bracket":
            data[i:i] = b"[" * rng.randint(30, 3000)
        else:
            del data[i:]
    return bytes(data)


def _paths(value, prefix=()):
    """Every (path, value) of nested dicts (lists as leaves)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield prefix + (k,), v
            yield from _paths(v, prefix + (k,))


def mutate_tree(tree: dict, rng: random.Random, pool: list) -> dict:
    """Replace, delete or add one value somewhere in a nested dict."""
    paths = [p for p, _ in _paths(tree)]
    path = rng.choice(paths)
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    op = rng.random()
    if op < 0.6:
        parent[path[-1]] = rng.choice(pool)
    elif op < 0.8:
        del parent[path[-1]]
    else:
        parent[rng.choice(["trust", "extra", "class", "factory", "x" * 300, "\x1b", "n",
                           "risk", "target"])] = rng.choice(pool)
    return tree


def cell_case(rng: random.Random, sound: list[Path], folder: Path) -> Path:
    """A results directory holding one mutated cell file and three sound ones."""
    from nprates.analysis.results_dir import row_digest

    res = folder / "res"
    cells = res / "cells"
    cells.mkdir(parents=True)
    shutil.copy(PUBLISHED / "study.toml", res / "study.toml")
    picks = rng.sample(sound, 4)
    for p in picks[1:]:
        shutil.copy(p, cells / p.name)
    target = cells / picks[0].name
    data = picks[0].read_bytes()
    kind = rng.random()
    if kind < 0.35:
        target.write_bytes(mutate_bytes(data, rng))
    elif kind < 0.9:
        payload = json.loads(data)
        mutate_tree(payload["row"], rng, HOSTILE)
        if rng.random() < 0.85:
            payload["sha256"] = row_digest(payload["row"])
        text = json.dumps(payload, allow_nan=True)
        if rng.random() < 0.2:  # a value JSON cannot produce from Python: splice raw text
            key = rng.choice(list(payload["row"]) or ["risk"])
            text = text.replace(f'"{key}": ', f'"{key}": {rng.choice(TEXT_HOSTILE)}, "_": ', 1)
        target.write_text(text)
    else:
        special = rng.choice(("fifo", "zero", "dir", "empty", "dangling"))
        if special == "fifo":
            os.mkfifo(target)
        elif special == "zero":
            target.symlink_to("/dev/zero")
        elif special == "dir":
            target.mkdir()
        elif special == "empty":
            target.write_bytes(b"")
        else:
            target.symlink_to(folder / "nowhere")
    return res


def study_case(rng: random.Random, examples: list[Path], folder: Path) -> Path:
    """A mutated copy of an example study file."""
    import tomllib

    from nprates.studies.serialise import dump_toml

    source = rng.choice(examples)
    path = folder / source.name
    text = source.read_text()
    if rng.random() < 0.4:
        path.write_bytes(mutate_bytes(text.encode(), rng))
        return path
    tree = tomllib.loads(text)
    for _ in range(rng.randint(1, 3)):
        mutate_tree(tree, rng, STUDY_HOSTILE)
    try:
        path.write_text(dump_toml(tree))
    except Exception:  # a value TOML cannot write (null): write what it can
        path.write_text(text + f"\nextra = {json.dumps(str(rng.choice(STUDY_HOSTILE)))}\n")
    return path


# -- running one case -----------------------------------------------------------------------

class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def _one_line(text: str) -> bool:
    return "\n" not in text.strip() and "Traceback" not in text


def run_cell(res: Path, with_cli: bool) -> str:
    from nprates.studies import load_results

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = load_results(res)
    caught = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    if not all(_one_line(str(w.message)) for w in caught) or len(caught) > 1:
        return "traceback"
    if len(table) < 3:
        return "traceback"  # a sound cell was lost
    if with_cli:
        import contextlib
        import io

        from nprates.cli import main

        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = main(["fit", str(res), "--n-boot", "50"])
        if code not in (0, 2) or "Traceback" in err.getvalue():
            return "traceback"
    return "refused" if caught else "ok"


def run_study_case(path: Path, with_check: bool) -> str:
    from nprates.studies import Study, StudyError, check_study

    try:
        study = Study.from_toml(path)
        if with_check:
            check_study(study)
    except (StudyError, FileNotFoundError) as exc:
        return "refused" if _one_line(str(exc)) else "traceback"
    return "ok"


def run_cases(kind: str, seed: int, start: int, count: int, timeout: int,
              check_every: int = 50, cli_every: int = 20):
    """Run cases start..start+count-1 here; yield one record (a dict) per case."""
    sources = sorted((PUBLISHED / "cells").glob("*.json")) if kind == "cells" \
        else sorted(EXAMPLES.glob("*.toml"))
    # imported before the clock runs: on a busy machine an import alone can take longer
    # than a case's timeout
    for module in ("nprates.studies.store", "nprates.cli", "nprates.cli.fit", "nprates.analysis",
                   "nprates.studies.check", "nprates.estimators"):
        importlib.import_module(module)
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for case in range(start, start + count):
            rng = random.Random(f"{seed}/{kind}/{case}")
            folder = Path(tempfile.mkdtemp(prefix="nprates-fuzz-"))
            t0 = time.monotonic()
            detail = ""
            try:
                signal.alarm(timeout)
                if kind == "cells":
                    outcome = run_cell(cell_case(rng, sources, folder),
                                       bool(cli_every) and case % cli_every == 0)
                else:
                    outcome = run_study_case(study_case(rng, sources, folder),
                                             bool(check_every) and case % check_every == 0)
            except Hang:
                outcome = "hang"
            except BaseException as exc:  # noqa: BLE001 - counting them is the point
                outcome, detail = "traceback", f"{type(exc).__name__}: {str(exc)[:200]}"
            finally:
                signal.alarm(0)
                shutil.rmtree(folder, ignore_errors=True)
            yield {"case": case, "outcome": outcome, "detail": detail,
                   "seconds": round(time.monotonic() - t0, 3)}
    finally:
        signal.signal(signal.SIGALRM, previous)


def fuzz(kind: str, cases: int, seed: int, timeout: int, chunk: int) -> dict:
    """Run ``cases`` cases in worker processes; counts per outcome, and the failures."""
    counts = dict.fromkeys(OUTCOMES, 0)
    failures = []
    case = 0
    while case < cases:
        count = min(chunk, cases - case)
        proc = subprocess.run([sys.executable, __file__, "--worker", kind, "--seed", str(seed),
                               "--start", str(case), "--count", str(count),
                               "--timeout", str(timeout)], capture_output=True, text=True,
                              cwd=tempfile.gettempdir())
        done = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        for record in done:
            counts[record["outcome"]] += 1
            if record["outcome"] in ("traceback", "hang"):
                failures.append(record)
        case += len(done)
        if proc.returncode != 0 and len(done) < count:  # the worker died in a case
            counts["crash"] += 1
            failures.append({"case": case, "outcome": "crash",
                             "detail": f"exit {proc.returncode}: {proc.stderr[-300:]}"})
            case += 1
    return {"cases": cases, **counts, "failures": failures[:20]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=int, default=20, help="seconds per case")
    parser.add_argument("--chunk", type=int, default=250, help="cases per worker process")
    parser.add_argument("--json", metavar="PATH")
    parser.add_argument("--worker", choices=("cells", "studies"), help=argparse.SUPPRESS)
    parser.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        for record in run_cases(args.worker, args.seed, args.start, args.count, args.timeout):
            print(json.dumps(record), flush=True)
        return 0
    report = {}
    for kind, cases in (("cells", args.cells), ("studies", args.studies)):
        t0 = time.monotonic()
        report[kind] = fuzz(kind, cases, args.seed, args.timeout, args.chunk)
        report[kind]["seconds"] = round(time.monotonic() - t0, 1)
        counts = ", ".join(f"{k} {report[kind][k]}" for k in OUTCOMES)
        print(f"{kind}: {cases} cases: {counts} ({report[kind]['seconds']} s)")
        for failure in report[kind]["failures"]:
            print(f"  case {failure['case']}: {failure['outcome']} {failure['detail']}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    bad = sum(report[k][o] for k in report for o in ("traceback", "hang", "crash"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
