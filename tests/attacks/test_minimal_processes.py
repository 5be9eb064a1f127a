"""The batched search with its examples shared among processes
(advref.attacks.minimal_processes): each share is the batched search of its own
examples, run with one BLAS thread, and the shares' results come back in order."""

import multiprocessing
import os
import time

import numpy as np
import pytest

from advref import minimal_perturbation
from advref._blas_threads import THREAD_VARIABLES, numpy_blas_single_thread
from advref.attacks.minimal_processes import (
    run_share,
    shares,
    start_worker,
    usable_cpus,
)
from advref.models import MaxoutMLP

pytest.importorskip("scipy.optimize", reason="the minimal search solves with SciPy's L-BFGS-B")

from advref.attacks.lbfgsb_steps import reverse_communication_works  # noqa: E402

from .test_batched_driver import RowByRow, same, small_models  # noqa: E402

driven = pytest.mark.skipif(not reverse_communication_works(),
                            reason="this SciPy's L-BFGS-B is not the one the batched search "
                                   "steps; minimal_perturbation solves one at a time")


@pytest.mark.parametrize("n", range(0, 23))
@pytest.mark.parametrize("processes", range(1, 9))
def test_shares_are_contiguous_in_order_and_one_apart_in_size(n, processes):
    parts = shares(n, processes)
    assert len(parts) == processes
    assert [i for s in parts for i in range(n)[s]] == list(range(n))
    sizes = [len(range(n)[s]) for s in parts]
    assert max(sizes) - min(sizes) <= 1


def test_usable_cpus_are_the_affinity_where_the_platform_has_one(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert usable_cpus() == 3
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    assert usable_cpus() == 7
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert usable_cpus() == 1


@driven
@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("processes", [2, 3])
@pytest.mark.parametrize("kw", [{}, {"target": np.array([2, 0, 3])}, {"candidates": 2},
                                {"clip": None}])
def test_row_exact_model_in_processes_gives_the_one_example_results(which, processes, kw):
    """A model whose batched rows are its one-row evaluations: the shared search is
    the one-example definition bit for bit, in every process."""
    model, x = small_models()[which]
    want = minimal_perturbation(model, x, batch=None, **kw)
    got = minimal_perturbation(RowByRow(model), x, batch=2, processes=processes, **kw)
    assert len(got) == len(want) and all(same(a, b) for a, b in zip(want, got, strict=True))


@driven
def test_each_share_is_the_batched_search_of_its_examples_with_one_blas_thread():
    """A real (not row-exact) maxout: 7 examples in 3 processes are the batched
    searches of examples 0-1, 2-4 and 5-6, each run here with one BLAS thread."""
    model = MaxoutMLP(12, 4, units=(6, 5), pieces=3, irange=0.9, rng=8, dtype=np.float32)
    x = np.random.default_rng(9).uniform(0.05, 0.95, (7, 12)).astype(np.float32)
    y = model.predict(x)
    want = []
    with numpy_blas_single_thread():
        for part in ([0, 1], [2, 3, 4], [5, 6]):
            want += minimal_perturbation(model, x[part], y=y[part], batch=2)
    got = minimal_perturbation(model, x, y=y, batch=2, processes=3)
    assert len(got) == 7 and all(same(a, b) for a, b in zip(want, got, strict=True))


class FailsElsewhere:
    """The model, failing in any process but the test's own: as planted."""

    def __init__(self, model, how):
        self.model, self.how, self.home = model, how, os.getpid()

    def __getattr__(self, name):
        if name == "model":          # unpickling (a spawned worker) asks before it is set
            raise AttributeError(name)
        return getattr(self.model, name)

    def loss_grad(self, x, y):
        if os.getpid() != self.home:
            if self.how == "raise":
                raise FloatingPointError("planted in a worker")
            os._exit(3)
        return self.model.loss_grad(x, y)


@driven
def test_a_worker_that_fails_is_reported_with_its_traceback():
    model, x = small_models()[1]
    with pytest.raises(RuntimeError, match=r"worker process 1 failed:(.|\n)*FloatingPointError: "
                                           r"planted in a worker"):
        minimal_perturbation(FailsElsewhere(model, "raise"), x, batch=2, processes=2)


@driven
@pytest.mark.skipif(multiprocessing.get_start_method() != "fork",
                    reason="the fork start method's message; spawn's is tested below")
def test_a_worker_that_dies_is_reported_with_its_exit_code():
    model, x = small_models()[1]
    with pytest.raises(RuntimeError) as caught:
        minimal_perturbation(FailsElsewhere(model, "exit"), x, batch=2, processes=2)
    assert str(caught.value) == ("minimal_perturbation: worker process 1 ended without its "
                                 "results (exit code 3; killed, perhaps for memory?)")


class RecordingContext:
    """A start-method context whose processes only record how they were started."""

    def __init__(self):
        self.started = []

    def Pipe(self, duplex):
        return multiprocessing.Pipe(duplex)

    def Process(self, target, args, daemon):
        started = self.started

        class Recorded:
            def start(self):
                started.append({"target": target, "daemon": daemon,
                                "environment": {k: os.environ.get(k) for k in THREAD_VARIABLES}})
        return Recorded()


def test_workers_start_as_daemons_with_one_blas_thread_and_the_environment_comes_back(
        monkeypatch):
    """A worker must not outlive its caller, and a spawned one reads its BLAS thread
    count from the environment when NumPy loads: 1, set only while it starts."""
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    context = RecordingContext()
    _, connection = start_worker(context, list)
    connection.close()
    assert context.started == [{"target": run_share, "daemon": True,
                                "environment": dict.fromkeys(THREAD_VARIABLES, "1")}]
    assert os.environ["OPENBLAS_NUM_THREADS"] == "7" and os.environ["MKL_NUM_THREADS"] == "3"
    assert "OMP_NUM_THREADS" not in os.environ


@pytest.mark.parametrize("bad, batch, error, words", [
    (0, 2, ValueError, "processes must be an integer in [1, 64], got 0"),
    (65, 2, ValueError, "processes must be an integer in [1, 64], got 65"),
    ("2", 2, TypeError, "processes must be an integer >= 1, got str '2'"),
    (True, 2, TypeError, "processes must be an integer >= 1, got bool True"),
    (2, None, ValueError, "it needs batch, got processes=2 with batch=None"),
])
def test_bad_processes_are_named(bad, batch, error, words):
    model, x = small_models()[0]
    with pytest.raises(error) as caught:
        minimal_perturbation(model, x, batch=batch, processes=bad)
    assert words in str(caught.value)


@driven
def test_spawned_workers_give_the_same_results_and_say_what_a_script_needs(monkeypatch):
    """With the spawn start method (macOS and Windows default), each share's search
    is pickled to a fresh interpreter: the same results as fork; a worker that
    dies is reported with the script guard spawn needs."""
    spawn = multiprocessing.get_context("spawn")
    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: spawn)
    model, x = small_models()[1]
    want = minimal_perturbation(model, x, batch=None)
    got = minimal_perturbation(RowByRow(model), x, batch=2, processes=2)
    assert all(same(a, b) for a, b in zip(want, got, strict=True))
    with pytest.raises(RuntimeError, match=r"exit code 3; killed, perhaps for memory\?; with the "
                                           r"spawn start method a script that runs processes > 1 "
                                           r"needs its work under `if __name__ == \"__main__\":`"):
        minimal_perturbation(FailsElsewhere(model, "exit"), x, batch=2, processes=2)


