"""Token-selection tasks (docs/theory.md section 7): samplers, hand-written oracles, metrics.

    >>> from nprates.tasks import InputCopying, token_accuracy, exact_match
    >>> task = InputCopying(vocab_size=16, length=8)
    >>> batch = task.sample(100, rng=0)         # TokenBatch(tokens, targets, mask), (n, T) each
    >>> pred = task.oracle(batch.tokens)        # (n, T) int64, the answer by a hand-written rule
    >>> token_accuracy(pred, batch.targets, batch.mask), exact_match(pred, batch.targets)
    (1.0, 1.0)

Targets hold ``IGNORE_INDEX`` (-100, torch's cross-entropy default) at unscored positions.
"""

from nprates.tasks.base import IGNORE_INDEX, TokenBatch, TokenTask
from nprates.tasks.copying import InputCopying
from nprates.tasks.metrics import (exact_match, exact_match_per_sequence, token_accuracy,
                                   token_accuracy_per_sequence)
from nprates.tasks.recall import AssociativeRecall

__all__ = ["InputCopying", "AssociativeRecall", "TokenBatch", "TokenTask", "IGNORE_INDEX",
           "token_accuracy", "exact_match", "token_accuracy_per_sequence",
           "exact_match_per_sequence"]
