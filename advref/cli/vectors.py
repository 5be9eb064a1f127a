"""`advref vectors`: write the conformance vectors, or check an implementation."""

from __future__ import annotations

from advref import _json as strict_json
from advref.tools.conformance import ADVREF, TOLERANCES, check, load_subject, tolerance
from advref.tools.conformance_report import passed, records, table
from advref.tools.vectors import generate


def register(sub):
    p = sub.add_parser("vectors", help="conformance vectors: write them, or check an "
                                       "implementation against them",
                       description="Write a versioned set of small fixed cases with float64 "
                                   "reference answers (--out DIR), or check an "
                                   "implementation against a set (--check DIR --impl "
                                   "module:object); exits 1 if any quantity fails or its "
                                   "method raises. Each example's answer is compared "
                                   "relative to its own scale S = max |reference|.")
    p.add_argument("--out", help="write the vectors into this folder")
    p.add_argument("--check", metavar="DIR", help="check an implementation against DIR")
    p.add_argument("--impl", default=None, help="module:object, a subject offering any of "
                   "loss_grad, param_gradients, fgsm, iterative_fgsm, random_step_fgsm, vat, "
                   "adversarial_logistic_loss, minimal_distance (their signatures: "
                   "advref.tools.conformance; advref's own subject is "
                   "advref.tools.conformance:ADVREF, the default). A module in the "
                   "current folder is found.")
    p.add_argument("--dtype", choices=sorted(TOLERANCES), default="float64",
                   help="the precision the subject computes in, which sets the default "
                        "tolerance: " + "; ".join(
                            f"{k}: atol {v['atol']:g}, rtol {v['rtol']:g}"
                            for k, v in TOLERANCES.items()))
    p.add_argument("--rtol", type=float, default=None,
                   help="relative tolerance, per element of |reference|")
    p.add_argument("--atol", type=float, default=None,
                   help="tolerance relative to the scale S = max |reference| of each "
                        "example's row (of the whole array for a mean's gradient)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args) -> int:
    if (args.out is None) == (args.check is None):
        raise ValueError("give exactly one of --out DIR and --check DIR.")
    if args.out is not None:
        given = [f"--{k}" for k in ("rtol", "atol", "impl") if getattr(args, k) is not None]
        if given or args.dtype != "float64" or args.json:
            raise ValueError(f"{', '.join(given) or '--dtype/--json'} only go with --check "
                             "DIR, not with --out.")
        manifest = generate(args.out)
        print(f"wrote {len(manifest['cases'])} cases to {args.out}")
        return 0
    tol = tolerance(args.dtype, args.rtol, args.atol)
    subject = ADVREF if args.impl is None else load_subject(args.impl)
    rows = check(args.check, subject, tol)
    if all(r.status == "SKIPPED" for r in rows):
        reasons = sorted({r.detail for r in rows})
        raise ValueError(f"--impl: nothing could be checked ({'; '.join(reasons[:4])}).")
    if args.json:
        print(strict_json.dumps(records(rows, tol, args.dtype), indent=2))
    else:
        print(table(rows, tol, args.dtype))
    return 0 if passed(rows) else 1
