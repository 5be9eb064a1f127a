"""Two one-thread training jobs against one two-thread job, on this machine.

Times `steps` maxout training steps (the published recipe's model, batch 100,
float32) (a) in one process with two BLAS threads, and (b) in two processes at
once with one BLAS thread each. Prints the updates per second of each setting;
`advref reproduce --jobs` defaults to the faster one. Run on an idle machine.
"""

import json
import os
import subprocess
import sys
import time

STEP = """
import time, numpy as np
from advref.models import MaxoutMLP
from advref.training.sgd import sgd_step
rng = np.random.default_rng(0)
x = rng.random((100, 784), dtype=np.float32); y = rng.integers(0, 10, 100)
m = MaxoutMLP(dtype=np.float32)
v = {k: np.zeros_like(p) for k, p in m.params.items()}
def step():
    _, g = m.loss_and_grads(x, y, train=True, rng=rng)
    sgd_step(m, g, v, 0.5, 0.01, {}, m.max_col_norm)
for _ in range(20): step()
t = time.perf_counter()
for _ in range({steps}): step()
print(time.perf_counter() - t)
"""


def run(threads, copies, steps):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", STEP.replace("{steps}", str(steps))], env=env,
                              cwd=root, stdout=subprocess.PIPE, text=True)
             for _ in range(copies)]
    inner = [float(p.communicate()[0]) for p in procs]
    return {"threads": threads, "processes": copies, "steps_each": steps,
            "updates_per_s": copies * steps / max(inner),
            "wall_s": time.perf_counter() - start}


if __name__ == "__main__":
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    one = run(2, 1, steps)
    two = run(1, 2, steps)
    print(json.dumps({"one_two_thread_job": one, "two_one_thread_jobs": two,
                      "ratio_two_jobs_over_one": two["updates_per_s"] / one["updates_per_s"]},
                     indent=2))
