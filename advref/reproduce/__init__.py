"""`advref reproduce`: the paper's MNIST results and the lecture's benchmarks."""

from advref.reproduce.runner import reproduce

__all__ = ["reproduce"]
