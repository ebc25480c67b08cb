"""Token importance throughput: gradient x input and integrated gradients on CPU-sized networks.

Importance (``nprates.estimators.importance``) of ``sequences`` random sequences of
``length`` tokens (3 features, uniform in [0, 1]) at every position, for an SSM and a
Transformer of the estimators' default sizes (width 32, FNN width 64, 2 layers) after a
one-epoch fit: the cost of importance does not depend on the weights' values.
"""

from __future__ import annotations

import time

import numpy as np

from nprates.estimators import SSMRegressor, TransformerRegressor
from nprates.estimators.importance import token_importance

ESTIMATORS = {"ssm": SSMRegressor, "transformer": TransformerRegressor}


def run(sequences: int = 10_000, length: int = 16, steps: int = 16) -> list[dict]:
    """Seconds of ``token_importance`` per estimator and method (one timed run each, after
    a warm-up on 64 sequences): gradient x input on ``sequences`` sequences, integrated
    gradients (``steps`` times the work per sequence) on a tenth of them; rows
    {estimator, method, sequences, length, steps, seconds, sequences_per_second}."""
    rng = np.random.default_rng(0)
    X = rng.random((sequences, length, 3)).astype(np.float32)
    rows = []
    for name, cls in ESTIMATORS.items():
        est = cls(max_epochs=1, device="cpu", random_state=0).fit(X[:64], rng.random((64, length)))
        for method, m in (("grad_input", sequences), ("integrated_gradients", sequences // 10)):
            token_importance(est, X[:64], length, method=method, steps=steps)
            start = time.perf_counter()
            token_importance(est, X[:m], length, method=method, steps=steps)
            seconds = time.perf_counter() - start
            rows.append({"estimator": name, "method": method, "sequences": m,
                         "length": length, "steps": steps if method != "grad_input" else 1,
                         "seconds": seconds, "sequences_per_second": m / seconds})
    return rows


def format_lines(rows: list[dict]) -> list[str]:
    """The figures of ``run`` as report lines."""
    lines = ["", "5. token importance (every position, CPU)"]
    for x in rows:
        steps = f", {x['steps']} path points" if x["method"] != "grad_input" else ""
        lines.append(f"   {x['estimator']:<12} {x['method']:<21} {x['sequences']} sequences x "
                     f"{x['length']} tokens{steps}: {x['seconds']:.1f} s "
                     f"({x['sequences_per_second']:.0f} sequences/s)")
    return lines