def test_a_share_runs_with_one_blas_thread_and_sends_its_results():
    """run_share, the worker's body, run here: the task's results (and the BLAS
    thread count it saw, where NumPy's OpenBLAS can be set) through the pipe."""
    from advref._blas_threads import numpy_blas_threads

    before = numpy_blas_threads()
    mine, theirs = multiprocessing.Pipe(duplex=False)
    run_share(theirs, lambda: [numpy_blas_threads(), "done"])
    assert mine.recv() == ("results", [None if before is None else 1, "done"])
    assert numpy_blas_threads() == before and theirs.closed


def test_a_share_that_fails_sends_its_traceback_and_a_closed_pipe_is_no_error():
    def fails():
        raise FloatingPointError("planted in a share")

    mine, theirs = multiprocessing.Pipe(duplex=False)
    run_share(theirs, fails)
    kind, text = mine.recv()
    assert kind == "error" and text.startswith("Traceback (most recent call last):")
    assert text.rstrip().endswith("FloatingPointError: planted in a share")
    reader, writer = multiprocessing.Pipe(duplex=False)
    reader.close()                              # the caller stopped listening
    run_share(writer, lambda: ["unread"])
    assert writer.closed


@driven
def test_processes_that_cannot_start_say_how_to_run_without_them(monkeypatch):
    class NoProcesses:
        def Pipe(self, duplex):
            return multiprocessing.Pipe(duplex)

        def Process(self, **kwargs):
            raise OSError("no writable /dev/shm")

        def get_start_method(self):
            return "fork"

    monkeypatch.setattr(multiprocessing, "get_context", lambda method=None: NoProcesses())
    model, x = small_models()[1]
    with pytest.raises(RuntimeError) as caught:
        minimal_perturbation(model, x, batch=2, processes=3)
    assert str(caught.value) == ("minimal_perturbation: processes=3 could not start a worker "
                                 "process (no writable /dev/shm); processes=1 runs the search in "
                                 "this process")


class FailsHere:
    """The model, failing at once in the test's own process and stalling in workers."""

    def __init__(self, model):
        self.model, self.home = model, os.getpid()

    def __getattr__(self, name):
        if name == "model":
            raise AttributeError(name)
        return getattr(self.model, name)

    def loss_grad(self, x, y):
        if os.getpid() == self.home:
            raise FloatingPointError("planted in the caller's share")
        time.sleep(120)
        return self.model.loss_grad(x, y)


@driven
def test_a_failure_in_the_callers_share_stops_the_workers_at_once():
    """The caller's own error is raised without waiting for the workers' searches
    (here two minutes each), and no worker is left running."""
    model, x = small_models()[1]
    start = time.monotonic()
    with pytest.raises(FloatingPointError, match="planted in the caller's share"):
        minimal_perturbation(FailsHere(model), x, batch=2, processes=3)
    assert time.monotonic() - start < 30
    assert multiprocessing.active_children() == []
