"""Does the theory govern a study's whole range of sizes? ``range_warnings``.

Two things can stop the measured exponent being the class's before the largest n:

- the target's basis: a truncated target has ``n_basis`` functions; once the training
  set holds many more sequences than that, a least-squares fit on the true basis (the
  oracle) is parametric and its risk falls like 1 / n (docs/theory.md section 4; the
  truncation rule ``t_max = "auto"`` sizes the tail, not the count). Warned above
  ``BASIS_RATIO`` = 10 sequences per basis function: in results/published the anisotropic
  oracle (135 functions) steepens towards 1 / n from n of about 1500 (11 per function),
  the mixed one (647) does not up to 3200 (5 per function);
- a capacity rule's cap: ``{rule = "rate", c, max}`` stops growing like
  n^(1/(2 a_dagger + 1)) at the n where ``c n^(1/(2 a_dagger + 1))`` reaches ``max``.
"""

from __future__ import annotations

import math

from nprates.studies.build import build_target
from nprates.studies.capacity import is_rule

#: Sequences per basis function above which the oracle may exhaust a target's basis.
BASIS_RATIO = 10


def range_warnings(study) -> list:
    """Plain-language warnings for the targets (draw 0) and capacity caps of ``study`` that
    bind at or below its largest n."""
    n_max = int(max(study.sizes))
    out = []
    for label in study.targets:
        target = build_target(study, label)
        p = getattr(target, "n_basis", None)
        if p is not None and n_max > BASIS_RATIO * p:
            out.append(f"target {label}: {p} basis functions (t_max={target.t_max:g}) for up "
                       f"to {n_max} sequences (more than {BASIS_RATIO} per function): the "
                       f"oracle can exhaust the basis inside the range, where its risk turns "
                       f"parametric; raise t_max")
        a = float(getattr(target, "a_dagger", getattr(getattr(target, "smoothness", None),
                                                          "a_dagger", math.nan)))
        if not math.isfinite(a):
            continue
        for name, spec in study.estimators.items():
            for key, value in spec.params.items():
                if not is_rule(value) or "max" not in value:
                    continue
                n_cap = (float(value["max"]) / float(value["c"])) ** (2 * a + 1)
                if n_cap < n_max:
                    out.append(f"estimators.{name}.params.{key}: the cap max={value['max']} "
                               f"binds from n = {n_cap:.0f} on target {label} (the study "
                               f"reaches {n_max}): above it the width stops growing")
    return out
