"""`advref bench`: the maxout model's speed as fractions of the machine's matmul rate."""

from __future__ import annotations

from advref import _json as strict_json
from advref.tools.speed import FLOPS, run, table

DESCRIPTION = ("Measure the machine's float32/float64 matmul rate and, in the same run, the "
               "maxout model's forward, FGSM, training and adversarial-training examples/s at "
               "batch 100 and 1000. Work per example (FLOP): "
               + ", ".join(f"{k} {v / 1e6:.2f}M" for k, v in FLOPS.items()))


def register(sub):
    p = sub.add_parser("bench", help="speed as a fraction of this machine's matmul rate",
                       description=DESCRIPTION)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--batch", type=int, nargs="+", default=[100, 1000],
                   help="batch sizes to time (100 1000)")
    p.add_argument("--dtype", nargs="+", default=["float32", "float64"],
                   choices=["float32", "float64"], help="dtypes to time (both)")
    p.set_defaults(run=run_command)


def run_command(args) -> int:
    bad = [b for b in args.batch if b < 1]
    if bad:
        raise ValueError(f"--batch must be positive batch sizes, got {bad[0]} instead.")
    result = run(tuple(args.batch), tuple(args.dtype))
    print(strict_json.dumps(result, indent=2) if args.json else table(result))
    return 0
