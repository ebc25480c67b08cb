"""What a shorter step patience would do to finished fits, read from their training histories.

    python benchmarks/patience_from_histories.py results/lr-pilot results/recovery \
        results/decisive [--steps 100] [--batch-size 128] [--patience 15]

A network cell records the per-epoch validation loss of the fit it kept (column
``history``). Early stopping waits ``max(patience, ceil(patience_steps / steps per
epoch))`` epochs after the best; the recorded run used ``patience_steps = 200`` (the
estimators' default). With a shorter wait the kept fit is unchanged exactly when no new
best came after a wait longer than the shorter one, and it then saves the difference of
the two waits. Per (directory, estimator, n): the cells, how many would change, the two
waits and the share of the epochs saved by the unchanged ones. Only the kept candidate's
history is recorded, so the other learning-rate candidates' savings are not counted.
Histories are stored to 4 significant digits, so a tie there can count as a change.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from nprates.analysis import read_results_dir

RECORDED_STEPS = 200  # patience_steps of the recorded fits (the estimators' default)


def waits(n: int, batch_size: int, patience: int, steps: int, val_fraction: float = 0.2) -> int:
    """Epochs early stopping waits after the best at ``n`` sequences."""
    per_epoch = math.ceil((n - int(round(val_fraction * n))) / batch_size)
    return max(patience, math.ceil(steps / per_epoch))


def cell_effect(history: str, n: int, batch_size: int, patience: int, steps: int) -> dict:
    """Whether a wait for ``steps`` steps changes the kept fit, and the epochs it saves."""
    val = np.asarray(json.loads(history)["val"], dtype=float)
    old, new = (waits(n, batch_size, patience, s) for s in (RECORDED_STEPS, steps))
    lowest = np.minimum.accumulate(val)
    bests = np.flatnonzero(np.r_[True, lowest[1:] < lowest[:-1]]) + 1  # 1-based epochs
    changed = bool((np.diff(bests) > new).any())
    return dict(wait_old=old, wait_new=new, epochs=len(val), changed=changed,
                saved=math.nan if changed else old - new)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="results directories")
    parser.add_argument("--steps", type=int, default=100, help="the shorter patience_steps")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--patience", type=int, default=15, help="patience in epochs")
    args = parser.parse_args(argv)
    rows = []
    for directory in args.dirs:
        table = read_results_dir(directory)
        for r in table[table["history"].fillna("").astype(str) != ""].itertuples():
            effect = cell_effect(r.history, int(r.n), args.batch_size, args.patience, args.steps)
            rows.append(dict(directory=directory.name, estimator=r.estimator, n=int(r.n),
                             **effect))
    if not rows:
        raise SystemExit("no cell in these directories records a training history")
    t = pd.DataFrame(rows)
    out = t.groupby(["directory", "estimator", "n"]).agg(
        cells=("changed", "size"), changed=("changed", "sum"), wait_old=("wait_old", "first"),
        wait_new=("wait_new", "first"), epochs=("epochs", "mean"), saved=("saved", "mean"))
    out["saved_share"] = out["saved"] / out["epochs"]
    print(out.round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
