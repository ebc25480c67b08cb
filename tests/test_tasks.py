"""Token-selection task samplers, their oracles, and the accuracy metrics."""

import numpy as np
import pytest

from nprates.tasks import (IGNORE_INDEX, AssociativeRecall, InputCopying, TokenBatch, exact_match,
                           exact_match_per_sequence, token_accuracy, token_accuracy_per_sequence)

TASKS = [InputCopying(vocab_size=7, length=5), InputCopying(vocab_size=2, length=1),
         AssociativeRecall(vocab_size=12, n_pairs=6), AssociativeRecall(vocab_size=4, n_pairs=4),
         AssociativeRecall(vocab_size=3, n_pairs=9, distinct_keys=False)]


@pytest.mark.parametrize("task", TASKS, ids=repr)
def test_batch_layout(task):
    batch = task.sample(50, rng=0)
    assert isinstance(batch, TokenBatch)
    for arr in batch:
        assert arr.shape == (50, task.seq_len)
    assert batch.tokens.dtype == np.int64 and batch.targets.dtype == np.int64
    assert batch.mask.dtype == np.bool_
    assert batch.tokens.min() >= 0 and batch.tokens.max() < task.n_tokens
    assert np.array_equal(batch.mask, batch.targets != IGNORE_INDEX)
    assert np.array_equal(np.flatnonzero(batch.mask[0]), task.scored_positions)
    assert np.all(batch.mask == batch.mask[0])
    scored = batch.targets[batch.mask]
    assert scored.min() >= 0 and scored.max() < task.n_classes


@pytest.mark.parametrize("task", TASKS, ids=repr)
def test_oracle_scores_100_percent(task):
    batch = task.sample(200, rng=1)
    pred = task.oracle(batch.tokens)
    assert np.array_equal(pred, batch.targets)
    assert token_accuracy(pred, batch.targets, batch.mask) == 1.0
    assert exact_match(pred, batch.targets, batch.mask) == 1.0
    assert np.all(exact_match_per_sequence(pred, batch.targets) == 1.0)


def test_copying_layout_and_answers_by_construction():
    task = InputCopying(vocab_size=9, length=4)
    assert (task.n_tokens, task.n_classes, task.seq_len) == (11, 9, 9)
    assert (task.separator, task.blank) == (9, 10)
    batch = task.sample(300, rng=2)
    L = task.length
    assert np.all(batch.tokens[:, :L] < task.vocab_size)
    assert np.all(batch.tokens[:, L] == task.separator)
    assert np.all(batch.tokens[:, L + 1:] == task.blank)
    for j in range(L):  # the output at position L + 1 + j is content token j
        assert np.array_equal(batch.targets[:, L + 1 + j], batch.tokens[:, j])
    assert np.all(batch.targets[:, :L + 1] == IGNORE_INDEX)
    assert set(np.unique(batch.tokens[:, :L])) == set(range(9))  # the whole vocabulary is used


def _recall_by_dictionary(task, tokens):
    """An independent oracle: read the pairs into a dict (a later binding overwrites)."""
    answers = []
    for row in tokens:
        table = {}
        for i in range(task.n_pairs):
            table[row[2 * i]] = row[2 * i + 1]
        answers.append(table[row[-1]])
    return np.array(answers)


@pytest.mark.parametrize("distinct", [True, False])
def test_recall_answers_by_construction(distinct):
    task = AssociativeRecall(vocab_size=5, n_pairs=4, distinct_keys=distinct)
    assert (task.n_tokens, task.n_classes, task.seq_len) == (5, 5, 9)
    batch = task.sample(400, rng=3)
    keys = batch.tokens[:, 0:8:2]
    query = batch.tokens[:, -1]
    assert np.all((keys == query[:, None]).any(axis=1))  # the query is one of the keys
    assert np.array_equal(batch.targets[:, -1], _recall_by_dictionary(task, batch.tokens))
    assert np.all(batch.targets[:, :-1] == IGNORE_INDEX)
    n_distinct = np.array([len(set(row)) for row in keys])
    if distinct:
        assert np.all(n_distinct == 4)
    else:
        assert np.any(n_distinct < 4)  # repeats happen, and the last binding wins
    # Every pair gets queried.
    queried = np.argmax(keys == query[:, None], axis=1)
    assert set(queried) == set(range(4))


def test_recall_last_binding_wins_on_a_hand_written_example():
    task = AssociativeRecall(vocab_size=4, n_pairs=3, distinct_keys=False)
    tokens = np.array([[1, 0, 2, 3, 1, 2, 1],     # key 1 bound to 0, then to 2
                       [3, 3, 0, 1, 3, 2, 0]])    # key 0 bound once, to 1
    assert np.array_equal(task.oracle(tokens)[:, -1], [2, 1])


def test_recall_oracle_refuses_a_query_without_key():
    task = AssociativeRecall(vocab_size=5, n_pairs=2)
    with pytest.raises(ValueError, match="not among its keys"):
        task.oracle(np.array([[0, 1, 2, 3, 4]]))


@pytest.mark.parametrize("task", TASKS[::2], ids=repr)
def test_seeded_reproducibility(task):
    a, b = task.sample(20, rng=5), task.sample(20, rng=5)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    c = task.sample(20, rng=np.random.default_rng(5))
    assert np.array_equal(a.tokens, c.tokens)
    d = task.sample(20, rng=np.random.SeedSequence(5))
    assert np.array_equal(a.tokens, d.tokens)
    assert not np.array_equal(a.tokens, task.sample(20, rng=6).tokens)


