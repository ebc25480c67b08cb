"""Dynamic token selection on a CPU: 1- and 2-layer SSM+FNN, Transformer, selective SSM.

    python benchmarks/capability_recall.py [--steps 1000] [--seeds 3] [--width 32]
                                           [--fnn-depth 1] [--models M ...] [--tasks T ...]
                                           [--threads 1] [--quick] [--json PATH]

The small-scale counterpart of the papers' Figure C.1 (docs/theory.md section 7). Tasks
(``TASKS``): associative recall with vocabulary 8 and 4 pairs and with vocabulary 16 and
8 pairs, input copying of 8 tokens from a vocabulary of 8. Models (``models``), all of
the same width (residual stream and SSM channels), FNN width and FNN depth:

- ``ssm1``, ``ssm2``: the papers' SSM network, 1 or 2 x [LTI S4D layer, FNN];
- ``transformer``: 2 x [causal attention, FNN], sinusoidal positions;
- ``selective1``, ``selective2``: 1 or 2 x [Mamba-style selective SSM layer, FNN]
  (sequential scan: the same outputs as the chunked one, faster on a CPU at these lengths).

Every model trains on the same data for the same fixed budget: ``steps`` AdamW steps on
mini-batches of 64 sequences drawn from ``n_train`` fresh sequences per seed, no early
stopping, the weights of the best validation cross-entropy (10% of the training sequences)
kept. Seeds differ in training data and initialisation; the seeds of one model train
together (``fit_replicates``). All models are scored on one test set per task.

Reported per (task, model): token accuracy and exact match (all scored tokens of a sequence
right) on the test set, mean over seeds with a 95% t-interval over seeds (clipped to
[0, 1]), the per-seed values, the final training cross-entropy (to tell optimisation
failure from poor generalisation), the parameter count and the wall time of the fit of
all seeds; for associative recall also the accuracy of the best rule that ignores which
key each value is bound to (``no_binding_accuracy``): a model above it uses the bindings.
``run(...)`` returns the per-seed rows as a DataFrame, ``summarize(rows)`` the table,
``references()`` the no-binding accuracies; ``python benchmarks/capability_recall.py``
prints them as Markdown.

Threads: one torch thread by default. These models are small (width 32, at most 17
tokens), so each operation is too short to gain from a second thread, and on a machine
whose cores are shared the threads wait for each other at every operation: on the shared
2-core box a 200-step fit of ``ssm1`` took 5 s with one thread and 162 s with two.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats
from sklearn.base import clone

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nprates.estimators.classifiers import (SelectiveSSMClassifier, SSMClassifier,  # noqa: E402
                                    TransformerClassifier)
from nprates.estimators.errors import TrainingDiverged  # noqa: E402
from nprates.estimators.replicates import fit_replicates  # noqa: E402
from nprates.bench.timing import machine  # noqa: E402
from nprates.tasks import (AssociativeRecall, InputCopying, exact_match_per_sequence,  # noqa: E402
                           token_accuracy_per_sequence)

TASKS = {
    "recall_v8_p4": AssociativeRecall(vocab_size=8, n_pairs=4),
    "recall_v16_p8": AssociativeRecall(vocab_size=16, n_pairs=8),
    "copy_v8_l8": InputCopying(vocab_size=8, length=8),
}
MODELS = ("ssm1", "ssm2", "transformer", "selective1", "selective2")
ROOT_SEED = 2024
BATCH_SIZE = 64
TEST_SIZE = 2000


def models(width: int = 32, fnn_width: int = 64, fnn_depth: int = 1, steps: int = 1000) -> dict:
    """The compared classifiers (unfitted), keyed by name; equal width and FNNs, one budget."""
    budget = dict(batch_size=BATCH_SIZE, max_steps=steps, min_steps=0, max_epochs=10 ** 9,
                  patience=10 ** 9, val_fraction=0.1, device="cpu")
    shared = dict(width=width, fnn_width=fnn_width, fnn_depth=fnn_depth, **budget)
    return {
        "ssm1": SSMClassifier(n_layers=1, **shared),
        "ssm2": SSMClassifier(n_layers=2, **shared),
        "transformer": TransformerClassifier(n_layers=2, n_heads=4, **shared),
        "selective1": SelectiveSSMClassifier(n_layers=1, scan="sequential", **shared),
        "selective2": SelectiveSSMClassifier(n_layers=2, scan="sequential", **shared),
    }


def no_binding_accuracy(task: AssociativeRecall, tokens: np.ndarray) -> float:
    """Test accuracy of the best rule that ignores which key each value is bound to.

    Without the bindings, the multiset of values is all a model can use: guessing its most
    frequent value (the first among ties) is right with probability (its count) / n_pairs,
    the most any such rule achieves. A model above this level binds keys to values.
    """
    N = task.n_pairs
    values = tokens[:, 1:2 * N:2]
    counts = (values[:, :, None] == values[:, None, :]).sum(axis=-1)   # (n, N)
    guess = values[np.arange(len(values)), counts.argmax(axis=1)]
    pred = np.repeat(guess[:, None], tokens.shape[1], axis=1)         # every position
    return float(token_accuracy_per_sequence(pred, task.oracle(tokens)).mean())


def _data(task_index: int, task, n: int, stream: int):
    return task.sample(n, rng=np.random.SeedSequence([ROOT_SEED, task_index, stream]))


def _test_set(name: str):
    return _data(list(TASKS).index(name), TASKS[name], TEST_SIZE, 10 ** 6)


def references(tasks=None) -> dict:
    """``no_binding_accuracy`` on the test set of each associative-recall task."""
    names = list(TASKS) if tasks is None else list(tasks)
    return {name: no_binding_accuracy(TASKS[name], _test_set(name).tokens) for name in names
            if isinstance(TASKS[name], AssociativeRecall)}


def run(tasks=None, model_names=MODELS, seeds: int = 3, steps: int = 1000, n_train: int = 8000,
        width: int = 32, fnn_width: int = 64, fnn_depth: int = 1, threads: int = 1,
        progress=print) -> pd.DataFrame:
    """Train every model on every task with ``seeds`` seeds; one row per (task, model, seed).

    ``tasks``: names from ``TASKS`` (None: all). Columns: task, model, seed, token_accuracy,
    exact_match, train_loss (cross-entropy, nats), n_params, steps, seconds (wall time of
    the fit of all seeds of the model), diverged.
    """
    torch.set_num_threads(threads)
    tasks = list(TASKS) if tasks is None else list(tasks)
    catalogue = models(width, fnn_width, fnn_depth, steps)
    unknown = [name for name in model_names if name not in catalogue]
    if unknown or any(name not in TASKS for name in tasks):
        raise ValueError(f"unknown models {unknown} or tasks {tasks}: models are "
                         f"{list(catalogue)}, tasks {list(TASKS)}")
    rows = []
    for task_index, name in enumerate(TASKS):
        if name not in tasks:
            continue
        task = TASKS[name]
        train = [_data(task_index, task, n_train, seed) for seed in range(seeds)]
        test = _test_set(name)
        for model in model_names:
            est = clone(catalogue[model]).set_params(n_tokens=task.n_tokens,
                                                     n_classes=task.n_classes)
            start = time.perf_counter()
            fitted = fit_replicates(est, [b.tokens for b in train], [b.targets for b in train],
                                    list(range(seeds)))
            seconds = time.perf_counter() - start
            for seed, fit in enumerate(fitted):
                row = dict(task=name, model=model, seed=seed, steps=steps, seconds=seconds,
                           diverged=isinstance(fit, TrainingDiverged))
                if row["diverged"]:
                    row.update(token_accuracy=np.nan, exact_match=np.nan, train_loss=np.nan,
                               n_params=np.nan)
                else:
                    pred = fit.predict(test.tokens)
                    row.update(
                        token_accuracy=float(token_accuracy_per_sequence(pred, test.targets)
                                             .mean()),
                        exact_match=float(exact_match_per_sequence(pred, test.targets).mean()),
                        train_loss=fit.train_loss_, n_params=fit.n_params_)
                rows.append(row)
            accuracies = [r["token_accuracy"] for r in rows[-seeds:]]
            progress(f"{name:14s} {model:12s} accuracy {np.round(accuracies, 3)} "
                     f"({seconds:.0f} s)")
    return pd.DataFrame(rows)


def _t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean and the t-interval over seeds, clipped to [0, 1]; NaN bounds with one seed."""
    mean = float(values.mean())
    n = len(values)
    if n < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + level / 2, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return mean, max(0.0, mean - half), min(1.0, mean + half)


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, model): accuracy and exact match with 95% t-intervals over seeds."""
    out = []
    for (task, model), group in rows.groupby(["task", "model"], sort=False):
        ok = group[~group["diverged"]]
        record = dict(task=task, model=model, seeds=len(group),
                      diverged=int(group["diverged"].sum()),
                      n_params=int(ok["n_params"].iloc[0]) if len(ok) else np.nan)
        for metric in ("token_accuracy", "exact_match"):
            values = ok[metric].to_numpy()
            mean, low, high = _t_interval(values) if len(values) else (np.nan,) * 3
            record.update({metric: mean, f"{metric}_low": low, f"{metric}_high": high,
                           f"{metric}_per_seed": " ".join(f"{v:.3f}" for v in values)})
        record.update(train_loss=float(ok["train_loss"].mean()) if len(ok) else np.nan,
                      seconds=float(group["seconds"].iloc[0]))
        out.append(record)
    return pd.DataFrame(out)


def markdown(summary: pd.DataFrame) -> str:
    """The summary as a Markdown table."""
    lines = ["| task | model | params | token accuracy [95% CI] | per seed | exact match "
             "[95% CI] | train CE | fit s |", "|---" * 8 + "|"]
    for r in summary.itertuples():
        lines.append(
            f"| {r.task} | {r.model} | {r.n_params} | {r.token_accuracy:.3f} "
            f"[{r.token_accuracy_low:.3f}, {r.token_accuracy_high:.3f}] | "
            f"{r.token_accuracy_per_seed} | {r.exact_match:.3f} [{r.exact_match_low:.3f}, "
            f"{r.exact_match_high:.3f}] | {r.train_loss:.3f} | {r.seconds:.0f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1000, help="AdamW steps per fit")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=8000, help="training sequences per seed")
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--fnn-width", type=int, default=64)
    parser.add_argument("--fnn-depth", type=int, default=1)
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="50 steps, 2 seeds: a smoke run")
    parser.add_argument("--json", type=Path, help="write the rows, table and settings here")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.seeds, args.n_train = 50, 2, 1000
    start = time.perf_counter()
    rows = run(args.tasks, args.models, seeds=args.seeds, steps=args.steps,
               n_train=args.n_train, width=args.width, fnn_width=args.fnn_width,
               fnn_depth=args.fnn_depth, threads=args.threads)
    summary = summarize(rows)
    total = time.perf_counter() - start
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    print(f"\nsettings: {settings}, batch {BATCH_SIZE}, test {TEST_SIZE} sequences; "
          f"total {total:.0f} s\n")
    print(markdown(summary))
    refs = references(args.tasks)
    if refs:
        print("\nno-binding reference (most frequent value of the sequence): "
              + ", ".join(f"{name} {acc:.3f}" for name, acc in refs.items()))
    if args.json:
        args.json.write_text(json.dumps({"settings": settings, "machine": machine(),
                                         "total_seconds": total, "no_binding": refs,
                                         "rows": rows.to_dict(orient="records"),
                                         "summary": summary.to_dict(orient="records")},
                                        indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
