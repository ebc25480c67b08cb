"""Associative recall (docs/theory.md section 7): look up the value bound to a queried key.

Layout of one sequence, T = 2N + 1 tokens (N = n_pairs)::

    position   0    1    2    3   ...  2N-2  2N-1  2N
    token      k_1  v_1  k_2  v_2 ...  k_N   v_N   q
    target     -100 ...                            v_i   (where q = k_i)

Keys, values and the query share the vocabulary ``0 .. vocab_size - 1``; a token's role is
given by its position (even: key, odd: value, last: query), so there are no special tokens.
The query is the key of a pair drawn uniformly, its values i.i.d. uniform. With
``distinct_keys=False`` keys are i.i.d. uniform and may repeat: the answer is then the value
of the *last* pair whose key equals the query (the most recent binding wins).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nprates.targets.base import check_count
from nprates.tasks.base import TokenTask, check_vocab_size

# Rows drawn at once when keys are distinct: bounds the (rows, vocab_size) scratch array.
_SCRATCH_ELEMENTS = 1 << 22


@dataclass(frozen=True)
class AssociativeRecall(TokenTask):
    """Recall the value of one of ``n_pairs`` key-value pairs.

    Parameters
    ----------
    vocab_size : int >= 2
        Size of the vocabulary of keys and values; also ``n_classes`` and ``n_tokens``.
        With ``distinct_keys`` it must be at least ``n_pairs``.
    n_pairs : int >= 1
        Number N of key-value pairs; ``seq_len = 2 * n_pairs + 1``.
    distinct_keys : bool, default True
        Draw the N keys of a sequence without replacement (each query has one answer).

    The only scored position is the last one, so per-token accuracy and exact match agree.

    Example
    -------
    >>> task = AssociativeRecall(vocab_size=16, n_pairs=4)
    >>> batch = task.sample(3, rng=0)
    >>> batch.tokens.shape, int(batch.mask.sum())
    ((3, 9), 3)
    """

    vocab_size: int
    n_pairs: int
    distinct_keys: bool = True

    name = "associative_recall"

    def __post_init__(self):
        vocab_size = check_vocab_size(self.vocab_size)
        n_pairs = check_count(self.n_pairs, "n_pairs")
        if not isinstance(self.distinct_keys, (bool, np.bool_)):
            raise ValueError(f"distinct_keys must be True or False, got {self.distinct_keys!r}")
        if self.distinct_keys and vocab_size < n_pairs:
            raise ValueError(f"vocab_size={vocab_size} is too small for n_pairs={n_pairs} "
                             f"distinct keys: vocab_size must be >= n_pairs (or set "
                             f"distinct_keys=False)")
        object.__setattr__(self, "vocab_size", vocab_size)
        object.__setattr__(self, "n_pairs", n_pairs)
        object.__setattr__(self, "distinct_keys", bool(self.distinct_keys))

    @property
    def n_tokens(self) -> int:
        return self.vocab_size

    @property
    def n_classes(self) -> int:
        return self.vocab_size

    @property
    def seq_len(self) -> int:
        return 2 * self.n_pairs + 1

    @property
    def scored_positions(self) -> np.ndarray:
        return np.array([2 * self.n_pairs], dtype=np.int64)

    def to_dict(self) -> dict:
        return {"vocab_size": self.vocab_size, "n_pairs": self.n_pairs,
                "distinct_keys": self.distinct_keys}

    def _draw(self, n, rng):
        N, V = self.n_pairs, self.vocab_size
        if self.distinct_keys:
            # The first N entries of a uniformly random permutation, row by row.
            rows = max(1, _SCRATCH_ELEMENTS // V)
            keys = np.concatenate([np.argsort(rng.random((min(rows, n - start), V)), axis=1)[:, :N]
                                   for start in range(0, n, rows)]).astype(np.int64)
        else:
            keys = rng.integers(0, V, size=(n, N), dtype=np.int64)
        values = rng.integers(0, V, size=(n, N), dtype=np.int64)
        queried = rng.integers(0, N, size=n)
        tokens = np.empty((n, self.seq_len), dtype=np.int64)
        tokens[:, 0:2 * N:2] = keys
        tokens[:, 1:2 * N:2] = values
        tokens[:, -1] = keys[np.arange(n), queried]
        if not self.distinct_keys:  # a later pair may rebind the queried key
            return tokens, self._answers(tokens)
        return tokens, values[np.arange(n), queried][:, None]

    def _answers(self, tokens):
        N = self.n_pairs
        keys, values, query = tokens[:, 0:2 * N:2], tokens[:, 1:2 * N:2], tokens[:, -1]
        match = keys == query[:, None]
        found = match.any(axis=1)
        if not found.all():
            row = int(np.flatnonzero(~found)[0])
            raise ValueError(f"sequence {row} queries key {int(query[row])}, which is not among "
                             f"its keys: not an associative-recall input")
        last = N - 1 - np.argmax(match[:, ::-1], axis=1)
        return values[np.arange(tokens.shape[0]), last][:, None]
