"""SciPy's BLAS is single-threaded inside the block and restored after it."""

from pathlib import Path

import pytest
import scipy

from advref.attacks._blas_threads import (
    scipy_blas_single_thread,
    scipy_openblas_threads,
    wheel_library_folders,
)


def test_the_block_sets_one_thread_and_restores_the_count():
    threads = scipy_openblas_threads()
    bundled = [p for folder in wheel_library_folders(Path(scipy.__file__).parent)
               for p in folder.glob("*openblas*")]
    if threads is None:
        # Only a SciPy without a bundled OpenBLAS (conda, Accelerate) may miss it.
        assert not bundled, f"SciPy bundles {bundled} but its thread count was not found"
        pytest.skip("this SciPy bundles no OpenBLAS, so there is no thread count to set: "
                    "the block does nothing here")
    get, set_ = threads
    before = get()
    with scipy_blas_single_thread():
        assert get() == 1
    assert get() == before
    with pytest.raises(RuntimeError), scipy_blas_single_thread():
        raise RuntimeError("the count is restored on errors too")
    assert get() == before
