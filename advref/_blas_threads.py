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

The count is not the only clue. A DYNAMIC_ARCH OpenBLAS picks its kernels for
the CPU it runs on (Haswell, SkylakeX, Zen, ...; `OPENBLAS_CORETYPE` forces one),
and each kernel blocks and orders its sums its own way, so the same seed, NumPy
and thread count train other last bits on another CPU. `numpy_blas()` returns
what NumPy's own build configuration says of its BLAS (library and version)
with the kernel and thread count the running OpenBLAS reports; every trained
model records it as `blas`.
"""

from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

SYMBOL_PREFIXES = ("scipy_openblas", "openblas")
# NumPy's wheels use the 64-bit-integer build, whose symbols end in 64_
SYMBOL_SUFFIXES = ("", "64_")


def wheel_library_folders(package_root):
    """Where pip wheels keep a package's bundled libraries (Linux and Windows, macOS)."""
    return (package_root.parent / f"{package_root.name}.libs", package_root / ".dylibs")


def _openblas_functions_of(package, *names):
    """The functions `names` (without prefix and suffix) of the OpenBLAS bundled with
    package, all from one library and naming scheme, or None."""
    for folder in wheel_library_folders(Path(package.__file__).parent):
        for path in sorted(folder.glob("*openblas*")):
            try:
                lib = ctypes.CDLL(str(path))
            except OSError:
                continue
            for prefix in SYMBOL_PREFIXES:
                for suffix in SYMBOL_SUFFIXES:
                    found = [getattr(lib, f"{prefix}_{n}{suffix}", None) for n in names]
                    if all(f is not None for f in found):
                        return found
    return None


def _openblas_threads_of(package):
    """(get_num_threads, set_num_threads) of the OpenBLAS bundled with package, or None."""
    found = _openblas_functions_of(package, "get_num_threads", "set_num_threads")
    if found is None:
        return None
    get, set_ = found
    get.restype, get.argtypes = ctypes.c_int, []
    set_.restype, set_.argtypes = None, [ctypes.c_int]
    return get, set_


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


def _numpy_build_blas():
    """(name, version) of the BLAS NumPy was built against, from NumPy's own
    configuration (NumPy >= 1.25; None, None on older NumPy, which has no such record)."""
    import numpy

    try:
        blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
    except (TypeError, KeyError):
        return None, None
    return blas.get("name"), blas.get("version")


@lru_cache(maxsize=1)
def numpy_blas_kernel():
    """The kernel family NumPy's bundled OpenBLAS chose for this CPU (its
    get_corename, for example "Haswell"), or None where it cannot be read."""
    import numpy

    found = _openblas_functions_of(numpy, "get_corename")
    if found is None:
        return None
    corename = found[0]
    corename.restype, corename.argtypes = ctypes.c_char_p, []
    return corename().decode("ascii", "replace")


def numpy_blas():
    """What orders NumPy's BLAS sums in this process: {"library", "version", "kernel",
    "threads"}, each None where it cannot be read."""
    name, version = _numpy_build_blas()
    return {"library": name, "version": version, "kernel": numpy_blas_kernel(),
            "threads": numpy_blas_threads()}


@contextmanager
def _single_thread(threads):
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


def scipy_blas_single_thread():
    """Run the block with SciPy's bundled OpenBLAS at one thread (see above)."""
    return _single_thread(scipy_openblas_threads())


def numpy_blas_single_thread():
    """Run the block with NumPy's bundled OpenBLAS at one thread, as each `reproduce
    --jobs` worker trains (reproduce --plan's probe uses it)."""
    return _single_thread(_numpy_openblas_threads())


# what OpenBLAS, OpenMP and MKL read for their thread count when they load
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def one_thread_environment():
    """Run the block with THREAD_VARIABLES set to 1, then as they were: a process
    started inside it (spawn, forkserver) loads its BLAS with one thread."""
    saved = {k: os.environ.get(k) for k in THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(THREAD_VARIABLES, "1"))
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