@pytest.mark.parametrize("make,word", [
    (lambda: InputCopying(vocab_size=1, length=3), "vocab_size"),
    (lambda: InputCopying(vocab_size=5, length=0), "length"),
    (lambda: InputCopying(vocab_size=5, length=-2), "length"),
    (lambda: InputCopying(vocab_size=5.0, length=3), "vocab_size"),
    (lambda: InputCopying(vocab_size=5, length=True), "length"),
    (lambda: InputCopying(vocab_size="5", length=3), "vocab_size"),
    (lambda: AssociativeRecall(vocab_size=3, n_pairs=4), "vocab_size"),
    (lambda: AssociativeRecall(vocab_size=1, n_pairs=1), "vocab_size"),
    (lambda: AssociativeRecall(vocab_size=8, n_pairs=0), "n_pairs"),
    (lambda: AssociativeRecall(vocab_size=8, n_pairs=2.5), "n_pairs"),
    (lambda: AssociativeRecall(vocab_size=8, n_pairs=2, distinct_keys="yes"), "distinct_keys"),
])
def test_bad_parameters_are_refused(make, word):
    with pytest.raises(ValueError, match=word):
        make()


def test_vocabulary_too_small_message_names_both_parameters():
    with pytest.raises(ValueError, match=r"vocab_size=3 .*n_pairs=4"):
        AssociativeRecall(vocab_size=3, n_pairs=4)
    # Repeating keys lifts the constraint.
    assert AssociativeRecall(vocab_size=3, n_pairs=4, distinct_keys=False).seq_len == 9


def test_numpy_integers_are_accepted_and_stored_as_int():
    task = InputCopying(vocab_size=np.int64(6), length=np.int32(2))
    assert type(task.vocab_size) is int and type(task.length) is int
    assert task == InputCopying(6, 2) and task.to_dict() == {"vocab_size": 6, "length": 2}


@pytest.mark.parametrize("n", [0, -1, 2.0])
def test_bad_sample_size(n):
    with pytest.raises(ValueError, match="n must"):
        InputCopying(4, 2).sample(n, rng=0)


def test_oracle_checks_tokens():
    task = InputCopying(vocab_size=4, length=2)
    with pytest.raises(ValueError, match="shape"):
        task.oracle(np.zeros((3, 4), dtype=int))
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        task.oracle(np.full((1, 5), 6))
    with pytest.raises(ValueError, match="integer"):
        task.oracle(np.zeros((1, 5)))


def test_one_wrong_token_costs_the_whole_sequence_in_exact_match():
    task = InputCopying(vocab_size=10, length=4)
    batch = task.sample(5, rng=7)
    pred = task.oracle(batch.tokens)
    k = task.length
    pred[2, task.scored_positions[1]] = (pred[2, task.scored_positions[1]] + 1) % 10
    per_seq = token_accuracy_per_sequence(pred, batch.targets, batch.mask)
    assert np.allclose(per_seq, [1, 1, (k - 1) / k, 1, 1])
    assert np.array_equal(exact_match_per_sequence(pred, batch.targets), [1, 1, 0, 1, 1])
    assert token_accuracy(pred, batch.targets) == pytest.approx((5 * k - 1) / (5 * k))
    assert exact_match(pred, batch.targets) == pytest.approx(4 / 5)
    # Predictions at unscored positions do not count.
    pred[:, 0] = 3
    assert exact_match(pred, batch.targets) == pytest.approx(4 / 5)


def test_metrics_pool_over_positions_and_honour_the_mask():
    targets = np.array([[5, 6, IGNORE_INDEX], [1, IGNORE_INDEX, IGNORE_INDEX]])
    pred = np.array([[5, 0, 9], [1, 9, 9]])
    assert token_accuracy(pred, targets) == pytest.approx(2 / 3)  # pooled, not 0.75
    assert np.allclose(token_accuracy_per_sequence(pred, targets), [0.5, 1.0])
    mask = np.array([[True, False, False], [True, False, False]])
    assert token_accuracy(pred, targets, mask) == 1.0 and exact_match(pred, targets, mask) == 1.0


@pytest.mark.parametrize("pred,targets,mask,word", [
    (np.zeros((2, 3), int), np.zeros((2, 4), int), None, "shapes"),
    (np.zeros(3, int), np.zeros(3, int), None, "shape"),
    (np.zeros((2, 3)), np.zeros((2, 3), int), None, "integer"),
    (np.zeros((2, 3), int), np.full((2, 3), IGNORE_INDEX), None, "scored position"),
    (np.zeros((1, 2), int), np.array([[1, IGNORE_INDEX]]), np.array([[True, True]]), "ignore"),
    (np.zeros((1, 2), int), np.array([[1, 2]]), np.array([[1, 0]]), "mask"),
])
def test_metrics_refuse_bad_input(pred, targets, mask, word):
    with pytest.raises(ValueError, match=word):
        token_accuracy(pred, targets, mask)


def test_distinct_keys_drawn_in_row_blocks(monkeypatch):
    """Large vocabularies draw the keys a few rows at a time; keys stay distinct."""
    import nprates.tasks.recall as recall

    monkeypatch.setattr(recall, "_SCRATCH_ELEMENTS", 50)  # 2 rows of 20 at a time
    task = AssociativeRecall(vocab_size=20, n_pairs=20)
    batch = task.sample(7, rng=8)
    keys = batch.tokens[:, 0:40:2]
    assert all(sorted(row) == list(range(20)) for row in keys)
    assert np.array_equal(task.oracle(batch.tokens), batch.targets)
