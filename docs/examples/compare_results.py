"""Compare the rows of several `advref reproduce` runs (their results.json).

    python docs/examples/compare_results.py NAME=DIR/results.json ...

prints a Markdown table with one line per row: each run's value, the range, and
whether the runs agree exactly. Used for docs/results-quick.md's table of the
quick profile under three OpenBLAS kernels (a model's bits depend on the kernel).
"""

from __future__ import annotations

import json
import sys


def value_text(value, unit):
    if value is None:
        return "-"
    return f"{100 * value:.2f}%" if unit == "%" else f"{value:.4g}"


def compare(runs):
    """[(row id, quantity label, [value per run], unit)] for the rows of the first run."""
    by_id = [{r["id"]: r for r in rows} for rows in runs.values()]
    table = []
    for row in next(iter(runs.values())):
        values = [d[row["id"]]["measured"] if row["id"] in d else None for d in by_id]
        table.append((row["id"], f"{row['experiment']}: {row['quantity']}", values,
                      row["unit"]))
    return table


def markdown(names, table):
    lines = ["| row | " + " | ".join(names) + " | range | same in every run |",
             "|---|" + "---|" * (len(names) + 2)]
    for _, label, values, unit in table:
        known = [v for v in values if v is not None]
        low, high = (value_text(min(known), unit), value_text(max(known), unit)) if known \
            else ("-", "-")
        spread = "-" if low == high else f"{low} - {high}"
        same = ("yes" if len(known) == len(values) and min(known) == max(known) else
                "to the digits shown" if low == high else "no")
        lines.append(f"| {label} | " + " | ".join(value_text(v, unit) for v in values)
                     + f" | {spread} | {same} |")
    return "\n".join(lines)


def main(argv):
    runs = {}
    for arg in argv:
        name, _, path = arg.partition("=")
        with open(path) as f:
            runs[name] = json.load(f)["rows"]
    table = compare(runs)
    print(markdown(list(runs), table))
    same = sum(1 for _, _, values, _ in table
               if None not in values and min(values) == max(values))
    print(f"\n{same} of {len(table)} rows identical in every run")


if __name__ == "__main__":
    main(sys.argv[1:])
