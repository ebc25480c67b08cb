"""The training loop shared by the torch estimators, batched over replicates.

``train_replicates`` trains the R replicates of a stacked network (``layers``) together:
AdamW on a per-replicate mean loss, mini-batches drawn on the device from a per-replicate
shuffle, a validation pass once per epoch, per-replicate early stopping with the best
weights restored. Replicates never interact: the summed loss has the gradient of each
replicate's own loss in its own parameters, and AdamW updates elementwise. A replicate
that stops early (patience exhausted, or a loss that is NaN or inf) is removed from the
batch, with its optimiser state, so the others go on exactly as if trained alone.

Replicates may train with different learning rates (``lrs``: the candidates of a
learning-rate grid train as more replicates). AdamW's step is linear in the learning
rate given its moments, so one step with learning rate 1 followed by
``p_before + lr_r * (p_after - p_before)`` per replicate is AdamW at ``lr_r``.

Stopping rule. A replicate stops early when its validation loss has not improved for
``patience`` epochs *and* for ``patience_steps`` optimiser steps (the longer of the two),
and never before ``min_steps`` steps. At small n an epoch is one or two steps, so epochs
alone would give up after a few dozen steps; at large n an epoch is many steps, and the
epoch count governs. Otherwise training ends at the cap, ``max_epochs`` epochs or
``max_steps`` steps; ``ReplicateOutcome.stopped_by`` records which ("early_stopping" or
"cap"). Without a validation split every replicate runs to the cap.

Racing the candidates of a learning-rate grid (``TrainingConfig.race_margin``). Replicates
that share a ``group`` (the candidates of one fit) race: once a replicate has trained
``patience`` epochs and ``patience_steps`` steps (the earliest it could stop early), it is
dropped, with ``stopped_by = "race"``, at the first epoch whose lowest validation loss so
far exceeds ``1 + race_margin`` times its competitors' lowest so far. Its competitors are
the group's other replicates still training at that epoch and, through ``reference``, the
group's candidates of earlier rounds at the same epoch (their lowest validation loss up to
that epoch). A dropped replicate can never be the group's best unless the better one
diverges afterwards, so racing saves training without changing which candidate wins, as
long as no candidate that trails by the margin would have overtaken later; how often that
happens is measured (docs/performance.md), not assumed.

An optional validation metric (``metric_fn``, e.g. a classifier's accuracy) is evaluated
on the network outputs of the validation loss's pass and recorded per epoch, and on the
training split with the restored weights (``ReplicateOutcome.train_metric``). Early
stopping is on the validation loss, or with ``TrainingConfig.stop_on_metric`` on the
metric (higher is better): the restored weights are those of the first epoch with the
highest validation metric, and patience counts epochs without a higher one.

Learning-rate decay on a plateau (``TrainingConfig.lr_decay``). A replicate whose validation
loss has not improved for a third of its patience window (``ceil(patience / 3)`` epochs and
``patience_steps // 3`` steps) since its best epoch or its last decay has its learning
rates (and its SSM group's) multiplied by ``lr_decay``; the stopping rule is unchanged, so
a fit whose loss does not improve after (at most) two decays stops as before. Without a
validation split nothing decays.
``ReplicateOutcome.lr_decays`` counts the decays.

Device traffic: the data arrive on the device once; per step nothing is copied between
host and device; once per epoch the shuffle order goes to the device and the loss values
(2R numbers, 3R with a metric) come back in one transfer.
"""

from __future__ import annotations

import logging
import math
import sys
from dataclasses import dataclass, field, replace

import torch

from .layers import replicate_state, set_replicate_state

EVAL_TOKENS = 2 ** 16  # tokens (summed over replicates) per chunk of an evaluation pass
_log = logging.getLogger(__name__)  # one DEBUG record per epoch


