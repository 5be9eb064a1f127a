"""The conformance checker's rows as a text table or as strict-JSON records."""

from __future__ import annotations

from collections import Counter

STATUSES = ("ok", "FAIL", "ERROR", "SKIPPED")


def counts(rows) -> dict:
    seen = Counter(r.status for r in rows)
    return {s: seen.get(s, 0) for s in STATUSES}


def passed(rows) -> bool:
    """True when nothing failed or raised (skipped quantities are not failures)."""
    return not any(r.status in ("FAIL", "ERROR") for r in rows)


def table(rows, tol, dtype="float64") -> str:
    lines = [f"{'case':26s} {'quantity':32s} {'result':7s} {'worst/S':>10s}  detail"]
    for r in rows:
        worst = "" if r.worst is None else f"{r.worst:10.2e}"
        lines.append(f"{r.case:26s} {r.quantity:32s} {r.status:7s} {worst:>10s}  "
                     f"{r.detail}".rstrip())
    n = counts(rows)
    lines.append(f"{n['ok']} passed, {n['FAIL']} failed, {n['ERROR']} errors, "
                 f"{n['SKIPPED']} skipped (tolerance |got - expected| <= {tol['atol']:g} S "
                 f"+ {tol['rtol']:g} |expected|, S = max |expected| of each example's row "
                 f"or of a mean's gradient; {dtype} defaults unless --rtol/--atol)")
    return "\n".join(lines)


def records(rows, tol, dtype="float64") -> dict:
    return {"tolerance": {**tol, "dtype": dtype}, "counts": counts(rows),
            "rows": [{"case": r.case, "quantity": r.quantity, "status": r.status,
                      "worst_relative_to_scale": r.worst, "detail": r.detail}
                     for r in rows]}
