"""``nprates theory``: effective smoothness, exponent and basis size of a smoothness spec."""

from __future__ import annotations

import json
import sys

HELP = "print a_dagger, the theoretical exponent, the basis size and the important directions"


def add_arguments(parser) -> None:
    parser.add_argument("--kind", default="mixed", choices=["mixed", "anisotropic"],
                        help="how directional smoothness combines (default: mixed)")
    parser.add_argument("--a0", type=float, default=1.0, help="smoothness of the roughest direction")
    parser.add_argument("--alpha", type=float, default=1.0, help="growth of smoothness with rank")
    parser.add_argument("--features", type=int, default=2, help="token dimension d")
    parser.add_argument("--window", type=int, default=8, help="number of lags V")
    parser.add_argument("--seed", type=int, default=0, help="seed of the rank permutation")
    parser.add_argument("--t-max", type=float, default=None,
                        help="truncation level (default: recommended for --n-max)")
    parser.add_argument("--n-max", type=int, default=2 ** 14,
                        help="largest planned sample size, for the default truncation level")
    parser.add_argument("--max-basis", type=int, default=200_000,
                        help="refuse truncations that need more basis functions")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def describe(args) -> dict:
    """The facts ``nprates theory`` prints, as a JSON-serialisable dict."""
    from nprates.smoothness import Smoothness, recommended_t_max
    from nprates.targets.trig_series import enumerate_blocks

    spec = Smoothness(kind=args.kind, a0=args.a0, alpha=args.alpha, features=args.features,
                      window=args.window, seed=args.seed)
    if args.t_max is None:
        t_max = recommended_t_max(spec, args.n_max)
    elif args.t_max <= 0:
        raise ValueError(f"--t-max must be > 0, got {args.t_max}")
    else:
        t_max = args.t_max
    if args.max_basis < 1:
        raise ValueError(f"--max-basis must be >= 1, got {args.max_basis}")
    blocks = enumerate_blocks(spec.a, spec.kind, t_max, args.max_basis)
    return {
        "kind": spec.kind, "a0": spec.a0, "alpha": spec.alpha, "features": spec.features,
        "window": spec.window, "a_dagger": spec.a_dagger, "exponent": spec.exponent,
        "t_max": t_max, "n_blocks": int(len(blocks)),
        "n_basis": int((2 ** blocks.sum(axis=(1, 2))).sum()),
        "important_directions": [{"feature": i, "lag": j, "a": float(spec.a[i, j])}
                                 for i, j in spec.important_directions(t_max)],
    }


def run(args) -> int:
    facts = describe(args)
    if args.json:
        json.dump(facts, sys.stdout, indent=2)
        print()
        return 0
    print(f"smoothness      {facts['kind']}, a_c = {facts['a0']:g} * rank^{facts['alpha']:g} "
          f"over {facts['features']} features x {facts['window']} lags")
    print(f"a_dagger        {facts['a_dagger']:.6g}")
    print(f"exponent        {facts['exponent']:.6g}   (risk ~ n^-exponent, up to polylog factors)")
    print(f"t_max           {facts['t_max']:.6g}")
    print(f"basis functions {facts['n_basis']} in {facts['n_blocks']} blocks")
    dirs = facts["important_directions"]
    print(f"important directions ({len(dirs)} with a_c <= t_max, roughest first):")
    for d in dirs:
        print(f"  feature {d['feature']}, lag {d['lag']:>2}: a = {d['a']:g}")
    return 0