@dataclass
class TrainingConfig:
    """Optimisation budget. ``ssm_lr`` (None: the replicate's ``lr``) applies to
    ``ssm_parameter_names``. The stopping rule (module docstring): early stopping after
    ``patience`` epochs and ``patience_steps`` steps without a better validation loss, not
    before ``min_steps`` steps; the cap is ``max_epochs`` epochs or ``max_steps`` steps
    (None: no step cap)."""

    lr: float = 3e-3
    weight_decay: float = 0.01
    batch_size: int = 64
    max_epochs: int = 1000
    patience: int = 20
    patience_steps: int = 0
    max_steps: int | None = None
    min_steps: int = 0
    ssm_lr: float | None = None
    stop_on_metric: bool = False  # early stopping on the validation metric (module docstring)
    verbose: int = 0              # k > 0: a progress line to stderr every k epochs
    race_margin: float | None = None  # None: candidates do not race (module docstring)
    lr_decay: float | None = None     # None: constant rates; else the factor (module docstring)


@dataclass
class ReplicateOutcome:
    """What training did to one replicate; losses in the units of ``loss_fn``, the metric in
    those of ``metric_fn``."""

    train_history: list = field(default_factory=list)   # mean mini-batch loss per epoch
    val_history: list = field(default_factory=list)     # validation loss per epoch (NaN: none)
    val_metric_history: list = field(default_factory=list)  # per epoch (NaN: no validation
                                                            # split; empty: no metric_fn)
    n_epochs: int = 0
    n_steps: int = 0
    best_epoch: int = 0
    best_step: int = 0                                  # optimiser steps at best_epoch
    val_loss: float = math.inf                          # best validation loss (NaN: none)
    train_loss: float = math.nan                        # of the restored weights, eval mode
    train_metric: float = math.nan                      # likewise (NaN: no metric_fn)
    best_score: float = math.inf                        # lower is better: the validation
                                                        # loss, or minus the metric
    diverged_epoch: int | None = None
    stopped_by: str = "cap"                             # "early_stopping", "cap" or "race"
    lr_decays: int = 0                                  # plateau decays of the rate


def parameter_groups(network: torch.nn.Module, config: TrainingConfig) -> list[dict]:
    """AdamW groups: SSM dynamics (``ssm_lr``, no weight decay); per-replicate vectors
    (biases, norm gains, skips: at most 2 dimensions with the replicate one) and names in
    ``no_weight_decay_names`` (no weight decay); all other tensors (weight decay)."""
    named = {"ssm": set(), "no_decay": set()}
    for prefix, module in network.named_modules():
        for attr, key in (("ssm_parameter_names", "ssm"), ("no_weight_decay_names", "no_decay")):
            named[key].update(f"{prefix}.{name}" if prefix else name
                              for name in getattr(module, attr, ()))
    groups = {"ssm": [], "no_decay": [], "decay": []}  # each group's "kind"
    for name, p in network.named_parameters():
        if name in named["ssm"]:
            groups["ssm"].append(p)
        elif name in named["no_decay"] or p.dim() <= 2:
            groups["no_decay"].append(p)
        else:
            groups["decay"].append(p)
    ssm_lr = config.lr if config.ssm_lr is None else config.ssm_lr
    settings = {"ssm": (ssm_lr, 0.0), "no_decay": (config.lr, 0.0),
                "decay": (config.lr, config.weight_decay)}
    return [{"params": params, "lr": settings[key][0], "weight_decay": settings[key][1],
             "kind": key} for key, params in groups.items() if params]


