"""Token importance of example sequences (heat map) and its mean profile over lags."""

from __future__ import annotations

import numpy as np
from matplotlib.patches import Rectangle

from nprates.analysis.importance_summary import position_profile
from nprates.reports import style

from .common import axes_list, grid_figure


def plot_importance(importance, selection=None, *, position: int = -1, examples: int = 12,
                    window: int | None = None, level: float = 0.95, ax=None):
    """Token importance: a heat map of example sequences and the position profile.

    Parameters
    ----------
    importance : (n, L, T) array >= 0 (``nprates.estimators.importance.token_importance``;
        output l at position T - L + l).
    selection : optional (n, L, K) true selected lags (a piecewise target's
        ``selection(X)[:, -L:]``); the selected tokens of the examples are outlined.
    position : the output (index into L, default the last) whose importance the heat map
        shows.
    examples : number of sequences in the heat map (the first ones).
    window, level : the profile's window of lags (default T - L + 1) and interval level
        (``nprates.analysis.importance_summary.position_profile``).
    ax : a sequence of two matplotlib Axes (heat map, profile); default a new Figure.

    Left: rows are the first ``examples`` sequences, columns the tokens of the output's
    window by lag (0 = the output's own token), colour the share of the output's
    importance. Right: the mean share at each lag with its interval over all sequences,
    and the even share 1 / window (dashed). Returns the Figure.
    """
    importance = np.asarray(importance, dtype=np.float64)
    if importance.ndim != 3:
        raise ValueError(f"importance must have shape (n, L, T), got {importance.shape}")
    n, L, T = importance.shape
    if not -L <= position < L:
        raise ValueError(f"position must index one of the L = {L} outputs, got {position!r}")
    axes = axes_list(ax, 2, "panels (heat map, profile)")
    if not axes:
        _, axes = grid_figure(2, cols=2, panel_size=(5.0, 3.8))
    profile = position_profile(importance, window=window, level=level)
    W = profile.lags.size
    l = position % L
    p = T - L + l
    rows = importance[:examples, l, p - np.arange(W)]              # (m, W) by lag
    totals = rows.sum(axis=1, keepdims=True)
    shares = np.where(totals > 0, rows / np.where(totals > 0, totals, 1.0), np.nan)
    heat, prof = axes
    image = heat.imshow(shares, aspect="auto", cmap="viridis", vmin=0.0,
                        extent=(-0.5, W - 0.5, shares.shape[0] - 0.5, -0.5))
    heat.figure.colorbar(image, ax=heat, label="share of importance")
    if selection is not None:
        selection = np.asarray(selection)
        if selection.ndim != 3 or selection.shape[:2] != (n, L):
            raise ValueError(f"selection must have shape (n, L, K) = ({n}, {L}, K), got "
                             f"{selection.shape}")
        for i, lags in enumerate(selection[:examples, l]):
            for rank, lag in enumerate(lags):
                if 0 <= lag < W:
                    heat.add_patch(_outline(lag, i, "white" if rank == 0 else style.LIGHT))
    heat.set_xlabel("lag (0 = the output's own token)")
    heat.set_ylabel("example sequence")
    heat.set_title(f"output at position {p}" + (" (outlined: true selection)"
                                                if selection is not None else ""))
    prof.fill_between(profile.lags, profile.low, profile.high, color=style.PALETTE[0],
                      alpha=0.25, linewidth=0)
    prof.plot(profile.lags, profile.mean, marker="o", color=style.PALETTE[0],
              label="mean share")
    prof.axhline(1.0 / W, color=style.GREY, linestyle="--", linewidth=1, label="even share")
    prof.set_xlabel("lag")
    prof.set_ylabel("share of importance")
    prof.set_ylim(0, max(1.2 * np.nanmax(profile.high), 1.5 / W))
    prof.set_title(f"profile over {n} sequences, {L} outputs")
    prof.legend(frameon=False)
    return heat.figure


def _outline(lag, row, color):
    return Rectangle((lag - 0.5, row - 0.5), 1, 1, fill=False, edgecolor=color, linewidth=1.5)
