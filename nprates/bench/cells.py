"""Per-cell cost: published cells refitted with this code beside their recorded cost, and
one training step against a plain-torch reference of the same shapes.

``run`` refits replicate 0 of the mixed class's draw 0 of ``results/published`` (the
committed study.toml, the committed seeds) for each estimator and size, one torch thread,
one process, and reports its wall and CPU seconds beside the ``fit_seconds`` and risk
recorded in the published cell. The refit uses the published protocol: the learning-rate
grid as given (``lr_extend=0``; the grid extension came later), so the risks can be
compared cell by cell. Recorded ``fit_seconds`` come from the published run: two workers
of one thread each on a 2-core machine, each fit timed on its own wall clock.

``steps`` times one optimiser step of the published Transformer cell's network (n = 689:
width 36, FNN width 72, 2 layers, 2 heads, batch 128, 16 scored tokens) in our replicate
layout against the same network written as plain torch modules (``nn.Linear``,
``nn.LayerNorm``, ``scaled_dot_product_attention``) and a bare loop, so the layout's
overhead over that floor is a number.
"""

from __future__ import annotations

import json
import math
import time
import tomllib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from nprates.bench.timing import median_time

CLASS = "mixed"           # the published class whose draw 0 is refitted
ESTIMATORS = ("ssm", "transformer", "mlp", "oracle")
SIZES = (689, 3200)


def _published_study(path: Path):
    """The committed study of ``path`` with every grid at lr_extend=0 (the published
    protocol)."""
    from nprates.studies import Study

    spec = path / "study.toml"
    if not spec.is_file():
        raise ValueError(f"results directory {path} has no study.toml (run from the "
                         f"repository root, or pass the published results directory)")
    data = tomllib.loads(spec.read_text(encoding="utf-8"))
    for est in data["estimators"].values():
        params = est.get("params", {})
        if isinstance(params.get("lr"), list):
            params["lr_extend"] = 0
    return Study.from_dict(data, source=str(spec))


def run(results="results/published", estimators=ESTIMATORS, sizes=SIZES,
        replicate: int = 0) -> dict:
    """Refit the published cells (``CLASS`` draw 0, ``replicate``) of each estimator and
    size in this process with one torch thread.

    Returns {"rows": [{estimator, n, seconds, cpu_seconds, risk, epochs, lr,
    published_seconds, published_risk, published_epochs, published_lr, risk_ratio}]}.
    """
    from nprates.studies.cells import Task, run_task

    path = Path(results)
    study = _published_study(path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for n in sizes:
            for name in estimators:
                cell = path / "cells" / f"{CLASS}__{name}__n{n}__r{replicate}.json"
                if not cell.is_file():
                    raise ValueError(f"no published cell {cell}")
                published = {key: math.nan if value is None else value  # JSON null: NaN
                             for key, value in json.loads(cell.read_text())["row"].items()}
                start, cpu = time.perf_counter(), time.process_time()
                (row,) = run_task(Task(study, CLASS, name, n, (replicate,), "cpu", threads=1))
                seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
                if row["status"] != "ok":
                    raise RuntimeError(f"refit of {cell.name} failed: {row['error']}")
                rows.append({"estimator": name, "n": n, "seconds": seconds,
                             "cpu_seconds": cpu, "fit_seconds": row["fit_seconds"],
                             "risk": row["risk"], "epochs": row["epochs"], "lr": row["lr"],
                             "published_seconds": published["fit_seconds"],
                             "published_risk": published["risk"],
                             "published_epochs": published["epochs"],
                             "published_lr": published["lr"],
                             "risk_ratio": row["risk"] / published["risk"]})
    finally:
        torch.set_num_threads(threads)
    return {"class": CLASS, "draw": 0, "replicate": replicate, "rows": rows}


class _PlainBlock(nn.Module):
    def __init__(self, width, fnn_width, heads):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.fnn = nn.Sequential(nn.Linear(width, fnn_width), nn.GELU(),
                                 nn.Linear(fnn_width, width))

    def forward(self, x):
        N, T, W = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(N, T, 3, self.heads, W // self.heads).permute(
            2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.out(o.transpose(1, 2).reshape(N, T, W))
        return x + self.fnn(self.norm2(x))


class _PlainTransformer(nn.Module):
    """The Transformer of ``networks.TransformerNetwork`` (sinusoidal positions aside) in
    plain torch modules, one replicate."""

    def __init__(self, features, width, fnn_width, heads, layers):
        super().__init__()
        self.embed = nn.Linear(features, width)
        self.blocks = nn.ModuleList(_PlainBlock(width, fnn_width, heads) for _ in range(layers))
        self.norm, self.readout = nn.LayerNorm(width), nn.Linear(width, 1)

    def forward(self, x):
        h = self.embed(x)
        for block in self.blocks:
            h = block(h)
        return self.readout(self.norm(h))[..., 0]


def steps(width: int = 36, fnn_width: int = 72, heads: int = 2, layers: int = 2,
          batch: int = 128, length: int = 16, burn_in: int = 3, features: int = 2,
          repeats: int = 5, steps_per_repeat: int = 20) -> dict:
    """Seconds per optimiser step (forward, backward, fused AdamW) of the Transformer in
    our replicate layout (R = 1, and R = 2 per replicate: a two-rate grid) and in plain
    torch modules, same shapes, one thread. Returns {"ours_r1", "ours_r2_per_replicate",
    "plain", "overhead"} (ours_r1 / plain - 1)."""
    from nprates.estimators import TransformerRegressor
    from nprates.estimators.layers import stack_replicates
    from nprates.estimators.training import TrainingConfig, parameter_groups

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    T = length + burn_in
    x, y = torch.randn(batch, T, features, generator=g), torch.randn(batch, length, generator=g)
    est = TransformerRegressor(width, layers, n_heads=heads, fnn_width=fnn_width, device="cpu")
    est.n_features_in_, est.seq_len_, est.y_mean_, est.y_scale_ = features, T, 0.0, 1.0

    def timed(step):
        t = median_time(lambda: [step() for _ in range(steps_per_repeat)], repeats=repeats)
        return t["median"] / steps_per_repeat

    out = {}
    try:
        for R in (1, 2):
            net = stack_replicates([est._make_network(1) for _ in range(R)])
            opt = torch.optim.AdamW(parameter_groups(net, TrainingConfig()), fused=True)
            xr, yr = x.expand(R, -1, -1, -1).contiguous(), y.expand(R, -1, -1).contiguous()

            def ours(net=net, opt=opt, xr=xr, yr=yr):
                losses = est._loss(net(xr), yr)
                opt.zero_grad(set_to_none=True)
                losses.sum().backward()
                opt.step()
            out[f"ours_r{R}"] = timed(ours) / R
        plain = _PlainTransformer(features, width, fnn_width, heads, layers)
        opt = torch.optim.AdamW(plain.parameters(), lr=3e-3, weight_decay=0.01, fused=True)

        def reference():
            loss = (plain(x)[:, -length:] - y).square().mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        out["plain"] = timed(reference)
    finally:
        torch.set_num_threads(threads)
    return {"width": width, "fnn_width": fnn_width, "batch": batch, "tokens": T,
            "ours_r1": out["ours_r1"], "ours_r2_per_replicate": out["ours_r2"],
            "plain": out["plain"], "overhead": out["ours_r1"] / out["plain"] - 1}
