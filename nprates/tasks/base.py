"""What the token-selection tasks share: the batch layout, the ignore value, validation.

A task draws batches of token sequences with the positions a model is scored on
(docs/theory.md section 7). Shapes, for a batch of n sequences of ``T = task.seq_len`` tokens:

- ``tokens``  (n, T) int64, ids in ``[0, task.n_tokens)``; content tokens are
  ``0 .. vocab_size - 1``, special tokens (separator, blank) come after them.
- ``targets`` (n, T) int64: the class to predict, in ``[0, task.n_classes)``, at scored
  positions and ``IGNORE_INDEX`` (-100) everywhere else. -100 is the default
  ``ignore_index`` of ``torch.nn.functional.cross_entropy``, so
  ``cross_entropy(logits.reshape(-1, n_classes), targets.reshape(-1))`` trains on the
  scored positions only.
- ``mask``    (n, T) bool, True at scored positions (``targets != IGNORE_INDEX``).

Targets are content tokens, so a target class id equals the content token's id. Outputs
are read causally: the prediction at position t may use tokens 0..t.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nprates.targets.base import as_generator, check_count

IGNORE_INDEX = -100


class TokenBatch(NamedTuple):
    """n sampled sequences: ``tokens``, ``targets`` and ``mask``, each of shape (n, T)."""

    tokens: np.ndarray
    targets: np.ndarray
    mask: np.ndarray


def check_vocab_size(value) -> int:
    value = check_count(value, "vocab_size")
    if value < 2:
        raise ValueError(f"vocab_size must be an integer >= 2, got {value}")
    return value


class TokenTask:
    """A task of token sequences with scored positions at fixed places.

    Subclasses set ``n_tokens``, ``n_classes``, ``seq_len`` and ``scored_positions`` and
    implement ``_draw(n, rng) -> (tokens, answers)``, answers (n, len(scored_positions))
    being the classes at the scored positions, and ``_answers(tokens)``, the hand-written
    rule that recovers them from the tokens alone.
    """

    name: str
    n_tokens: int
    n_classes: int
    seq_len: int

    @property
    def scored_positions(self) -> np.ndarray:
        """Positions (ascending, int64) where the targets sit, the same in every sequence."""
        raise NotImplementedError

    def sample(self, n, rng=None) -> TokenBatch:
        """Draw ``n`` sequences: a ``TokenBatch`` of (n, seq_len) arrays.

        ``rng`` is None, an int seed, a ``numpy.random.SeedSequence`` or a
        ``numpy.random.Generator``; the same seed gives the same batch.
        """
        n = check_count(n, "n")
        tokens, answers = self._draw(n, as_generator(rng))
        return TokenBatch(tokens, self._place(answers), self._mask(n))

    def oracle(self, tokens) -> np.ndarray:
        """Predictions of the hand-written rule: (n, seq_len) int64 with the answer at the
        scored positions and ``IGNORE_INDEX`` elsewhere, so that on a sampled batch
        ``task.oracle(batch.tokens)`` equals ``batch.targets``."""
        tokens = self.check_tokens(tokens)
        return self._place(self._answers(tokens))

    def check_tokens(self, tokens) -> np.ndarray:
        """Return ``tokens`` as an int64 array of shape (n, seq_len), or raise ValueError."""
        arr = np.asarray(tokens)
        if arr.ndim != 2 or arr.shape[1] != self.seq_len or arr.shape[0] < 1:
            raise ValueError(f"tokens must have shape (n, {self.seq_len}) with n >= 1, "
                             f"got {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"tokens must be integer ids, got dtype {arr.dtype}")
        if arr.min() < 0 or arr.max() >= self.n_tokens:
            raise ValueError(f"token ids must lie in [0, {self.n_tokens}), got ids from "
                             f"{arr.min()} to {arr.max()}")
        return arr.astype(np.int64, copy=False)

    def to_dict(self) -> dict:
        """The constructor arguments."""
        raise NotImplementedError

    def _place(self, answers: np.ndarray) -> np.ndarray:
        out = np.full((answers.shape[0], self.seq_len), IGNORE_INDEX, dtype=np.int64)
        out[:, self.scored_positions] = answers
        return out

    def _mask(self, n: int) -> np.ndarray:
        mask = np.zeros((n, self.seq_len), dtype=bool)
        mask[:, self.scored_positions] = True
        return mask

    def _draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _answers(self, tokens: np.ndarray) -> np.ndarray:
        raise NotImplementedError
