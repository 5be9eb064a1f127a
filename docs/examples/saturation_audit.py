"""Measure how often a trained model's softmax saturates on the MNIST test set, and
what the printed gradient (softmax - onehot) does to FGSM there.

    python docs/examples/saturation_audit.py MODEL.npz [MODEL.npz ...] [--eps 0.25]

Each model file is evaluated in its own dtype (advref trains in float32). The
results for the quick and paper maxouts are in docs/auditing.md, "Saturation".
Needs full MNIST (ADVREF_DATA).
"""

import argparse
import json

from advref.analysis.saturation import saturation
from advref.datasets import load_data
from advref.models.persist import load


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--eps", type=float, default=0.25)
    args = parser.parse_args(argv)
    for path in args.models:
        model = load(path)
        *_, x_test, y_test, _ = load_data("mnist", model.dtype)
        for clip in ((0.0, 1.0), None):
            row = saturation(model, x_test, y_test, args.eps, clip=clip)
            print(json.dumps({"model": path, "clip": clip, **row}))


if __name__ == "__main__":
    main()
