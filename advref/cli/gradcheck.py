"""`advref gradcheck [MODEL ...]`: audit every gradient of every model.

Each model is built small, in float64, with random parameters; its parameter
gradients (eval mode, and train mode with a fixed dropout mask where it has
dropout) and its input gradient are compared with central finite differences.
Exits 1 if any array exceeds the tolerance.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from advref import _json as strict_json
from advref.models import MLP, LogisticRegression, MaxoutMLP, RBFNetwork, SoftmaxRegression
from advref.tools.gradient_audit import ATOL, RTOL, check_model, draw_instance, randomize_params

D, K, N = 7, 3, 4
DROPOUT: dict[str, Any] = {"include_probs": (0.8, 0.5, 0.5), "scales": (1.0, 2.0, 2.0)}

SUITE = {
    "logistic": lambda: LogisticRegression(D),
    "softmax": lambda: SoftmaxRegression(D, K),
    "maxout": lambda: MaxoutMLP(D, K, units=(3, 4), pieces=3, **DROPOUT),
    "maxout-sigmoid": lambda: MaxoutMLP(D, K, units=(3, 4), pieces=3, output="sigmoid-ovr",
                                        **DROPOUT),
    "relu": lambda: MLP(D, K, hidden=(5, 4), activation="relu", **DROPOUT),
    "tanh": lambda: MLP(D, K, hidden=(5, 4), activation="tanh"),
    "rbf": lambda: RBFNetwork(D, K),
}


def audit(name, seed=0):
    """Rows for one suite entry: eval mode, plus train mode when it has dropout."""
    rng = np.random.default_rng(seed)
    model = randomize_params(SUITE[name](), rng)
    modes = [("", None)]
    if any(p < 1 for p in getattr(model, "include_probs", ())):
        modes.append((" (train, fixed dropout mask)", 1234))
    rows = []
    for label, train_seed in modes:
        x, y = draw_instance(model, rng, N, train_seed=train_seed)
        rows += check_model(model, x, y, train_seed=train_seed, name=name + label)
    return rows


def register(sub):
    p = sub.add_parser("gradcheck", help="audit every gradient against finite differences",
                       description="Compare every parameter and input gradient of every model "
                                   "with central finite differences in float64; exit 1 if any "
                                   f"element exceeds |a - n| <= {ATOL} + {RTOL} * max(|a|, |n|).")
    p.add_argument("models", nargs="*", metavar="MODEL",
                   help=f"models to audit, named as in `advref train` (default: all): "
                        f"{', '.join(SUITE)}")
    p.add_argument("--seed", type=int, default=0, help="seed for parameters and inputs")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(run=run)


def run(args) -> int:
    unknown = [m for m in args.models if m not in SUITE]
    if unknown:
        raise ValueError(f"MODEL must be among {', '.join(SUITE)}, got "
                         f"{', '.join(unknown)} instead.")
    rows = [row for name in (args.models or SUITE) for row in audit(name, args.seed)]
    if args.json:
        print(strict_json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(f"{'model':42s} {'array':8s} {'size':>5s} {'max abs err':>12s} "
              f"{'max rel err':>12s} {'nonzero':>7s}  result")
        for r in rows:
            print(f"{r.model:42s} {r.array:8s} {r.size:5d} {r.max_abs:12.3e} "
                  f"{r.max_rel:12.3e} {r.nonzero:7.0%}  {'ok' if r.ok else 'FAIL'}")
        failed = sum(not r.ok for r in rows)
        print(f"{len(rows) - failed} arrays ok, {failed} failed "
              f"(tolerance |a - n| <= {ATOL} + {RTOL} * max(|a|, |n|), central differences, "
              "float64; an all-zero gradient fails as vacuous)")
    return 0 if all(r.ok for r in rows) else 1
