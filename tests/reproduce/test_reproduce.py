"""`advref reproduce --profile sample` end to end, resume, and the paper's
qualitative findings on the bundled sample (margins as measured, not the paper's)."""

import io
import json
import math
from pathlib import Path

import pytest

from advref._validation import MissingDependency
from advref.cli.parser import main
from advref.reproduce import reproduce
from advref.reproduce.runner import Interrupted
from tests.conftest import HAVE_SCIPY


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Interrupt after the first model, then run the whole profile in the same folder."""
    out = tmp_path_factory.mktemp("reproduce")
    log = io.StringIO()
    with pytest.raises(Interrupted):
        reproduce("sample", out, seed=0, log=log, stop_after_models=1)
    assert "softmax: training" in log.getvalue()
    first = sorted(p.name for p in (out / "models").iterdir() if p.name != ".locks")
    log = io.StringIO()
    result = reproduce("sample", out, seed=0, log=log)
    return out, result, first, log.getvalue()


def test_resume_retrains_nothing_it_has(run):
    out, result, first, log = run
    assert len(first) == 1 and first[0].startswith("softmax-")
    assert "softmax: loaded from cache" in log
    assert "softmax" not in result["trained_this_run"]
    assert "maxout" in result["trained_this_run"]


def test_results_files_hold_every_row_finite_and_in_range(run):
    out, result, _, _ = run
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["rows"] == json.loads(json.dumps(result["rows"]))
    ids = {r["id"] for r in result["rows"]}
    needed = {"softmax-fgsm", "logistic-fgsm", "maxout-fgsm", "advtrain-fgsm",
              "rbf-fgsm-conf", "rubbish-maxout", "lecture-maxout-to-nn", "bench1-maxout",
              "bench2-maxout", "bench3-maxout-target", "subspace-maxout",
              "transfer-adv-to-orig", "maxout-sign-noise-fgsm", "l1-train-error"}
    if HAVE_SCIPY:
        assert result["skipped"] == {}
    else:
        # only the L-BFGS-B experiment is left out, saying why; every other row is there
        assert list(result["skipped"]) == ["minimal_size"], result["skipped"]
        assert "needs SciPy" in result["skipped"]["minimal_size"]
        assert not any(i.startswith("bench2-") for i in ids)
        needed.discard("bench2-maxout")
    assert needed <= ids
    measured = {r["id"]: r["measured"] for r in result["rows"]}
    for row in result["rows"]:
        value = row["measured"]
        if value is None:
            # only a mean over an empty set: the confidence of the fooled when none was
            base = row["id"].removesuffix("-conf")
            assert base != row["id"] and measured[base] == 0.0, row
            continue
        assert math.isfinite(value), row
        if row["unit"] == "%":
            assert 0 <= value <= 1, row
        else:
            assert value >= 0, row
    md = (out / "results.md").read_text()
    assert "| softmax regression, FGSM | error | 99.90% |" in md
    # the sample's numbers are labelled as no reproduction, before any row
    assert md.index("**These numbers are not a reproduction") < md.index("| experiment |")
    if result["figures"]:
        for file in result["figures"].values():
            assert (out / file).stat().st_size > 1000 and f"]({file})" in md
    else:
        assert "figures skipped" in md


def measured(result, id):
    return next(r["measured"] for r in result["rows"] if r["id"] == id)


def test_qualitative_findings_on_the_sample(run):
    _, result, _, _ = run
    # measured (seed 0): softmax clean 14%, FGSM 99.4%
    assert measured(result, "softmax-fgsm") > measured(result, "softmax-clean") + 0.5
    # measured: RBF 23% confidence on its FGSM mistakes, softmax 74% mean confidence
    assert measured(result, "rbf-fgsm-conf") < measured(result, "softmax-fgsm-conf") - 0.3
    # measured: maxout FGSM error 99.1%, adversarially trained 84.6%
    assert measured(result, "advtrain-fgsm") < measured(result, "maxout-fgsm") - 0.05
    # RBF is fooled by no N(0, I) rubbish sample; softmax regression by many
    assert measured(result, "rubbish-rbf") == 0.0 < measured(result, "rubbish-softmax")


def test_jobs_path_reuses_the_cache(run, capsys):
    out, result, _, _ = run
    assert main(["reproduce", "--profile", "sample", "--out", str(out), "--jobs", "2",
                 "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["trained_this_run"] == []
    assert [r["measured"] for r in again["rows"]] == [r["measured"] for r in result["rows"]]


def test_attack_on_a_cached_model_uses_the_data_it_was_trained_on(run, capsys):
    out, result, _, _ = run
    path = result["models"]["softmax"]["file"]
    capsys.readouterr()
    assert main(["attack", path, "--n", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["data"] == "sample"


def test_results_json_is_strict(run):
    out, _, _, _ = run
    text = (out / "results.json").read_text()

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    json.loads(text, parse_constant=refuse)


def test_the_models_table_lists_each_models_recorded_blas_threads(run):
    """The count itself is checked against the process's OPENBLAS_NUM_THREADS in
    test_blas_threads; here, that the report shows what each model file records."""
    from advref import models
    out, result, _, _ = run
    table = (out / "results.md").read_text().split("## Models")[1]
    assert ("| model | epochs (best) | seconds | BLAS threads | BLAS kernel | sha256 |"
            in table)
    for name, info in result["models"].items():
        extra = models.load(info["file"], with_extra=True)[1]
        recorded = extra["blas_threads"]
        assert info["blas_threads"] == recorded
        assert info["blas"] == extra["blas"]
        row = next(line for line in table.splitlines() if line.startswith(f"| {name} |"))
        assert row.split(" | ")[3] == ("-" if recorded is None else str(recorded))
        blas = extra["blas"]
        want = (f"{blas['kernel'] or '?'} ({blas['library']} {blas['version']})"
                if blas["library"] else f"{blas['kernel'] or '?'} (?)")
        assert row.split(" | ")[4] == want


def test_a_model_file_from_before_the_kernel_was_recorded_shows_a_dash():
    from advref.reproduce.report import blas_text
    assert blas_text(None) == "-"
    assert blas_text({"library": None, "version": None, "kernel": None}) == "? (?)"
    assert blas_text({"library": "openblas", "version": "0.3.27",
                      "kernel": "Zen"}) == "Zen (openblas 0.3.27)"


def test_a_full_run_makes_its_figures_or_says_why_not(run):
    """A run of every experiment of the profile (the 1600-unit rows are not the sample
    profile's) is a full run: figures are made unless matplotlib is missing."""
    from advref.reproduce import figures

    _, result, _, _ = run
    if figures.available():
        assert result["figures"] and result["figures_note"] == ""
    else:
        assert result["figures"] == {}
        assert result["figures_note"] == ("figures skipped: matplotlib is not installed "
                                          '(pip install "advref[plot]")')


def test_each_experiment_reads_exactly_the_models_it_declares(run):
    from advref.reproduce.jobs import RUNS, available, needs
    from advref.reproduce.profiles import get_profile
    from advref.reproduce.runner import make_context

    out, _, _, _ = run
    profile = get_profile("sample")
    assert available(profile) == [n for n in RUNS if n not in ("big_maxout", "adv_grad_eval")]
    for name in available(profile):
        experiment = RUNS[name]
        ctx = make_context(profile, out, 0, log=None)
        seen = []
        get = ctx.cache.get
        def recording(model, data, get=get, seen=seen):
            seen.append(model)
            return get(model, data)

        ctx.cache.get = recording
        try:
            experiment(ctx)
        except MissingDependency:
            assert not HAVE_SCIPY and name == "minimal_size"   # stopped at its L-BFGS-B step
            assert set(seen) <= set(needs(name, profile)), name
            continue
        assert set(seen) == set(needs(name, profile)), name


def test_the_eval_gradient_variant_rows_are_the_adversarial_rows_of_its_model(run):
    """adv_grad_eval, given the sample's (eval-mode) maxout-adv as its model, reads only
    maxout-adv-eval and gives exactly adversarial_training's values for that model."""
    from advref.reproduce.jobs import RUNS, available, needs
    from advref.reproduce.profiles import get_profile
    from advref.reproduce.runner import make_context, model_names

    out, _, _, _ = run
    profile = dict(get_profile("sample"), adv_grad="train", eval_clip=None)
    assert "adv_grad_eval" in available(profile) and "maxout-adv-eval" in model_names(profile)
    assert "maxout-adv-eval" not in model_names(get_profile("sample"))
    ctx = make_context(profile, out, 0, log=None)
    narrow = make_context(dict(profile, adv_grad="eval"), out, 0, log=None)
    get, seen = narrow.cache.get, []        # the sample's eval-mode maxout-adv

    def recording(model, data):
        seen.append(model)
        return get("maxout-adv", data)

    ctx.cache.get = recording
    RUNS["adv_grad_eval"](ctx)
    assert seen and set(seen) == set(needs("adv_grad_eval", profile)) == {"maxout-adv-eval"}
    variant = {r["id"]: r for r in ctx.rows}
    RUNS["adversarial_training"](narrow)
    narrow = {r["id"]: r for r in narrow.rows}
    pairs = {"advtrain-evalgrad-clean": "advtrain-clean",
             "advtrain-evalgrad-fgsm": "advtrain-fgsm",
             "advtrain-evalgrad-fgsm-conf": "advtrain-fgsm-conf",
             "advtrain-evalgrad-fgsm-clipped": "advtrain-fgsm-clipped"}
    assert set(variant) == set(pairs)
    for mine, theirs in pairs.items():
        assert variant[mine]["measured"] == narrow[theirs]["measured"], mine
        assert variant[mine]["paper"] is None
        assert variant[mine]["params"]["adv_grad"] == "eval"


def test_the_1600_unit_rows_are_the_240_unit_rows_computed_on_the_wider_models(run):
    """big_maxout, given the sample's 240-unit models in place of the 1600-unit ones, must
    read exactly its declared models and give the values that adversarial_training and
    transfer_between give for those models, row for row (ids, paper values, sources)."""
    from advref.reproduce.jobs import RUNS, available, needs
    from advref.reproduce.profiles import get_profile
    from advref.reproduce.runner import make_context

    out, _, _, _ = run
    profile = dict(get_profile("sample"), big_maxout=True, eval_clip=None)
    assert available(profile) == [n for n in RUNS if n != "adv_grad_eval"]
    stand_in = {"maxout1600": "maxout", "maxout1600-adv": "maxout-adv"}
    ctx = make_context(profile, out, 0, log=None)
    get, seen = ctx.cache.get, []

    def recording(model, data):
        seen.append(model)
        return get(stand_in[model], data)

    ctx.cache.get = recording
    RUNS["big_maxout"](ctx)
    assert set(seen) == set(needs("big_maxout", profile)) == set(stand_in)
    wide = {r["id"]: r for r in ctx.rows}
    narrow = make_context(profile, out, 0, log=None)
    RUNS["adversarial_training"](narrow)
    RUNS["transfer_between"](narrow)
    narrow = {r["id"]: r for r in narrow.rows}
    pairs = {"maxout1600-clean": "maxout-clean", "maxout1600-adv-clean": "advtrain-clean",
             "advtrain1600-fgsm": "advtrain-fgsm", "advtrain1600-fgsm-conf": "advtrain-fgsm-conf",
             "advtrain1600-fgsm-clipped": "advtrain-fgsm-clipped",
             "transfer1600-orig-to-adv": "transfer-orig-to-adv",
             "transfer1600-adv-to-orig": "transfer-adv-to-orig"}
    assert set(wide) == set(pairs)
    maxout_clean = narrow["advtrain-clean"]["params"]["baseline_clean_error"]
    assert wide["maxout1600-clean"]["measured"] == maxout_clean
    assert [wide[k]["paper"] for k in ("maxout1600-clean", "maxout1600-adv-clean")] == \
        [0.0114, 0.00782]
    for wide_id, narrow_id in list(pairs.items())[1:]:
        assert wide[wide_id]["measured"] == narrow[narrow_id]["measured"], wide_id
    for wide_id, narrow_id in list(pairs.items())[2:]:
        assert wide[wide_id]["paper"] == narrow[narrow_id]["paper"], wide_id
        assert wide[wide_id]["params"]["clip"] == narrow[narrow_id]["params"]["clip"], wide_id
    for direction in ("orig-to-adv", "adv-to-orig"):
        w, n = wide[f"transfer1600-{direction}"]["params"], \
            narrow[f"transfer-{direction}"]["params"]
        assert (w["source"], w["target"]) == tuple(
            {"maxout": "maxout1600", "maxout-adv": "maxout1600-adv"}[m]
            for m in (n["source"], n["target"]))


@pytest.mark.parametrize("eval_clip", ["profile", None])
def test_one_step_defence_rows_are_the_variants_computed_by_hand(run, eval_clip):
    """Each row recomputed from the definitions with the cached model's loss_grad,
    np.sign and np.clip: 10 steps of eps/4 projected onto the ball (and the box), and
    a seeded random sign step of eps/2 followed by an FGSM step of eps/2."""
    import numpy as np

    from advref.reproduce.jobs import RUNS
    from advref.reproduce.profiles import get_profile
    from advref.reproduce.runner import make_context

    out, _, _, _ = run
    profile = get_profile("sample")
    if eval_clip is None:
        profile = dict(profile, eval_clip=None)
    ctx = make_context(profile, out, 0, log=None)
    RUNS["one_step_defence"](ctx)
    rows = {r["id"]: r for r in ctx.rows}
    x, y = ctx.data.x_test, ctx.data.y_test
    boxes = {"": (0.0, 1.0)} if eval_clip else {"": None, "-clipped": (0.0, 1.0)}
    expected = {}
    for name in ("maxout", "maxout-adv"):
        model = ctx.model(name)

        def error(x_adv, model=model):
            return float(np.mean(model.predict(x_adv) != y))

        for suffix, box in boxes.items():
            low, high = x - 0.25, x + 0.25
            if box:
                low, high = np.maximum(low, 0), np.minimum(high, 1)
            xi = x.copy()
            for _ in range(10):
                xi = np.clip(xi + np.float32(0.0625) * np.sign(model.loss_grad(xi, y)[1]),
                             low, high)
            r = np.sign(np.random.default_rng(0).standard_normal(x.shape)).astype(x.dtype)
            start = x + np.float32(0.125) * r
            start = np.clip(start, *box) if box else start
            xr = start + np.float32(0.125) * np.sign(model.loss_grad(start, y)[1])
            xr = np.clip(xr, *box) if box else xr
            expected[f"{name}-iterative{suffix}"] = error(xi)
            expected[f"{name}-rfgsm{suffix}"] = error(xr)
    assert {k: r["measured"] for k, r in rows.items()} == expected
    assert all(r["paper"] is None and r["params"]["eps"] == 0.25 for r in rows.values())
    assert rows["maxout-adv-iterative"]["params"]["clip"] == (None if eval_clip is None
                                                              else [0.0, 1.0])
    assert rows["maxout-rfgsm"]["params"]["seed"] == 0
    assert rows["maxout-iterative"]["params"]["steps"] == 10


def test_only_and_skip_choose_experiments_and_unknown_names_are_clear(run, capsys):
    from advref.reproduce.jobs import select
    from advref.reproduce.profiles import get_profile

    assert select(["subspace"]) == ["subspace"]
    assert "subspace" not in select(skip=["subspace"])
    with pytest.raises(ValueError, match="--only must name experiments among .*got nope"):
        select(["nope"])
    paper, quick = get_profile("paper"), get_profile("quick")
    assert "big_maxout" in select(profile=paper)
    assert "big_maxout" not in select(profile=quick)
    kept = select(skip=["big_maxout"], profile=paper)
    assert "big_maxout" not in kept and "adversarial_training" in kept
    with pytest.raises(ValueError) as refused:
        select(["big_maxout"], profile=quick)
    assert str(refused.value) == ("--only names big_maxout, which the quick profile does not "
                                  "run (the 1600-unit models and the eval-gradient variant of "
                                  "adversarial training are trained only by the paper "
                                  "profile).")
    assert "adv_grad_eval" in select(profile=paper)
    assert "adv_grad_eval" not in select(profile=quick)
    out, _, _, _ = run
    assert main(["reproduce", "--profile", "sample", "--out", str(out), "--only", "subspace",
                 "--jobs", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["experiments"] == ["subspace"]
    assert {r["id"] for r in result["rows"]} == {"subspace-maxout"}
    # the text output prints each row's labels whole, and the sample's caveat
    assert main(["reproduce", "--profile", "sample", "--out", str(out), "--only", "subspace",
                 "--jobs", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = result["rows"][0]
    assert f"  {row['experiment']}, {row['quantity']}: paper " in "\n".join(lines)
    assert any(line.startswith("NOTE: These numbers are not a reproduction") for line in lines)


def test_plan_lists_every_job_with_its_key(run, capsys):
    out, result, _, _ = run
    assert main(["reproduce", "--profile", "sample", "--out", str(out), "--plan", "--json",
                 "--no-probe"]) == 0
    jobs = json.loads(capsys.readouterr().out)
    trains = {j["job"]: j for j in jobs if j["job"].startswith("train:")}
    assert all(j["done"] for j in trains.values())          # the fixture trained them all
    cached = {n: info["file"] for n, info in result["models"].items()}
    for name, path in cached.items():
        assert trains[f"train:{name}"]["key"][:12] in path
        assert trains[f"train:{name}"]["command"][-2:] == ["--train", name]


def _children(pid):
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_parallel_training_reports_what_it_trained_and_a_killed_worker(tmp_path):
    """--jobs 2: results.json lists the models the workers trained; a worker killed
    with SIGKILL (what an out-of-memory kill looks like) ends the run with one line
    naming the unfinished models and saying that rerunning resumes them."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    argv = [sys.executable, "-m", "advref", "reproduce", "--profile", "sample", "--jobs", "2",
            "--only", "fgsm_error_rates", "--out", str(tmp_path / "r")]
    done = subprocess.run(argv + ["--json"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert sorted(result["trained_this_run"]) == ["logistic", "maxout", "rbf", "softmax"]
    finished = [line.split(":")[0].split()[-1] for line in done.stderr.splitlines()
                if line.endswith(": trained")]
    assert sorted(finished) == sorted(result["trained_this_run"])
    # the workers' progress, each line behind its model's name, with its ETA
    for name in result["trained_this_run"]:
        epochs = [line for line in done.stderr.splitlines()
                  if line.startswith(f"[{name}] epoch ")]
        assert epochs and all(" ETA " in line for line in epochs), name

    proc = subprocess.Popen(argv[:-2] + ["--out", str(tmp_path / "k")], env=env,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    workers = []
    while time.monotonic() < deadline and not workers:
        time.sleep(0.2)
        pool = _children(proc.pid)
        workers = [w for p in pool for w in [p, *_children(p)]
                   if "spawn_main" in Path(f"/proc/{w}/cmdline").read_text()]
    assert workers, "no worker process appeared"
    os.kill(workers[0], signal.SIGKILL)
    err = proc.communicate(timeout=300)[1]
    assert proc.returncode == 1, err
    last = err.strip().splitlines()[-1]
    assert last.startswith("advref reproduce: error: a training process died (killed, "
                           "perhaps for memory) while ")
    assert last.endswith("were unfinished; rerun the same command to resume them from their "
                         "checkpoints")
    assert "Traceback" not in err


def test_only_the_sample_profile_carries_the_caveat():
    from advref.reproduce.report import SAMPLE_CAVEAT, caveat

    assert caveat({"profile": "sample"}) == SAMPLE_CAVEAT
    assert caveat({"profile": "quick"}) is None and caveat({"profile": "paper"}) is None


def test_the_eta_counts_the_work_left(tmp_path):
    """The measuring time per experiment times the experiments left, and the models
    those still have to train, by name; nothing for the finished experiments."""
    from advref.reproduce.profiles import get_profile
    from advref.reproduce.runner import eta_text, make_context

    ctx = make_context(get_profile("sample"), tmp_path, 0, log=None)
    assert eta_text(ctx, ["subspace", "rubbish_sigmoid"], 2.5) == (
        "about 5 s of measuring left, after training maxout, maxout-sigmoid")
    ctx.cache.loaded["maxout"] = object()
    assert eta_text(ctx, ["subspace"], 2.5) == "about 2 s of measuring left"
    assert eta_text(ctx, [], 9.0) == "about 0 s of measuring left"


def test_the_run_logs_its_eta_by_the_work_left(run):
    _, _, _, log = run
    lines = [line for line in log.splitlines() if " done; " in line]
    assert lines and all("of measuring left" in line for line in lines)
    assert lines[-1].endswith("; about 0 s of measuring left")


def test_plan_writes_nothing_and_announces_each_probe(tmp_path, capsys):
    """--plan into a folder that does not exist leaves it not existing, and says which
    model it is probing while it probes."""
    out = tmp_path / "never"
    assert main(["reproduce", "--profile", "sample", "--out", str(out), "--plan",
                 "--only", "subspace"]) == 0
    captured = capsys.readouterr()
    assert not out.exists()
    assert captured.err.splitlines() == ["[plan] probing maxout (1/1): a few training steps"]
    assert "train:maxout" in captured.out


def test_jobs_without_a_writable_dev_shm_says_so_and_names_jobs_1(tmp_path, monkeypatch,
                                                                    capsys):
    """Where multiprocessing cannot make its semaphores (a read-only /dev/shm gives
    OSError 30 in the pool's constructor), --jobs says what failed and that --jobs 1
    works, in one line, and writes nothing."""
    import errno

    from advref.cli import main
    from advref.reproduce import runner

    def no_shm(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(runner, "ProcessPoolExecutor", no_shm)
    out = tmp_path / "r"
    assert main(["reproduce", "--profile", "sample", "--jobs", "2", "--only",
                 "fgsm_error_rates", "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == ("advref reproduce: error: --jobs 2 could not start its worker processes "
                   "([Errno 30] Read-only file system; Python's multiprocessing needs a "
                   "writable /dev/shm); --jobs 1 trains in this process and works without it")
    assert not (out / "results.json").exists()


def test_the_plans_estimate_is_the_probes_cpu_time_with_one_blas_thread(tmp_path,
                                                                          monkeypatch):
    """Load on the machine stretches a step's wall time, not the CPU time a one-thread
    step needs: with clocks where each step takes 2 CPU seconds and 5 wall seconds,
    the estimate is 2 s times the updates an epoch, the wall time is shown beside it,
    and every step ran with one NumPy BLAS thread."""
    import types

    import advref.training.sgd as sgd
    from advref._blas_threads import numpy_blas_threads
    from advref.reproduce import jobs
    from advref.reproduce.profiles import get_profile
    from advref.reproduce.runner import make_context

    ticks = {"cpu": 0, "wall": 0}

    def clock(name, step):
        def tick():
            ticks[name] += 1
            return ticks[name] * step
        return tick
    threads = []
    real = sgd.sgd_step

    def recording(*a, **k):
        threads.append(numpy_blas_threads())
        return real(*a, **k)
    monkeypatch.setattr(sgd, "sgd_step", recording)
    ctx = make_context(get_profile("sample"), tmp_path / "never", 0, log=None)
    monkeypatch.setattr(jobs, "time", types.SimpleNamespace(process_time=clock("cpu", 2.0),
                                                            perf_counter=clock("wall", 5.0)))
    [job, _] = jobs.plan(ctx.cache, ctx.data_for, ["subspace"],
                         command=["advref"])
    n_train = 2000 - 400                 # the sample's 2,000 images, a fifth kept to validate
    updates = -(-n_train // 100)         # the maxout recipe's batch of 100
    assert job["job"] == "train:maxout"
    assert job["seconds_per_epoch"] == 2.0 * updates
    assert job["wall_seconds_per_epoch"] == 5.0 * updates
    assert job["estimate_seconds"] == 2.0 * updates * 12
    # a warm-up step and 7 timed ones, each with one thread where the count can be read
    assert threads == ([None] * 8 if numpy_blas_threads() is None else [1] * 8)
    text = jobs.format_plan([job])
    assert f"~{2.0 * updates:.2f} s/epoch x up to 12 epochs" in text
    assert f"(probe wall {5.0 * updates:.2f} s/epoch at load " in text
    assert "CPU time with one BLAS thread" in text and "cores" in text
    assert not (tmp_path / "never").exists()


def test_plan_durations_read_in_seconds_minutes_or_hours():
    from advref.reproduce.jobs import fmt_duration, fmt_load
    assert [fmt_duration(s) for s in (0, 119.4, 120, 7199, 7200, 45000)] == \
        ["0 s", "119 s", "2 min", "120 min", "2.0 h", "12.5 h"]
    assert fmt_load(None) == "unknown" and fmt_load(1.234) == "1.23"


def test_every_recipe_has_the_family_the_profiles_give_it():
    """train's sample caps (fitting.recipes.FAMILY) and the profiles' model table
    (reproduce.profiles.MODELS) name the same family for every recipe."""
    from advref.fitting.recipes import FAMILY, RECIPES
    from advref.reproduce.profiles import MODELS
    assert set(FAMILY) == set(RECIPES)
    for recipe, family, _ in MODELS.values():
        assert FAMILY[recipe] == family, recipe


@pytest.mark.skipif(not HAVE_SCIPY, reason="benchmark 2 is skipped without SciPy (tested above)")
def test_benchmark_2_is_the_shared_batched_search_of_its_images(run):
    """bench2's mean L2 is exactly that of minimal_perturbation with the batch and the
    two processes its row states, on the first n correctly classified test images."""
    import numpy as np

    from advref.attacks.minimal import minimal_perturbation
    from advref.reproduce.profiles import get_profile
    from advref.reproduce.runner import make_context

    out, result, _, _ = run
    profile = get_profile("sample")
    ctx = make_context(profile, out, 0, log=None)
    rows = {r["id"]: r for r in result["rows"]}
    for name in ("softmax", "maxout"):
        params = rows[f"bench2-{name}"]["params"]
        assert (params["batch"], params["processes"], params["candidates"]) == (
            256, 2, profile["minimal_candidates"])
        model, data = ctx.model(name), ctx.data
        right = np.flatnonzero(model.predict(data.x_test) == data.y_test)[:profile["n_minimal"]]
        found = minimal_perturbation(model, data.x_test[right], y=data.y_test[right],
                                     candidates=params["candidates"], batch=256, processes=2)
        ok = [r.success for r in found]
        assert params["n"] == len(right) and params["success_rate"] == np.mean(ok)
        assert rows[f"bench2-{name}"]["measured"] == np.mean([r.l2 for r in found if r.success])


@pytest.mark.skipif(not HAVE_SCIPY, reason="benchmark 2 is skipped without SciPy (tested above)")
def test_benchmark_2_chunks_stored_for_one_process_count_are_not_read_for_another(
        run, monkeypatch):
    """A chunk's last bits depend on how its images were shared: with another process
    count the stored chunks must not be reused (new chunk files are written), and the
    row is that count's search."""
    import numpy as np

    from advref.attacks.minimal import minimal_perturbation
    from advref.attacks.minimal_batched import reverse_communication_works
    from advref.reproduce import lecture
    from advref.reproduce.profiles import get_profile
    from advref.reproduce.runner import make_context

    out, result, _, _ = run
    profile = get_profile("sample")
    before = {p.name for p in (out / "chunks").iterdir()}
    monkeypatch.setattr(lecture, "MINIMAL_PROCESSES", 1)
    ctx = make_context(profile, out, 0, log=None)
    lecture.minimal_size(ctx)
    written = {p.name for p in (out / "chunks").iterdir()} - before
    assert sorted(name.split("-")[1] for name in written) == ["maxout", "softmax"]
    mine = {r["id"]: r for r in ctx.rows}
    shared = {r["id"]: r for r in result["rows"]}
    differs = []
    for name in ("softmax", "maxout"):
        model, data = ctx.model(name), ctx.data
        right = np.flatnonzero(model.predict(data.x_test) == data.y_test)[:profile["n_minimal"]]
        found = minimal_perturbation(model, data.x_test[right], y=data.y_test[right],
                                     candidates=profile["minimal_candidates"], batch=256)
        row = mine[f"bench2-{name}"]
        assert row["params"]["processes"] == 1
        assert row["measured"] == np.mean([r.l2 for r in found if r.success])
        differs.append(row["measured"] != shared[f"bench2-{name}"]["measured"])
    # with the batched search the two counts' rows differ in their last bits; a SciPy
    # without it solves one at a time in one process, the same bits for any count
    assert any(differs) is reverse_communication_works()
