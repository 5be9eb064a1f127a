"""Freed array memory kept for reuse: glibc's malloc thresholds for advref's processes.

NumPy takes every array's memory from the C library's malloc. glibc serves a
request above its mmap threshold (128 KiB at start, raised with each freed
mapping up to 32 MiB) with a fresh mapping, and gives memory at the top of the
heap back to the kernel once more than its trim threshold is free there. A new
mapping, or heap memory given back and taken again, costs one page fault for
every page first touched. A training step at batch 1000 allocates and frees
arrays of 4-10 MB (1000 x 1200 float32 and their stacked adversarial twins),
so every step paid for thousands of faults: measured on the 2-core machine,
5,000-12,000 minor faults and 14-44 ms of kernel time a step
(benchmarks/README.md).

`retain_freed_memory()` raises both thresholds: arrays up to MMAP_THRESHOLD come
from the heap, and up to TRIM_THRESHOLD of free heap stays with the process, so
the next step's arrays reuse pages that are already mapped. Only where and how
memory is taken changes, never a value computed in it. The cost: after its
peak the process keeps up to TRIM_THRESHOLD of freed memory instead of giving it
back, so its resident size stays near the peak. The `advref` command calls it
for its own process; a program using the library may call it too
(`advref.retain_freed_memory()`).

The settings are also put in the environment (`MALLOC_MMAP_THRESHOLD_`,
`MALLOC_TRIM_THRESHOLD_`, which glibc reads when a process starts), so worker
processes started later with spawn or forkserver take them; a value the user
set there wins and is left alone. Where the C library is not glibc (macOS,
Windows, musl), nothing is changed.
"""

from __future__ import annotations

import ctypes
import os

MMAP_THRESHOLD = 256 << 20        # bytes: arrays up to this size come from the heap
TRIM_THRESHOLD = 512 << 20        # bytes of free heap kept before any is given back

# mallopt's parameter numbers (glibc's malloc.h) and the variables glibc reads instead
SETTINGS = (("MALLOC_MMAP_THRESHOLD_", -3), ("MALLOC_TRIM_THRESHOLD_", -1))


def glibc() -> ctypes.CDLL | None:
    """The running process's C library when it is glibc, else None."""
    try:
        libc = ctypes.CDLL(None)
    except (OSError, TypeError):           # TypeError: Windows has no process library
        return None
    # glibc's own symbol, absent from musl, macOS and the others
    return libc if hasattr(libc, "gnu_get_libc_version") else None


def retain_freed_memory(mmap_threshold: int = MMAP_THRESHOLD,
                        trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Set glibc's mmap and trim thresholds for this process and its later children.

    A threshold whose environment variable is already set is left as the user set
    it. Returns True when glibc took the settings, False where the C library is not
    glibc or refused one (the process then runs as before).
    """
    libc = glibc()
    if libc is None:
        return False
    accepted = True
    wanted = {"MALLOC_MMAP_THRESHOLD_": mmap_threshold, "MALLOC_TRIM_THRESHOLD_": trim_threshold}
    for variable, parameter in SETTINGS:
        value = wanted[variable]
        if variable in os.environ:
            continue
        if libc.mallopt(ctypes.c_int(parameter), ctypes.c_int(value)) != 1:
            accepted = False
            continue
        os.environ[variable] = str(value)
    return accepted
