"""SciPy's BLAS kept to one thread while L-BFGS-B runs beside NumPy's BLAS.

NumPy's and SciPy's wheels each bundle their own OpenBLAS, and each OpenBLAS has
its own pool of worker threads, whose idle workers spin for a while before they
sleep. The minimal-perturbation search alternates L-BFGS-B's small SciPy BLAS
calls (vectors of d = 784) with the model's NumPy products, so the two pools'
spinning workers take the cores from each other. On the 2-core machine, one
targeted search on a float32 maxout took 2.33 s with both pools at their
default two threads, and 0.22 s with SciPy's pool at one thread (234 L-BFGS
iterations both times: the numbers do not change, only the waiting).

`scipy_blas_single_thread()` sets SciPy's bundled OpenBLAS to one thread for the
duration of a `with` block and then restores its previous count. The setting is
process-wide, so SciPy BLAS work in other threads is single-threaded meanwhile.
Where SciPy's BLAS is not a bundled OpenBLAS (a conda build, MKL, Accelerate),
the library is not found and the block runs unchanged.

`numpy_blas_threads()` reads the thread count of NumPy's bundled OpenBLAS.
Float32 training sums run in an order that depends on it, so the same seed
trains bit-identical parameters only for the same count; advref.reproduce
records it with each model it trains.
"""

from __future__ import annotations

import ctypes
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

SYMBOL_PREFIXES = ("scipy_openblas", "openblas")
# NumPy's wheels use the 64-bit-integer build, whose symbols end in 64_
SYMBOL_SUFFIXES = ("", "64_")


def wheel_library_folders(package_root):
    """Where pip wheels keep a package's bundled libraries (Linux and Windows, macOS)."""
    return (package_root.parent / f"{package_root.name}.libs", package_root / ".dylibs")


def _openblas_threads_of(package):
    """(get_num_threads, set_num_threads) of the OpenBLAS bundled with package, or None."""
    for folder in wheel_library_folders(Path(package.__file__).parent):
        for path in sorted(folder.glob("*openblas*")):
            try:
                lib = ctypes.CDLL(str(path))
            except OSError:
                continue
            for prefix in SYMBOL_PREFIXES:
                for suffix in SYMBOL_SUFFIXES:
                    get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    set_ = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    if get is not None and set_ is not None:
                        get.restype, get.argtypes = ctypes.c_int, []
                        set_.restype, set_.argtypes = None, [ctypes.c_int]
                        return get, set_
    return None


@lru_cache(maxsize=1)
def scipy_openblas_threads():
    """(get_num_threads, set_num_threads) of SciPy's bundled OpenBLAS, or None."""
    import scipy

    return _openblas_threads_of(scipy)


@lru_cache(maxsize=1)
def _numpy_openblas_threads():
    import numpy

    return _openblas_threads_of(numpy)


def numpy_blas_threads():
    """The thread count of NumPy's bundled OpenBLAS now, or None where NumPy's BLAS
    is not a bundled OpenBLAS (a conda build, MKL, Accelerate)."""
    threads = _numpy_openblas_threads()
    return None if threads is None else int(threads[0]())


@contextmanager
def scipy_blas_single_thread():
    """Run the block with SciPy's bundled OpenBLAS at one thread (see above)."""
    threads = scipy_openblas_threads()
    if threads is None:
        yield
        return
    get, set_ = threads
    before = get()
    set_(1)
    try:
        yield
    finally:
        set_(before)
