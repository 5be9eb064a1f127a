"""Shared fixtures. Tests marked `mnist` need the full files (found via ADVREF_DATA):
they skip when the files are absent, unless ADVREF_REQUIRE_DATA=1, where absence fails."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from advref.data_loaders import find_mnist, load_mnist

settings.register_profile("advref", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("advref")


def require_mnist():
    if find_mnist() is None:
        message = ("full MNIST not found (set ADVREF_DATA to the folder holding the four "
                   "files)")
        if os.environ.get("ADVREF_REQUIRE_DATA") == "1":
            pytest.fail(message + " and ADVREF_REQUIRE_DATA=1")
        pytest.skip(message)


@pytest.fixture(scope="session")
def mnist():
    require_mnist()
    return load_mnist(dtype=np.float64)


@pytest.fixture
def mnist_dir():
    require_mnist()
    return find_mnist()
