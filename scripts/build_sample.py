"""Build data_loaders/mnist_sample.npz from the full MNIST files, reproducibly.

    ADVREF_DATA=../shared/data/mnist python scripts/build_sample.py

Draws 200 training and 100 test images per digit with a fixed seed (see
data_loaders/sample.py) and stores them as uint8 with their original indices.
The same MNIST files give the same sample, bit for bit.
"""

import io
import sys
from pathlib import Path

import numpy as np

from advref.data_loaders.files import atomic_write_bytes
from advref.data_loaders.mnist import load_mnist
from advref.data_loaders.sample import (
    SAMPLE_FILE,
    SAMPLE_SEED,
    TEST_PER_CLASS,
    TRAIN_PER_CLASS,
    stratified_indices,
)


def main():
    data = load_mnist(dtype=np.float64)
    rng = np.random.default_rng(SAMPLE_SEED)
    train_index = stratified_indices(data.y_train, TRAIN_PER_CLASS, rng)
    test_index = stratified_indices(data.y_test, TEST_PER_CLASS, rng)

    def to_uint8(x):
        return np.rint(x * 255).astype(np.uint8)

    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        x_train=to_uint8(data.x_train[train_index]), y_train=data.y_train[train_index],
        x_test=to_uint8(data.x_test[test_index]), y_test=data.y_test[test_index],
        train_index=train_index, test_index=test_index,
    )
    out = Path(__file__).resolve().parent.parent / "data_loaders" / SAMPLE_FILE
    atomic_write_bytes(out, buf.getvalue())
    print(f"wrote {out} ({out.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
