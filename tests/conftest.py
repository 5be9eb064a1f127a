"""Shared fixtures. Tests marked `mnist` need the full files (found via ADVREF_DATA):
they skip when the files are absent, unless ADVREF_REQUIRE_DATA=1, where absence fails.
Tests marked `scipy` drive the L-BFGS-B features: they skip, saying so, where SciPy
is not installed (advref's other features need NumPy alone), unless
ADVREF_REQUIRE_SCIPY=1, where its absence fails them."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from advref.data_loaders import find_mnist, load_mnist

try:
    import scipy  # noqa: F401
    HAVE_SCIPY = True
except ImportError:
    HAVE_SCIPY = False

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


def pytest_collection_modifyitems(config, items):
    if HAVE_SCIPY:
        return
    if os.environ.get("ADVREF_REQUIRE_SCIPY") == "1":
        raise pytest.UsageError("ADVREF_REQUIRE_SCIPY=1, but SciPy is not installed here")
    reason = "needs SciPy (the L-BFGS-B features), which is not installed here"
    for item in items:
        if item.get_closest_marker("scipy") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
