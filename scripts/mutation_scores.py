"""Per-module mutation scores from a finished or partial `mutmut run`.

    python scripts/mutation_scores.py [MUTANTS_DIR] [--equivalent FILE] [--list]

mutmut 3 keeps each source file's results in `mutants/<path>.meta` (JSON,
`exit_code_by_key`: mutant name -> the test run's exit code, None if not run
yet). This reads them
and prints one row per module: mutants, checked, killed (a failing test run or
a timeout), survived, "no tests" (no selected test runs the mutated function:
a survivor too), and the score killed / (checked - equivalent).

`--equivalent FILE` names the mutants judged equivalent (they change no
behaviour); each line of FILE that starts with a mutant name (`module.x_fn__mutmut_N`
or the method form) counts, and the rest of the line is its reason. `--list`
prints every survivor that is not in that file.
"""
import argparse
import json
import pathlib
import sys

NO_TESTS = 33       # mutmut's exit codes: 0 the tests passed (survived), 33 no test
SURVIVED = 0        # ran it; anything else (a failure, a crash, a timeout) killed it


def module_of(path, root):
    rel = path.relative_to(root).with_suffix("").with_suffix("")   # a/b.py.meta -> a/b
    return ".".join(rel.parts)


def read_equivalent(path):
    names = set()
    if path is None:
        return names
    for line in pathlib.Path(path).read_text().splitlines():
        first = line.strip().strip("-*| `").split("`")[0].split()
        if first and "__mutmut_" in first[0]:
            names.add(first[0])
    return names


def scores(root, equivalent):
    rows, survivors = [], []
    for meta in sorted(pathlib.Path(root).rglob("*.meta")):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        row = dict(module=module_of(meta, root), mutants=len(codes), checked=0, killed=0,
                   survived=0, no_tests=0, equivalent=0)
        for name, code in codes.items():
            if code is None:
                continue
            row["checked"] += 1
            if code not in (SURVIVED, NO_TESTS):
                row["killed"] += 1          # killed, even if the file calls it equivalent
            elif name in equivalent:
                row["equivalent"] += 1
            else:
                row["survived" if code == SURVIVED else "no_tests"] += 1
                survivors.append(name)
        judged = row["checked"] - row["equivalent"]
        row["score"] = row["killed"] / judged if judged else float("nan")
        rows.append(row)
    return rows, survivors


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mutants", nargs="?", default="mutants")
    p.add_argument("--equivalent", help="file naming the equivalent mutants, one per line")
    p.add_argument("--list", action="store_true", help="print the survivors not judged equivalent")
    a = p.parse_args(argv)
    if not pathlib.Path(a.mutants).is_dir():
        sys.exit(f"mutants: no folder {a.mutants!r}; run `mutmut run` first")
    rows, survivors = scores(a.mutants, read_equivalent(a.equivalent))
    print("| module | mutants | checked | killed | survived | no tests | equivalent | score |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| `{r['module']}` | {r['mutants']} | {r['checked']} | {r['killed']} | "
              f"{r['survived']} | {r['no_tests']} | {r['equivalent']} | {r['score']:.1%} |")
    if a.list:
        print("\n".join(survivors))


if __name__ == "__main__":
    main()
