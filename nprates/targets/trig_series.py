"""Truncated trigonometric tensor series on windows of tokens (docs/theory.md sections 2-4).

A series is f(W) = sum_b coef_b prod_c psi_{l_bc}(W_c) over directions c = (feature i,
lag j) of a window ``W`` of shape (m, V, d), where ``W[:, j, i]`` is feature i of the
token at lag j. ``psi`` is the orthonormal trigonometric basis of L2[0, 1].

Evaluation splits the directions into the one with the most distinct frequencies and
the rest: f = rowsum((Phi_1 @ C) * Phi_2) with Phi_1 the 1-D basis values along the
first, Phi_2 the distinct products along the rest and C the coefficient matrix. One
matrix product replaces a Python loop over basis functions.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse

SQRT2 = math.sqrt(2.0)


def psi(x: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """1-D basis values: x (m,), freqs (k,) int -> (m, k) float64.

    psi_0 = 1, psi_l = sqrt(2) sin(2 pi l x) for l > 0, sqrt(2) cos(2 pi |l| x) for l < 0.
    exp(2 pi i k x) for k = 0..max|l| comes from repeated doubling (E[k + 2^q] = E[k] E[2^q]),
    a dozen vector products instead of one sine per entry; rounding grows like log(max|l|).
    """
    freqs = np.asarray(freqs)
    K = int(np.abs(freqs).max()) if freqs.size else 0
    powers = np.empty((K + 1, x.shape[0]), dtype=np.complex128)
    powers[0] = 1.0
    filled = 1
    step = np.exp(2j * np.pi * x)
    while filled <= K:
        take = min(filled, K + 1 - filled)
        powers[filled:filled + take] = powers[:take] * step
        step = step * step
        filled += take
    parts = powers.view(np.float64).reshape(K + 1, x.shape[0], 2)  # [..., 0] cos, [..., 1] sin
    out = np.ones((freqs.size, x.shape[0]))
    pos, neg = freqs > 0, freqs < 0
    out[pos] = SQRT2 * parts[freqs[pos], :, 1]
    out[neg] = SQRT2 * parts[-freqs[neg], :, 0]
    return out.T


def enumerate_blocks(a: np.ndarray, kind: str, t_max: float, max_basis: int) -> np.ndarray:
    """All dyadic blocks s (over the directions of ``a``, shape (d, V)) with gamma(s) <= t_max.

    Returns an int array (B, d, V). Raises ValueError naming ``t_max`` when the blocks
    would hold more than ``max_basis`` basis functions (block s holds 2^|s|_1).
    """
    flat = a.ravel()
    active = np.flatnonzero(flat <= t_max + 1e-12)
    tol = 1e-9
    if kind == "anisotropic":
        caps = [int(math.floor(t_max / flat[c] + tol)) for c in active]
        total = math.prod(2 ** (k + 1) - 1 for k in caps)
        if total > max_basis:
            raise ValueError(f"t_max={t_max:g} needs {total} basis functions, more than "
                             f"max_basis={max_basis}; lower t_max or raise max_basis")
        grids = np.meshgrid(*[np.arange(k + 1) for k in caps], indexing="ij")
        rows = np.stack([g.ravel() for g in grids], axis=1) if caps else np.zeros((1, 0), int)
    else:
        rows_list: list[list[int]] = []
        count = 0

        def visit(pos: int, s: list[int], gamma: float) -> None:
            nonlocal count
            if pos == len(active):
                count += 2 ** sum(s)
                if count > max_basis:
                    raise ValueError(f"t_max={t_max:g} needs more than max_basis={max_basis} "
                                     f"basis functions; lower t_max or raise max_basis")
                rows_list.append(list(s))
                return
            k = 0
            while gamma + flat[active[pos]] * k <= t_max + tol:
                s.append(k)
                visit(pos + 1, s, gamma + flat[active[pos]] * k)
                s.pop()
                k += 1

        visit(0, [], 0.0)
        rows = np.array(rows_list, dtype=int).reshape(len(rows_list), len(active))
    blocks = np.zeros((rows.shape[0], flat.size), dtype=int)
    blocks[:, active] = rows
    return blocks.reshape((rows.shape[0],) + a.shape)


def block_frequencies(k: int) -> np.ndarray:
    """Frequencies l with 2^(k-1) <= |l| < 2^k (k >= 1), or [0] for k = 0."""
    if k == 0:
        return np.zeros(1, dtype=int)
    mags = np.arange(2 ** (k - 1), 2 ** k)
    return np.stack([mags, -mags], axis=1).ravel()


class TrigSeries:
    """A finite trigonometric tensor series on windows of shape (m, V, d).

    Parameters
    ----------
    multi_indices : int array (P, d, V)
        Frequency l of each basis function along each direction (feature i, lag j).
    coefficients : float array (P,)
    """

    def __init__(self, multi_indices: np.ndarray, coefficients: np.ndarray):
        self.multi_indices = np.asarray(multi_indices, dtype=int)
        self.coefficients = np.asarray(coefficients, dtype=np.float64)
        P, d, V = self.multi_indices.shape
        self.shape = (V, d)
        flat = self.multi_indices.reshape(P, d * V)
        used = np.flatnonzero(np.any(flat != 0, axis=0))
        # directions as (feature, lag) of the flattened (d, V) index
        self._dirs = [divmod(int(c), V) for c in used]
        self._plan = self._make_plan(flat[:, used]) if used.size else None

    def _make_plan(self, L: np.ndarray):
        """Choose the split direction and build the index structures of the evaluation."""
        best = None
        for c in range(L.shape[1]):
            l1, inv1 = np.unique(L[:, c], return_inverse=True)
            rest = np.delete(L, c, axis=1)
            pats, inv2 = np.unique(rest, axis=0, return_inverse=True)
            order = int((pats != 0).sum(axis=1).max()) if pats.size else 0
            # a gathered column costs about a hundred matrix-product multiply-adds
            cost = pats.shape[0] * max(order, 1) + 0.01 * l1.size * pats.shape[0]
            if best is None or cost < best[0]:
                best = (cost, c, l1, inv1.ravel(), pats, inv2.ravel(), order)
        _, c1, l1, inv1, pats, inv2, order = best
        rest_dirs = [k for k in range(L.shape[1]) if k != c1]
        # a table of 1-D values per rest direction, concatenated after a column of ones
        freqs, offsets, start = [], [], 1
        for k in range(len(rest_dirs)):
            f = np.unique(pats[:, k][pats[:, k] != 0])
            freqs.append(f)
            offsets.append(start)
            start += f.size
        idx = np.zeros((pats.shape[0], max(order, 1)), dtype=int)
        for p in range(pats.shape[0]):
            cols = [offsets[k] + int(np.searchsorted(freqs[k], pats[p, k]))
                    for k in range(len(rest_dirs)) if pats[p, k] != 0]
            idx[p, :len(cols)] = cols
        C = sparse.csr_array((self.coefficients, (inv1, inv2)), shape=(l1.size, pats.shape[0]))
        return {"c1": c1, "l1": l1, "inv1": inv1, "inv2": inv2, "rest": rest_dirs,
                "freqs": freqs, "idx": idx, "C": C}

    def sup_bound(self) -> float:
        """A guaranteed bound on sup |f|: sum_b |coef_b| sqrt(2)^order_b, as |psi_l| <= sqrt(2)."""
        P = self.coefficients.size
        order = np.count_nonzero(self.multi_indices.reshape(P, -1), axis=1)
        return float(np.sum(np.abs(self.coefficients) * SQRT2 ** order))

    def rescale(self, factor: float) -> None:
        """Multiply every coefficient by ``factor`` in place."""
        self.coefficients = self.coefficients * factor
        if self._plan is not None:
            self._plan["C"] = self._plan["C"] * factor

    def _factors(self, W: np.ndarray):
        plan = self._plan
        i, j = self._dirs[plan["c1"]]
        phi1 = psi(W[:, j, i], plan["l1"])
        tables = [np.ones((W.shape[0], 1))]
        for k, f in zip(plan["rest"], plan["freqs"]):
            i, j = self._dirs[k]
            tables.append(psi(W[:, j, i], f))
        table = np.concatenate(tables, axis=1).T  # gathering whole rows is contiguous
        phi2 = table[plan["idx"][:, 0]]
        for o in range(1, plan["idx"].shape[1]):
            phi2 *= table[plan["idx"][:, o]]
        return phi1, phi2.T

    def _check(self, W: np.ndarray) -> None:
        if W.ndim != 3 or W.shape[1:] != self.shape:
            raise ValueError(f"windows must have shape (m, {self.shape[0]}, {self.shape[1]}), "
                             f"got {W.shape}")

    def __call__(self, W: np.ndarray, chunk: int = 16384) -> np.ndarray:
        """Values on windows W (m, V, d) -> (m,) float64."""
        self._check(W)
        if self._plan is None:
            return np.full(W.shape[0], self.coefficients.sum())
        out = np.empty(W.shape[0])
        for start in range(0, W.shape[0], chunk):
            phi1, phi2 = self._factors(W[start:start + chunk])
            # (C^T phi1^T)^T: a sparse-times-dense product, C holds only P non-zeros
            combined = (self._plan["C"].T @ phi1.T).T
            out[start:start + chunk] = np.einsum("mk,mk->m", combined, phi2)
        return out

    def design(self, W: np.ndarray) -> np.ndarray:
        """Basis function values on windows W (m, V, d) -> (m, P), columns in basis order."""
        self._check(W)
        if self._plan is None:
            return np.ones((W.shape[0], self.coefficients.size))
        phi1, phi2 = self._factors(W)
        return phi1[:, self._plan["inv1"]] * phi2[:, self._plan["inv2"]]


def boundary_series(a: np.ndarray, kind: str, t_max: float, norm: float, rng: np.random.Generator,
                    max_basis: int) -> tuple[TrigSeries, np.ndarray, np.ndarray, np.ndarray]:
    """A random-sign "boundary" series of class norm ``norm`` (docs/theory.md section 4).

    In block s each coefficient is rho_s * eps / sqrt(2^|s|_1), eps = +-1, with
    rho_s = 2^-gamma(s) w_s and w_s proportional to prod_c 1/(1 + s_c), normalised so
    that sum_s w_s^2 = norm^2. Then ||delta_s f||_2 = rho_s and the class norm is ``norm``.

    Returns (series, blocks (B, d, V), block_gamma (B,), block_of (P,) block index of
    each basis function).
    """
    blocks = enumerate_blocks(a, kind, t_max, max_basis)
    weighted = blocks * a
    gammas = weighted.sum(axis=(1, 2)) if kind == "mixed" else weighted.max(axis=(1, 2))
    w = np.prod(1.0 / (1.0 + blocks), axis=(1, 2))
    w *= norm / np.sqrt(np.sum(w ** 2))
    rho = 2.0 ** (-gammas) * w
    multi, block_of = [], []
    for b, s in enumerate(blocks):
        choices = [block_frequencies(k) for k in s.ravel()]
        grid = np.meshgrid(*choices, indexing="ij")
        multi.append(np.stack([g.ravel() for g in grid], axis=1).reshape(-1, *a.shape))
        block_of.append(np.full(multi[-1].shape[0], b))
    multi = np.concatenate(multi)
    block_of = np.concatenate(block_of)
    sizes = 2.0 ** blocks.sum(axis=(1, 2))
    signs = rng.choice([-1.0, 1.0], size=multi.shape[0])
    coef = rho[block_of] / np.sqrt(sizes[block_of]) * signs
    return TrigSeries(multi, coef), blocks, gammas, block_of
