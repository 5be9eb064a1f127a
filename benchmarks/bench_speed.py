"""The maxout model's speed beside the machine's matmul rate (same as `advref bench`).

    python benchmarks/bench_speed.py [--json]
"""

import json
import sys

from advref.tools.speed import run, table

if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=2) if "--json" in sys.argv else table(result))
