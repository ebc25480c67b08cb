"""A short run of benchmarks/fuzz_inputs.py: random mutations of real cell files and
study files are loaded or refused in one line, never a traceback or a hang."""

from __future__ import annotations

import importlib.util
from collections import Counter

from study_fixtures import ROOT

spec = importlib.util.spec_from_file_location("fuzz_inputs", ROOT / "benchmarks" / "fuzz_inputs.py")
fuzz_inputs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fuzz_inputs)


def test_mutated_cell_files_load_or_are_skipped_in_one_line():
    records = list(fuzz_inputs.run_cases("cells", seed=7, start=0, count=50, timeout=30,
                                         cli_every=0))
    counts = Counter(r["outcome"] for r in records)
    assert counts["traceback"] == counts["hang"] == 0, [r for r in records if r["detail"]]
    assert counts["refused"] >= 25 and len(records) == 50  # the mutations do bite


def test_mutated_study_files_validate_or_are_refused_in_one_line():
    records = list(fuzz_inputs.run_cases("studies", seed=7, start=0, count=50, timeout=30,
                                         check_every=0))
    counts = Counter(r["outcome"] for r in records)
    assert counts["traceback"] == counts["hang"] == 0, [r for r in records if r["detail"]]
    assert counts["refused"] >= 20 and counts["ok"] >= 1


def test_the_fuzz_counts_are_documented():
    text = (ROOT / "docs" / "trust.md").read_text()
    assert "benchmarks/fuzz_inputs.py" in text and "traceback 0, hang 0, crash 0" in text
