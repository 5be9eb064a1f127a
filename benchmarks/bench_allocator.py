"""The maxout tasks with glibc's default malloc thresholds against advref's
(advref._allocator), in alternating child processes of one run.

Each round starts two fresh Python processes, one with glibc's defaults and one
with MALLOC_MMAP_THRESHOLD_ and MALLOC_TRIM_THRESHOLD_ set as the `advref`
command sets them; each times every task of `advref bench` (advref.tools.speed)
at the given batch sizes for `--seconds` and counts its minor page faults and
kernel CPU time per call. The table gives the median over rounds of each
process's examples/s, their ratio, and the faults and kernel time per call.

    python benchmarks/bench_allocator.py [--rounds 5] [--batch 100 1000] [--json]

Run it on an idle machine; float32, NumPy's default thread count.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

from advref._allocator import MMAP_THRESHOLD, SETTINGS, TRIM_THRESHOLD

CHILD = """
import json, resource, sys, time
import numpy as np
from advref.tools.speed import tasks
batch, seconds = int(sys.argv[1]), float(sys.argv[2])
out = {}
for name, fn in tasks(np.float32, batch).items():
    fn(); fn()
    before, start, calls = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        fn()
        calls += 1
    elapsed, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    out[name] = {"per_s": batch * calls / elapsed,
                 "faults": (after.ru_minflt - before.ru_minflt) / calls,
                 "kernel_ms": 1e3 * (after.ru_stime - before.ru_stime) / calls}
print(json.dumps(out))
"""


def child(batch, seconds, kept):
    env = {k: v for k, v in os.environ.items() if k not in dict(SETTINGS)}
    if kept:
        env.update(zip(dict(SETTINGS), (str(MMAP_THRESHOLD), str(TRIM_THRESHOLD)), strict=True))
    done = subprocess.run([sys.executable, "-c", CHILD, str(batch), str(seconds)], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--batch", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    rows = []
    for batch in args.batch:
        runs = {False: [], True: []}
        for r in range(args.rounds):
            for kept in ((False, True) if r % 2 == 0 else (True, False)):
                runs[kept].append(child(batch, args.seconds, kept))
        for task in runs[False][0]:
            def median(kept, field, task=task, runs=runs):
                return float(np.median([run[task][field] for run in runs[kept]]))
            ratios = [k[task]["per_s"] / d[task]["per_s"]
                      for d, k in zip(runs[False], runs[True], strict=True)]
            rows.append({"batch": batch, "task": task,
                         "default_per_s": median(False, "per_s"),
                         "kept_per_s": median(True, "per_s"),
                         "speedup": float(np.median(ratios)),
                         "default_faults": median(False, "faults"),
                         "kept_faults": median(True, "faults"),
                         "default_kernel_ms": median(False, "kernel_ms"),
                         "kept_kernel_ms": median(True, "kernel_ms")})
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'batch':>5s} {'task':18s} {'default/s':>10s} {'kept/s':>10s} {'ratio':>6s} "
          f"{'faults':>15s} {'kernel ms':>13s}")
    for r in rows:
        print(f"{r['batch']:5d} {r['task']:18s} {r['default_per_s']:10.0f} "
              f"{r['kept_per_s']:10.0f} {r['speedup']:6.2f} "
              f"{r['default_faults']:7.0f} {r['kept_faults']:7.0f} "
              f"{r['default_kernel_ms']:6.1f} {r['kept_kernel_ms']:6.1f}")


if __name__ == "__main__":
    main()