@torch.no_grad()
def evaluate(network, fns, X, Y) -> torch.Tensor:
    """Per-replicate means of each of ``fns`` over all sequences of X (R, n, ...), eval mode.

    Every ``fn(outputs, targets) -> (R,)`` gets the same outputs of one forward pass per
    chunk of sequences; the chunk values are averaged weighted by the chunk's number of
    sequences. Returns a tensor (len(fns), R) on the device of X.
    """
    network.eval()
    R, n, T = X.shape[:3]
    chunk = max(1, EVAL_TOKENS // (R * T))
    total = torch.zeros(len(fns), R, device=X.device)
    for start in range(0, n, chunk):
        xb, yb = X[:, start:start + chunk], Y[:, start:start + chunk]
        outputs = network(xb)
        total += torch.stack([fn(outputs, yb) for fn in fns]) * xb.shape[1]
    return total / n


def _optimizer(network, config: TrainingConfig, unit_lr: bool = False) -> torch.optim.AdamW:
    """AdamW as one fused kernel (3-4x faster steps than the per-tensor loop, which matters
    for small networks); the multi-tensor loop where the fused kernel is missing (CPU before
    torch 2.4). ``unit_lr``: every group at learning rate 1 (``_scaled_step``)."""
    groups = parameter_groups(network, config)
    if unit_lr:
        for group in groups:
            group["lr"] = 1.0
    try:
        return torch.optim.AdamW(groups, fused=True)
    except RuntimeError:
        return torch.optim.AdamW(groups, foreach=True)


def _keep_replicates(network, optimizer, keep: torch.Tensor, config: TrainingConfig,
                     unit_lr: bool):
    """Drop every replicate not in ``keep`` (indices) from the network and the optimiser
    state; returns the optimiser of the smaller network."""
    moments = {name: optimizer.state.get(p, {}) for name, p in network.named_parameters()}
    set_replicate_state(network, {name: t[keep] for name, t in replicate_state(network).items()})
    optimizer = _optimizer(network, config, unit_lr)
    for name, p in network.named_parameters():  # AdamW's moments, not its step count
        optimizer.state[p] = {key: value[keep] if torch.is_tensor(value) and value.dim() > 0
                              else value for key, value in moments[name].items()}
    return optimizer


def _step_weights(optimizer, lr: torch.Tensor, ssm_lr: torch.Tensor) -> list[torch.Tensor]:
    """Per parameter of ``optimizer`` (group order), its replicates' learning rates shaped to
    broadcast over the parameter: ``ssm_lr`` (R,) for the SSM group, ``lr`` (R,) otherwise."""
    return [(ssm_lr if group["kind"] == "ssm" else lr).view(-1, *[1] * (p.dim() - 1))
            for group in optimizer.param_groups for p in group["params"]]


def _scaled_step(optimizer, weights: list[torch.Tensor]) -> None:
    """One AdamW step at a learning rate per replicate: a step at learning rate 1, then
    ``p_before + w * (p_after - p_before)`` (exact: the step is linear in the rate)."""
    params = [p for group in optimizer.param_groups for p in group["params"]]
    with torch.no_grad():
        before = [p.detach().clone() for p in params]
    optimizer.step()
    with torch.no_grad():
        torch._foreach_lerp_(before, [p.detach() for p in params], weights)
        torch._foreach_copy_(params, before)


def _race_losers(active, outcomes, groups, reference, epoch, margin) -> set:
    """Positions in ``active`` of the replicates that trail their group (module docstring)."""
    def lowest_so_far(history):  # inf for a replicate whose current loss is not finite
        finite = [v for v in history if math.isfinite(v)]
        return min(finite) if finite and math.isfinite(history[-1]) else math.inf

    lowest = [lowest_so_far(outcomes[r].val_history) for r in active]
    losers = set()
    for i, r in enumerate(active):
        rivals = [lowest[j] for j, q in enumerate(active) if q != r and groups[q] == groups[r]]
        curve = reference[r] if reference is not None else None
        if curve:
            rivals.append(curve[min(epoch, len(curve)) - 1])
        rivals = [v for v in rivals if math.isfinite(v)]
        if rivals and not lowest[i] <= (1.0 + margin) * min(rivals):
            losers.add(i)
    return losers


def train_replicates(network, loss_fn, X_train, Y_train, X_val, Y_val, shuffle_seeds,
                     config: TrainingConfig, metric_fn=None, lrs=None, groups=None,
                     reference=None) -> list[ReplicateOutcome]:
    """Train the stacked ``network`` in place; on return it holds each replicate's best weights.

    Parameters
    ----------
    network : module of the replicate layout, on the device of the data, R replicates.
    loss_fn : ``loss_fn(outputs, targets) -> (R,)``, each replicate's mean loss over the
        sequences of the batch; ``outputs = network(X[:, batch])``.
    X_train, Y_train : tensors (R, n_train, ...) on the device.
    X_val, Y_val : tensors (R, n_val, ...), or None: no validation, no early stopping, the
        weights of the last epoch are kept.
    shuffle_seeds : R integers, the seeds of the mini-batch orders.
    config : ``TrainingConfig``.
    metric_fn : ``metric_fn(outputs, targets) -> (R,)`` float, or None: a per-replicate validation
        metric, evaluated like the validation loss (same outputs, same averaging over the
        validation sequences) and recorded in ``val_metric_history``; it steers early
        stopping when ``config.stop_on_metric`` (which requires it).
    lrs : R learning rates, or None: ``config.lr`` for every replicate. The SSM group
        trains at ``config.ssm_lr`` when that is set, else at the replicate's rate.
    groups : R hashables, or None: replicates with equal groups race when
        ``config.race_margin`` is set (module docstring); None: no race.
    reference : R sequences of floats (or None entries), or None: per replicate, the lowest
        validation loss so far, per epoch, of its group's candidates trained earlier; the
        last value stands for later epochs.
    """
    if config.stop_on_metric and metric_fn is None:
        raise ValueError("config.stop_on_metric needs a metric_fn to stop on")
    R, n_train = X_train.shape[:2]
    for name, value in (("groups", groups), ("reference", reference)):
        if value is not None and len(value) != R:
            raise ValueError(f"{name} needs one entry per replicate ({R}), got {len(value)}")
    racing = config.race_margin is not None and groups is not None and X_val is not None
    device = X_train.device
    lrs = [float(config.lr)] * R if lrs is None else [float(v) for v in lrs]
    if len(lrs) != R:
        raise ValueError(f"lrs needs one learning rate per replicate ({R}), got {len(lrs)}")
    if config.lr_decay is not None and not 0.0 < config.lr_decay < 1.0:
        raise ValueError(f"lr_decay must be in (0, 1) or None, got {config.lr_decay!r}")
    # one rate for all and no decay: a plain AdamW step
    scaled = len(set(lrs)) > 1 or config.lr_decay is not None
    if not scaled:
        config = replace(config, lr=lrs[0])
    rep_lr = torch.tensor(lrs, device=device)
    rep_ssm_lr = rep_lr if config.ssm_lr is None else torch.full_like(rep_lr, config.ssm_lr)
    decay_epochs, decay_steps = -(-config.patience // 3), config.patience_steps // 3
    last_decay = [(0, 0)] * R  # per replicate: (epoch, step) of its last decay
    optimizer = _optimizer(network, config, scaled)
    weights = _step_weights(optimizer, rep_lr, rep_ssm_lr) if scaled else None
    generators = [torch.Generator().manual_seed(int(s)) for s in shuffle_seeds]
    best = {name: t.detach().clone() for name, t in replicate_state(network).items()}
    outcomes = [ReplicateOutcome() for _ in range(R)]
    active = list(range(R))   # the replicates still training, in the network's order
    val_fns = (loss_fn,) if metric_fn is None else (loss_fn, metric_fn)
    data = (X_train, Y_train, X_val, Y_val)
    steps = 0
    epoch = 0
    while epoch < config.max_epochs or steps < config.min_steps:
        epoch += 1
        Xt, Yt, Xv, Yv = data
        network.train()
        order = torch.stack([torch.randperm(n_train, generator=generators[r]) for r in active])
        order = order.to(device)
        rows = torch.arange(len(active), device=device).unsqueeze(1)
        total, seen = torch.zeros(len(active), device=device), 0
        for start in range(0, n_train, config.batch_size):
            batch = order[:, start:start + config.batch_size]
            losses = loss_fn(network(Xt[rows, batch]), Yt[rows, batch])
            optimizer.zero_grad(set_to_none=True)
            losses.sum().backward()
            if scaled:
                _scaled_step(optimizer, weights)
            else:
                optimizer.step()
            total += losses.detach() * batch.shape[1]
            seen += batch.shape[1]
            steps += 1
            if config.max_steps is not None and steps >= config.max_steps:
                break
        if Xv is None:
            val = torch.full((len(val_fns), len(active)), math.nan, device=device)
        else:
            val = evaluate(network, val_fns, Xv, Yv)
        # the epoch's one transfer to the host; metric is [] without metric_fn
        train, val, *metric = torch.cat([(total / seen).unsqueeze(0), val]).tolist()
        if _log.isEnabledFor(logging.DEBUG) or (config.verbose and epoch % config.verbose == 0):
            line = (f"epoch {epoch}: training loss {sum(train) / len(train):.4g}, validation "
                    f"loss {sum(val) / len(val):.4g} (mean of {len(active)} replicate(s), "
                    f"{steps} steps)")
            _log.debug(line)  # a heartbeat for progress displays
            if config.verbose and epoch % config.verbose == 0:
                print(line, file=sys.stderr, flush=True)

        score = [-m for m in metric[0]] if config.stop_on_metric else val  # lower is better
        improved, keep = [], []
        for i, r in enumerate(active):
            outcomes[r].val_history.append(val[i])
        in_race = (racing and epoch >= config.patience and steps >= config.patience_steps)
        losers = (_race_losers(active, outcomes, groups, reference, epoch, config.race_margin)
                  if in_race else set())
        for i, r in enumerate(active):
            out = outcomes[r]
            out.train_history.append(train[i])
            if metric:
                out.val_metric_history.append(metric[0][i])
            out.n_epochs, out.n_steps = epoch, steps
            if not math.isfinite(train[i]) or (Xv is not None and not math.isfinite(val[i])):
                out.diverged_epoch = epoch
                continue
            if Xv is None or score[i] < out.best_score:
                out.best_score = score[i]
                out.val_loss, out.best_epoch, out.best_step = val[i], epoch, steps
                improved.append(i)
            exhausted = (epoch - out.best_epoch >= config.patience
                         and steps - out.best_step >= config.patience_steps)
            if exhausted and steps >= config.min_steps:
                out.stopped_by = "early_stopping"
            elif i not in losers:
                keep.append(i)
            else:
                out.stopped_by = "race"
        if config.lr_decay is not None:
            factor = torch.ones(len(active), device=device)
            for i in keep:
                out, r = outcomes[active[i]], active[i]
                since_epoch, since_step = max((out.best_epoch, out.best_step), last_decay[r])
                if epoch - since_epoch >= decay_epochs and steps - since_step >= decay_steps:
                    factor[i] = config.lr_decay
                    last_decay[r] = (epoch, steps)
                    out.lr_decays += 1
            if (factor < 1).any():
                rep_lr, rep_ssm_lr = rep_lr * factor, rep_ssm_lr * factor
                weights = _step_weights(optimizer, rep_lr, rep_ssm_lr)
        if improved:
            src = torch.tensor(improved, device=device)
            dst = torch.tensor([active[i] for i in improved], device=device)
            with torch.no_grad():
                for name, t in replicate_state(network).items():
                    best[name][dst] = t[src]
        if config.max_steps is not None and steps >= config.max_steps:
            break
        if len(keep) < len(active):
            idx = torch.tensor(keep, device=device, dtype=torch.long)
            optimizer = _keep_replicates(network, optimizer, idx, config, scaled)
            data = tuple(None if d is None else d[idx] for d in data)
            rep_lr, rep_ssm_lr = rep_lr[idx], rep_ssm_lr[idx]
            weights = _step_weights(optimizer, rep_lr, rep_ssm_lr) if scaled else None
            active = [active[i] for i in keep]
        if not active:
            break

    set_replicate_state(network, best)
    final = evaluate(network, val_fns, X_train, Y_train).tolist()
    for out, loss, *train_metric in zip(outcomes, *final):
        out.train_loss = loss
        if train_metric:
            out.train_metric = train_metric[0]
        if X_val is None:
            out.val_loss = math.nan
    return outcomes
