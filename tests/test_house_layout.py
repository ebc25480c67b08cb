"""Package layout points of issue 30: the fit methods are a package, plan_study is exported,
the study spec does not import its checker."""

from __future__ import annotations

import ast
from pathlib import Path

import nprates.analysis as analysis


def test_fit_methods_are_a_package():
    from nprates.analysis.methods import METHODS
    from nprates.analysis.methods.offset import Offset

    assert METHODS["offset"] is Offset
    root = Path(analysis.__file__).parent
    assert not list(root.glob("method_*.py"))
    assert (root / "methods" / "__init__.py").is_file()


def test_plan_study_is_exported():
    from nprates.analysis.planning import plan_study

    assert analysis.plan_study is plan_study
    assert "plan_study" in analysis.__all__
