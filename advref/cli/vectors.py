"""`advref vectors`: write the conformance vectors, or check an implementation."""

from __future__ import annotations

from advref import _json as strict_json
from advref.tools.conformance import ADVREF, check, load_subject, table
from advref.tools.vectors import generate


def register(sub):
    p = sub.add_parser("vectors", help="conformance vectors: write them, or check an "
                                       "implementation against them",
                       description="Write a versioned set of small fixed cases with float64 "
                                   "reference answers (--out DIR), or check an "
                                   "implementation against a set (--check DIR --impl "
                                   "module:object); exits 1 if any quantity fails.")
    p.add_argument("--out", help="write the vectors into this folder")
    p.add_argument("--check", metavar="DIR", help="check an implementation against DIR")
    p.add_argument("--impl", default=None, help="module:object, a subject offering any of "
                   "loss_grad, param_gradients, fgsm, iterative_fgsm, random_step_fgsm, vat, "
                   "adversarial_logistic_loss, minimal_distance (their signatures: "
                   "advref.tools.conformance; advref's own subject is "
                   "advref.tools.conformance:ADVREF, the default)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(run=run)


def run(args) -> int:
    if (args.out is None) == (args.check is None):
        raise ValueError("give exactly one of --out DIR and --check DIR.")
    if args.out is not None:
        manifest = generate(args.out)
        print(f"wrote {len(manifest['cases'])} cases to {args.out}")
        return 0
    subject = ADVREF if args.impl is None else load_subject(args.impl)
    rows = check(args.check, subject)
    if not rows:
        raise ValueError("--impl offers neither loss_grad nor fgsm: nothing to check.")
    if args.json:
        print(strict_json.dumps([{"case": c, "quantity": q, "worst_abs_error": e, "ok": ok}
                                 for c, q, e, ok in rows], indent=2))
    else:
        print(table(rows))
    return 0 if all(ok for *_, ok in rows) else 1
