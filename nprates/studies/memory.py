"""Refusing studies whose sizes cannot fit in memory, before anything is built.

The estimates are lower bounds of what a run holds at once, in float64 (8 bytes):

- bookkeeping: about ``CELL_BYTES`` per cell (its key, file name and results row);
- one training set of the largest size n: inputs (n, T, d) plus outputs and noise-free
  values (n, length) each, twice (the estimator's own copy of its inputs: tensors or
  windows), and the test set (test_size, T, d) plus (test_size, length);
- a gamma-smooth or piecewise target's basis: per basis function a coefficient and one
  frequency per direction (features x window), up to ``max_basis`` of them.

Before the targets are built T = length and d = 1 (``check_memory``); once each target
has drawn its smoke sample, its real T and d are used (``check_sampled_memory``). A
study over the machine's physical memory is refused with a StudyError naming the field
and giving the estimate.
"""

from __future__ import annotations

import os

from nprates.studies.errors import StudyError

#: Bytes of bookkeeping per cell (cell tuple, key, file name, results row).
CELL_BYTES = 2048


def physical_memory() -> int | None:
    """Bytes of physical memory of this machine (None where unknown)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def size_text(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if nbytes < 1000 or unit == "PB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1000
    raise AssertionError("unreachable")


def _refuse(field: str, what: str, nbytes: float, limit: int | None) -> None:
    if limit is not None and nbytes > limit:
        raise StudyError(field, f"{what} needs at least {size_text(nbytes)} of memory, more "
                         f"than this machine's {size_text(limit)}")


def _data_bytes(n: int, T: int, d: int, length: int) -> int:
    """float64 bytes of one data set: inputs (n, T, d), outputs and values (n, length)."""
    return 8 * n * (T * d + 2 * length)


def _basis_directions(params: dict) -> int:
    smoothness = params.get("smoothness")
    if isinstance(smoothness, dict):
        features, window = smoothness.get("features", 1), smoothness.get("window", 1)
        if isinstance(features, int) and isinstance(window, int) and features * window > 0:
            return features * window
    return 1


def check_memory(study, limit: int | None = None) -> None:
    """Refuse (StudyError) cell counts, data sets or target bases that cannot fit in
    ``limit`` bytes (default: the physical memory), from the study's fields alone."""
    limit = physical_memory() if limit is None else limit
    groups = len(study.settings) if study.kind == "capability" else len(study.targets)
    cells = groups * len(study.estimators) * len(study.sizes) * study.replicates
    field = "replicates" if study.replicates >= len(study.sizes) else "sizes"
    _refuse(field, f"{cells} cells ({groups} x {len(study.estimators)} estimators x "
            f"{len(study.sizes)} sizes x {study.replicates} replicates)", cells * CELL_BYTES,
            limit)
    if study.kind == "capability":
        return
    check_sampled_memory(study, {label: (study.length, 1) for label in study.targets}, limit)
    for label, spec in study.targets.items():
        max_basis = spec.params.get("max_basis")
        if spec.kind != "callable" and isinstance(max_basis, int):
            per = 8 * (1 + _basis_directions(spec.params))
            _refuse(f"targets.{label}.max_basis", f"a basis of up to {max_basis} functions "
                    f"({per} bytes each)", max_basis * per, limit)


def check_sampled_memory(study, shapes: dict, limit: int | None = None) -> None:
    """Refuse training or test sets that cannot fit, given each target's input shape
    ``(T, d)`` (positions with burn-in, features) by label."""
    limit = physical_memory() if limit is None else limit
    n = max(study.sizes)
    for label, (T, d) in shapes.items():
        train = 2 * _data_bytes(n, T, d, study.length)
        test = _data_bytes(study.test_size, T, d, study.length)
        if train >= test:
            field = "sizes" if n >= study.length else "length"
            what = f"a training set of n = {n} sequences of target {label!r} ({T} x {d})"
        else:
            field = "test_size" if study.test_size >= study.length else "length"
            what = (f"the test set of {study.test_size} sequences of target {label!r} "
                    f"({T} x {d})")
        _refuse(field, what, train + test, limit)
