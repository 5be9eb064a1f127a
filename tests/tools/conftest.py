"""Fixtures of the tools' tests: one conformance vector set, written once."""

import pytest

from advref.tools.vectors import generate


@pytest.fixture(scope="session")
def vectors(tmp_path_factory):
    """A freshly generated vector set (tests that alter it copy it first)."""
    folder = tmp_path_factory.mktemp("vectors")
    generate(folder)
    return folder
