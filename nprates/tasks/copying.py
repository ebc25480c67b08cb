"""Input copying (docs/theory.md section 7): reproduce L tokens after a separator.

Layout of one sequence, T = 2L + 1 tokens (V = vocab_size)::

    position   0 .. L-1          L      L+1 .. 2L
    token      c_0 .. c_{L-1}    SEP    BLANK .. BLANK
    target     -100 ...          -100   c_0 .. c_{L-1}

Content tokens c_j are i.i.d. uniform on ``0 .. V-1``; SEP = V and BLANK = V + 1. A causal
model outputs c_j at position L + 1 + j, after it has seen every content token.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nprates.targets.base import check_count
from nprates.tasks.base import TokenTask, check_vocab_size


@dataclass(frozen=True)
class InputCopying(TokenTask):
    """Copy ``length`` tokens drawn from a vocabulary of ``vocab_size``.

    Parameters
    ----------
    vocab_size : int >= 2
        Number of content tokens |W|; also ``n_classes``.
    length : int >= 1
        Number L of tokens to copy; ``seq_len = 2 * length + 1``.

    Attributes: ``separator = vocab_size``, ``blank = vocab_size + 1``,
    ``n_tokens = vocab_size + 2``, ``n_classes = vocab_size``, ``seq_len = 2L + 1``,
    ``scored_positions = L+1 .. 2L``.

    Example
    -------
    >>> task = InputCopying(vocab_size=8, length=3)
    >>> batch = task.sample(2, rng=0)
    >>> batch.tokens.shape, batch.targets.shape, batch.mask.shape
    ((2, 7), (2, 7), (2, 7))
    """

    vocab_size: int
    length: int

    name = "input_copying"

    def __post_init__(self):
        object.__setattr__(self, "vocab_size", check_vocab_size(self.vocab_size))
        object.__setattr__(self, "length", check_count(self.length, "length"))

    @property
    def separator(self) -> int:
        return self.vocab_size

    @property
    def blank(self) -> int:
        return self.vocab_size + 1

    @property
    def n_tokens(self) -> int:
        return self.vocab_size + 2

    @property
    def n_classes(self) -> int:
        return self.vocab_size

    @property
    def seq_len(self) -> int:
        return 2 * self.length + 1

    @property
    def scored_positions(self) -> np.ndarray:
        return np.arange(self.length + 1, 2 * self.length + 1, dtype=np.int64)

    def to_dict(self) -> dict:
        return {"vocab_size": self.vocab_size, "length": self.length}

    def _draw(self, n, rng):
        L = self.length
        content = rng.integers(0, self.vocab_size, size=(n, L), dtype=np.int64)
        tokens = np.full((n, self.seq_len), self.blank, dtype=np.int64)
        tokens[:, :L] = content
        tokens[:, L] = self.separator
        return tokens, content

    def _answers(self, tokens):
        return tokens[:, :self.length]
