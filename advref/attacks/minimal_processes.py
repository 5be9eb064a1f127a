"""The batched minimal-perturbation search, its examples shared among processes.

In one process the batched search (advref.attacks.minimal_batched) alternates the
model's pooled evaluation, whose matrix products use every core, with SciPy's
L-BFGS-B routine and the driving Python, which hold Python's global lock and so
run on one core: about half of the time, one core idles. With `processes` = P,
the examples are cut into P contiguous shares of (nearly) equal size, and each
share's batched search runs in its own process with one BLAS thread: the model,
the routine and Python all run P at a time. Process 0 is the caller's own; the
others start from the platform's default method (fork on Linux), and each sends
its results back through a pipe.

What changes is only which searches share a round. A row's matrix products give
last bits that depend on how many rows the product has and on the BLAS thread
count, so the results are those of the batched search (the contract of issue 17:
the same success flags, sizes within the search's own rounding spread), not
bit-identical to one process; for a given machine, batch and P they are
deterministic.

Where processes cannot start (no fork and no `if __name__ == "__main__":` guard
in the calling script with spawn, no writable /dev/shm), the error says so and
processes=1 runs everything here.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from typing import TYPE_CHECKING

import numpy as np

from advref._blas_threads import numpy_blas_single_thread, one_thread_environment

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

MAX_PROCESSES = 64


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the platform says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def shares(n: int, processes: int) -> list[slice]:
    """`processes` contiguous slices of range(n), sizes differing by at most one."""
    bounds = np.linspace(0, n, processes + 1).round().astype(int)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def run_share(connection: Any, task: Callable[[], list]) -> None:
    """A worker: one share's search with one BLAS thread; its results, or its
    traceback, through the pipe."""
    try:
        with numpy_blas_single_thread():
            answer: Any = ("results", task())
    except BaseException:                       # said to the caller, which raises it
        answer = ("error", traceback.format_exc())
    try:
        connection.send(answer)
    except OSError:                             # the caller has stopped listening
        pass
    connection.close()


def start_worker(context: Any, task: Callable[[], list]) -> tuple[Any, Any]:
    """A started worker process running `task`, and the caller's end of its pipe.
    A spawned worker reads the thread variables when NumPy loads: one BLAS thread."""
    mine, theirs = context.Pipe(duplex=False)
    with one_thread_environment():
        worker = context.Process(target=run_share, args=(theirs, task), daemon=True)
        worker.start()
    theirs.close()
    return worker, mine


def collect(worker: Any, connection: Any, number: int, method: str) -> list:
    """The results of worker `number`, or a RuntimeError saying why there are none."""
    try:
        kind, payload = connection.recv()
    except EOFError:
        worker.join()
        hint = "" if method == "fork" else (
            f"; with the {method} start method a script that runs processes > 1 needs "
            "its work under `if __name__ == \"__main__\":`")
        raise RuntimeError(f"minimal_perturbation: worker process {number} ended without "
                           f"its results (exit code {worker.exitcode}; killed, perhaps for "
                           f"memory?{hint})") from None
    if kind == "error":
        raise RuntimeError(f"minimal_perturbation: worker process {number} failed:\n{payload}")
    return payload


def run_in_processes(tasks: Sequence[Callable[[], list]]) -> list:
    """The tasks' result lists, concatenated in order: the first task runs here,
    each other in its own worker process, all with one BLAS thread. With spawn,
    each task is pickled (a functools.partial of a module-level function)."""
    context = multiprocessing.get_context()
    workers = []
    try:
        for task in tasks[1:]:
            try:
                workers.append(start_worker(context, task))
            except OSError as err:
                raise RuntimeError(f"minimal_perturbation: processes={len(tasks)} could not "
                                   f"start a worker process ({err}); processes=1 runs the "
                                   "search in this process") from None
        with numpy_blas_single_thread():
            results = tasks[0]()
        for number, (worker, connection) in enumerate(workers, start=1):
            results += collect(worker, connection, number, context.get_start_method())
        return results
    finally:
        for worker, connection in workers:
            connection.close()
            if worker.is_alive():
                worker.join(timeout=1)
            if worker.is_alive():
                worker.terminate()
                worker.join()
