"""Seed streams of a study, all spawned from its root seed.

Every stream is ``numpy.random.SeedSequence(root_seed, spawn_key=key)`` with a stable
key built from a domain tag and the labels and numbers that identify it (labels
through ``zlib.crc32``, never Python's salted ``hash``). Streams therefore depend
only on what they are for, not on the order cells run in or on which other
sizes, replicates or estimators the study holds: adding a size to a study leaves
the data of every existing cell unchanged.

=========  ==========================================  ==============================
stream     key                                         used for
=========  ==========================================  ==============================
target     ("target", target[, draw])                  constructing the target
data       ("data", target, n, replicate[, draw])      training data, shared by all
                                                       estimators (paired comparisons)
test       ("test", target[, draw])                    the noise-free test set
init       ("init", target, estimator, n, replicate    the estimator's random_state
           [, draw])
=========  ==========================================  ==============================

A study with ``target_draws = K`` draws K functions from each target class; draw
``d >= 1`` appends ``d`` to every key (draw 0 keeps the keys above, so a study with one
draw has the streams it always had). Cells of draw ``d >= 1`` run under the target slot
``TARGET/draw=D`` (``draw_slot``), which ``split_slot`` takes apart again.

In a capability study a task setting's label (``TASK/PARAM=VALUE``) stands in for
the target: training data per (setting, train_size, replicate), one test set per
setting. (Its "target" stream is unused: task settings are built from their
parameters alone.)
"""

from __future__ import annotations

import zlib

import numpy as np

_DOMAINS = ("target", "data", "test", "init")


def _word(part) -> int:
    if isinstance(part, (bool, np.bool_)):
        raise TypeError("seed key parts are labels or non-negative integers, not booleans")
    if isinstance(part, (int, np.integer)):
        if part < 0:
            raise ValueError(f"seed key parts must be non-negative, got {part}")
        return int(part)
    if isinstance(part, str):
        return zlib.crc32(part.encode("utf-8"))
    raise TypeError(f"seed key parts are labels or non-negative integers, got {part!r}")


def seed_sequence(root_seed: int, domain: str, *parts) -> np.random.SeedSequence:
    """The stream ``domain`` (one of target, data, test, init) identified by ``parts``."""
    if domain not in _DOMAINS:
        raise ValueError(f"unknown seed domain {domain!r}; expected one of {_DOMAINS}")
    key = (_word(domain),) + tuple(_word(p) for p in parts)
    return np.random.SeedSequence(int(root_seed), spawn_key=key)


def rng(root_seed: int, domain: str, *parts) -> np.random.Generator:
    """A Generator on the stream ``domain`` identified by ``parts``."""
    return np.random.default_rng(seed_sequence(root_seed, domain, *parts))


def int_seed(root_seed: int, domain: str, *parts) -> int:
    """An integer seed in [0, 2**31 - 1) drawn from a stream (for ``random_state``)."""
    word = seed_sequence(root_seed, domain, *parts).generate_state(1, dtype=np.uint32)[0]
    return int(word) % (2**31 - 1)


def draw_slot(target: str, draw: int) -> str:
    """The label cells of draw ``draw`` of ``target`` run under: the target label itself
    for draw 0, ``TARGET/draw=D`` for the others."""
    return target if draw == 0 else f"{target}/draw={int(draw)}"


def split_slot(slot: str) -> tuple[str, int]:
    """``(target, draw)`` of a target slot (the inverse of ``draw_slot``)."""
    target, sep, draw = slot.partition("/draw=")
    return (target, int(draw)) if sep else (slot, 0)


def _drawn(parts: tuple, draw: int) -> tuple:
    return parts + (int(draw),) if draw else parts


def target_seed(root_seed: int, target: str, draw: int = 0) -> int:
    return int_seed(root_seed, "target", *_drawn((target,), draw))


def data_rng(root_seed: int, target: str, n: int, replicate: int,
             draw: int = 0) -> np.random.Generator:
    return rng(root_seed, "data", *_drawn((target, n, replicate), draw))


def data_seed_id(target: str, n: int, replicate: int, draw: int = 0) -> str:
    """Identifier of the training-data stream: equal ids, equal training data."""
    return f"{draw_slot(target, draw)}/n={n}/r={replicate}"


def test_rng(root_seed: int, target: str, draw: int = 0) -> np.random.Generator:
    return rng(root_seed, "test", *_drawn((target,), draw))


def init_seed(root_seed: int, target: str, estimator: str, n: int, replicate: int,
              draw: int = 0) -> int:
    return int_seed(root_seed, "init", *_drawn((target, estimator, n, replicate), draw))
