"""Time and peak memory of loading full MNIST from gzip (found via ADVREF_DATA).

Prints seconds (best of 3) and the peak traced allocation as a multiple of the
returned arrays' size (tracemalloc sees NumPy's buffers), for float32 and float64.
"""

import json
import sys
import time
import tracemalloc

import numpy as np

from advref.data_loaders import load_mnist


def measure(dtype):
    times = []
    for _ in range(3):
        start = time.perf_counter()
        data = load_mnist(dtype=dtype)
        times.append(time.perf_counter() - start)
        del data
    tracemalloc.start()
    data = load_mnist(dtype=dtype)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    returned = sum(a.nbytes for a in data)
    return {"dtype": np.dtype(dtype).name, "seconds": round(min(times), 3),
            "returned_MB": round(returned / 2**20, 1), "peak_MB": round(peak / 2**20, 1),
            "peak_over_returned": round(peak / returned, 2)}


if __name__ == "__main__":
    rows = [measure(np.float32), measure(np.float64)]
    if "--json" in sys.argv:
        print(json.dumps(rows, indent=2))
    else:
        for r in rows:
            print(f"{r['dtype']:8s} {r['seconds']:.3f} s   peak {r['peak_MB']} MB for "
                  f"{r['returned_MB']} MB returned ({r['peak_over_returned']}x)")
