import numpy as np
import pytest

from advref.data_loaders import gaussian_classes


def test_seeded_and_shaped():
    x1, y1 = gaussian_classes(300, 50, 3, rng=7)
    x2, y2 = gaussian_classes(300, 50, 3, rng=np.random.default_rng(7))
    assert x1.shape == (300, 50) and y1.shape == (300,) and y1.dtype == np.int64
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(y1, y2)
    assert np.bincount(y1).tolist() == [100, 100, 100]


def test_nearest_mean_is_near_perfect():
    x, y = gaussian_classes(2000, 400, 4, rng=1)
    means = np.stack([x[y == c].mean(0) for c in range(4)])
    pred = np.argmin(((x[:, None, :] - means[None]) ** 2).sum(-1), axis=1)
    assert (pred != y).mean() < 0.01


def test_float32_and_bad_arguments():
    x, _ = gaussian_classes(10, 5, 2, rng=0, dtype=np.float32)
    assert x.dtype == np.float32
    with pytest.raises(ValueError, match="k must be an integer >= 2"):
        gaussian_classes(10, 5, 1, rng=0)
    with pytest.raises(TypeError, match="rng must be"):
        gaussian_classes(10, 5, 2, rng=0.5)
