"""The study runner end to end on small real data: storage, attributes, limits, resume, CLI."""

from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import TrialState
from run_args import QUICK_TEST, baseline_args, run_here, search_run, tiny_options, trained

from archs import BASELINE, ArchSpec, Transition, build
from search.engine import objective as objective_module
from search.runner.session import run_study
from search.store.budget import MAX_REJECTIONS_PER_TRIAL, REJECTED
from search.study.definitions import CnnStudy, Proposal, derive_seed
from search.study.recipe import REFERENCE_RECIPE
from studies import STUDIES
from studies.cnn20k import params_for

REPO = Path(__file__).resolve().parents[2]
WIDE = ArchSpec(blocks=((16, 32, 32), (32, 32)), transitions=(Transition(width=16),))
TINY = ["--epochs", "1", "--train-limit", "256", "--val-size", "200", "--plain", "--workers", "1",
        *QUICK_TEST]  # fmt: skip


def stored(storage_path: Path, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{storage_path}")


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.setenv("SEARCH_RUN_DIR", str(tmp_path / "runs"))  # locks and weights
    return tmp_path


def test_tiny_study_stores_everything_for_a_finished_trial(in_tmp, data_root):
    summary = run_study(STUDIES["cnn20k"], tiny_options(in_tmp, data_root, trials=2))
    assert summary.stopped_by == "budget"
    assert summary.counts["COMPLETE"] + summary.counts["PRUNED"] == 2
    study = stored(in_tmp / "runs.db", "cnn20k")
    first = study.trials[0]  # the warm start: the pinned baseline, enqueued first
    assert first.params == params_for(Proposal(BASELINE, REFERENCE_RECIPE))
    assert first.state == TrialState.COMPLETE
    attrs = first.user_attrs
    assert ArchSpec.from_dict(attrs["spec"]) == BASELINE
    assert attrs["summary"] == "8-16-16|P|T8|16-32|GAP"
    assert attrs["recipe"] == REFERENCE_RECIPE.replace(epochs=1, seed=attrs["seed"]).to_dict()
    assert attrs["seed"] == derive_seed(1, 0)
    assert attrs["enqueued"] is True and "enqueued" not in study.trials[1].user_attrs  # sampled
    assert (attrs["params"], attrs["flops"], attrs["conv_flops"]) == (10_066, 2_220_112, 2_162_272)
    assert attrs["train_images"] == 256 and attrs["val_images"] == 200
    assert attrs["train_steps"] == math.ceil(256 / 64)
    assert len(attrs["val_acc"]) == len(attrs["test_acc"]) == len(attrs["epoch_seconds"]) == 1
    assert 0 <= attrs["val_acc"][0] <= 100 and attrs["epoch_seconds"][0] > 0
    assert attrs["device"] == "cpu" and attrs["torch_version"] == torch.__version__
    assert (attrs["end_kind"], attrs["end_reason"]) == ("complete", "complete")
    assert [v["passed"] for v in attrs["limits"]] == [True, True, True]
    assert Path(attrs["weights_path"]).is_file()


def test_only_validation_accuracy_reaches_pruner_and_value(in_tmp, data_root):
    cnn20k = STUDIES["cnn20k"]
    run_study(cnn20k, tiny_options(in_tmp, data_root, trials=3, epochs=2))
    study = stored(in_tmp / "runs.db", "cnn20k")
    trained = [t for t in study.trials if t.user_attrs.get("val_acc")]
    assert trained
    for trial in trained:
        val, params = trial.user_attrs["val_acc"], trial.user_attrs["params"]
        expected = {epoch: cnn20k.score(acc, params) for epoch, acc in enumerate(val, start=1)}
        assert trial.intermediate_values == pytest.approx(expected, abs=1e-9)
        if trial.state == TrialState.COMPLETE:
            assert trial.value == pytest.approx(cnn20k.score(max(val), params), abs=1e-9)
    # the baseline's score is its val accuracy minus 0.1 point per 1,000 params over 5,000
    baseline = study.trials[0]
    penalty = 0.1 * (10_066 - 5_000) / 1000
    assert baseline.value == pytest.approx(max(baseline.user_attrs["val_acc"]) - penalty)


def over_budget_study(spec: ArchSpec, epochs: int = 1) -> CnnStudy:
    return CnnStudy(
        name="over-budget",
        description="test",
        direction="maximize",
        n_trials=1,
        seed=1,
        make_sampler=lambda seed: optuna.samplers.RandomSampler(seed=seed),
        sample=lambda trial: Proposal(spec, REFERENCE_RECIPE.replace(epochs=epochs)),
    )


def test_over_budget_trial_is_pruned_with_zero_training_steps(in_tmp, data_root, monkeypatch):
    calls = []
    monkeypatch.setattr(objective_module, "train", lambda *a, **k: calls.append(a))
    summary = run_study(over_budget_study(WIDE), tiny_options(in_tmp, data_root))
    trials = stored(in_tmp / "runs.db", "over-budget").trials
    trial = trials[0]
    assert calls == []  # the engine was never called
    # Rejections do not use up a search's budget (1 trial), so it samples on until it has
    # rejected 10 proposals per budgeted trial, then stops and says why.
    assert (summary.stopped_by, len(trials), summary.counts[REJECTED]) == ("rejections", 10, 10)
    assert MAX_REJECTIONS_PER_TRIAL == 10
    assert all(t.user_attrs["train_steps"] == 0 for t in trials)
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["params"] == 29_178  # by hand below
    assert trial.user_attrs["end_kind"] == "limit"
    assert trial.user_attrs["end_reason"] == "pruned: params 29,178 >= 20,000"
    assert trial.user_attrs["train_steps"] == 0
    assert trial.intermediate_values == {}
    assert trial.system_attrs["constraints:params"] == 29_178 - 20_000 + 1  # infeasible for TPE
    assert trial.system_attrs["constraints:epochs"] <= 0


def test_over_budget_param_count_by_hand():
    # convs (weights + bias): 1->16: 16*9+16 = 160; 16->32: 32*16*9+32 = 4,640;
    # 32->32: 32*32*9+32 = 9,248; 1x1 32->16: 512+16 = 528; 16->32: 4,640; 32->32: 9,248;
    # head 32->10: 330. BN (2 per channel): 16, 32, 32, pool 32, trans 16, 32, 32 -> 384.
    by_hand = (
        160 + 4_640 + 9_248 + 528 + 4_640 + 9_248 + 330 + 2 * (16 + 32 + 32 + 32 + 16 + 32 + 32)
    )
    assert by_hand == 29_178
    assert sum(p.numel() for p in build(WIDE).parameters()) == by_hand


def test_recipe_over_the_epoch_cap_is_pruned_as_invalid(in_tmp, data_root):
    study = CnnStudy(
        name="too-long",
        description="test",
        direction="maximize",
        n_trials=1,
        seed=1,
        make_sampler=lambda seed: optuna.samplers.RandomSampler(seed=seed),
        sample=lambda trial: Proposal(BASELINE, REFERENCE_RECIPE.replace(epochs=25)),
    )
    run_study(study, tiny_options(in_tmp, data_root, epochs=None))
    trial = stored(in_tmp / "runs.db", "too-long").trials[0]
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["end_kind"] == "invalid"
    assert "epochs 25 > 19" in trial.user_attrs["end_reason"]
    assert trial.user_attrs.get("train_steps") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--study", "nope"], "unknown study 'nope'"),
        (["--study", "cnn20k", "--epochs", "20"], "--epochs must be in 1..19"),
        (["--study", "cnn20k", "--trials", "0"], "must be a positive integer"),
        (["--study", "cnn20k", "--device", "tpu"], "invalid choice"),
        (["--study", "cnn20k", "--data-root", "/nonexistent"], "MNIST files missing"),
        (
            ["--study", "cnn20k", "--storage", "postgresql+psycopg://nobody@127.0.0.1:9/x"],
            "is unreachable or invalid",
        ),
        (["--study", "cnn20k", "--storage", "nosuchdb://x"], "is unreachable or invalid"),
        (["--study", "cnn20k", "--replay", "3"], "no storage file at"),
        (["--study", "cnn20k", "--export", "3", "out"], "no storage file at"),
        (["--study", "cnn20k", "--confirm", "2"], "no storage file at"),
        (["--study", "ablation", "--base", "trial:3", "--from", "cnn20k"], "no storage file at"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, data_root, args, message):
    storage = tmp_path / "runs.db"
    extra = [] if "--storage" in args else ["--storage", f"sqlite:///{storage}"]
    extra += [] if "--data-root" in args else ["--data-root", str(data_root)]
    result = run_here([*args, *extra], tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert not storage.exists()
    assert not (tmp_path / "runs").exists()
    assert not (tmp_path / "out").exists()


def count_finished(db: Path, name: str) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as connection:
        try:
            row = connection.execute(
                "SELECT COUNT(*) FROM trials JOIN studies USING (study_id) WHERE study_name = ?"
                " AND state IN ('COMPLETE', 'PRUNED')",
                (name,),
            ).fetchone()
        except sqlite3.OperationalError:  # tables not created yet
            return 0
    return row[0]


def wait_for(condition, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_killed_run_resumes_with_exactly_the_trials_expected(tmp_path, data_root):
    db = tmp_path / "runs.db"
    args = [
        "--study",
        "cnn20k",
        "--storage",
        f"sqlite:///{db}",
        "--data-root",
        str(data_root),
        "--trials",
        "4",
        "--no-confirm",
        *TINY,
    ]
    env = {"SEARCH_HEARTBEAT": "1,3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "search.run", *args],
        cwd=tmp_path,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: count_finished(db, "cnn20k") >= 2)
    process.send_signal(signal.SIGKILL)  # between or in trials: no chance to clean up
    process.wait()
    before = stored(db, "cnn20k").trials
    finished_before = [
        t.number for t in before if t.state in (TrialState.COMPLETE, TrialState.PRUNED)
    ]
    assert len(finished_before) >= 2 and len(trained(before)) < 4
    time.sleep(3.5)  # past the grace period: a trial left RUNNING is now stale
    result = run_here(args, tmp_path, env)
    assert result.returncode == 0, result.stderr
    after = stored(db, "cnn20k").trials
    finished = [t for t in after if t.state in (TrialState.COMPLETE, TrialState.PRUNED)]
    assert len(trained(after)) == 4  # the budget: proposals rejected before training are free
    assert [t.number for t in finished][: len(finished_before)] == finished_before  # kept
    assert not [t for t in after if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    for failed in (t for t in after if t.state == TrialState.FAIL):  # killed mid-trial
        retries = [t for t in after if t.system_attrs.get("failed_trial") == failed.number]
        assert len(retries) == 1  # the retry keeps every parameter the killed trial had drawn
        assert failed.params.items() <= retries[0].params.items()
    assert "study cnn20k:" in result.stdout and "done cnn20k: " in result.stdout


def test_an_interrupt_stops_the_study_even_when_recording_it_fails(tmp_path, monkeypatch):
    # Recording "interrupted" can fail (a storage busy with other stopped workers' writes); the
    # study must still stop, not catch that error as a failed trial and take the next one.

    def stopped(trial):
        raise KeyboardInterrupt

    def busy(*args, **kwargs):
        raise RuntimeError("database is locked")

    monkeypatch.setattr(objective_module, "end", busy)
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 's.db'}")
    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective_module.recorded(stopped), n_trials=3, catch=(Exception,))
    assert [t.state for t in study.trials] == [TrialState.FAIL]  # one trial, then the stop


def test_ctrl_c_requeues_the_running_trial_and_rerun_completes(tmp_path, data_root):
    db = tmp_path / "runs.db"
    url = f"sqlite:///{db}"
    args = baseline_args(url, data_root, (1, 2), epochs=3, train_limit=1500, workers=1)
    process = subprocess.Popen(
        [sys.executable, "-m", "search.run", *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first_epoch = process.stdout.readline()
    while "epoch 1/3" not in first_epoch:
        first_epoch = process.stdout.readline()
        assert first_epoch, process.stderr.read()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "interrupted; run the same command again to resume" in stderr
    trials = stored(db, "baseline").trials
    assert [t.state for t in trials] == [TrialState.FAIL, TrialState.WAITING, TrialState.WAITING]
    assert trials[0].user_attrs["end_kind"] == "interrupted"
    rerun = run_here(args, tmp_path)
    assert rerun.returncode == 0, rerun.stderr
    trials = stored(db, "baseline").trials
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert sorted(t.params["seed"] for t in complete) == [1, 2]
    retry = next(t for t in complete if t.user_attrs.get("retry_of") == 0)
    assert retry.params == trials[0].params and retry.user_attrs["seed"] == 1
    assert retry.user_attrs["enqueued"] is True  # an enqueued trial's retry is spared too
    assert len(retry.user_attrs["test_acc"]) == 3


def test_resumed_sampler_continues_without_duplicates(in_tmp, data_root):
    options = tiny_options(in_tmp, data_root, trials=3)
    run_study(STUDIES["cnn20k"], options)
    run_study(STUDIES["cnn20k"], tiny_options(in_tmp, data_root, trials=6))
    trials = stored(in_tmp / "runs.db", "cnn20k").trials
    assert len(trained(trials)) == 6  # proposals rejected before training come on top
    params = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(params)) == len(trials)


def test_list_and_help(tmp_path):
    listed = search_run(["--list"], tmp_path)
    assert listed.returncode == 0
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == list(STUDIES)
    assert lines[-1].startswith("your own: --study path/to/my_study.py")
    for module in ("search.run", "search.report", "search.leaderboard", "search.bench", "archs"):
        shown = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert shown.returncode == 0 and "usage:" in shown.stdout, module


# the test creates the orphan with ask() on a heartbeat storage on purpose
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used:UserWarning")
def test_a_trial_orphaned_before_its_first_heartbeat_is_failed_and_retried(tmp_path, monkeypatch):
    from search.runner.trials import recover_dead_trials
    from search.store.storage import open_storage

    monkeypatch.setenv("SEARCH_HEARTBEAT", "1,2")
    study = optuna.create_study(storage=open_storage(f"sqlite:///{tmp_path / 'r.db'}"))
    study.enqueue_trial({"x": 1.0})
    orphan = study.ask()  # RUNNING, never claimed, no heartbeat: its process "died" here
    claimed = study.ask()
    claimed.set_user_attr("claimed_by", "host:1")
    study._storage.record_heartbeat(claimed._trial_id)
    recover_dead_trials(study)
    assert [t.state for t in study.trials] == [TrialState.RUNNING, TrialState.RUNNING]  # too young
    time.sleep(2.5)
    study._storage.record_heartbeat(claimed._trial_id)  # still alive
    recover_dead_trials(study)
    states_now = [t.state for t in study.trials]
    assert states_now == [TrialState.FAIL, TrialState.RUNNING, TrialState.WAITING]
    assert study.trials[2].system_attrs["failed_trial"] == orphan.number


def test_more_seeds_later_runs_every_new_seed(in_tmp, data_root):
    """A repeat study resumed with other seeds runs each of them, not as many as the new list
    minus the seeds already run (its budget is its queue, as an ablation's is)."""
    run_study(STUDIES["baseline"], tiny_options(in_tmp, data_root, seeds=(1,)))
    run_study(STUDIES["baseline"], tiny_options(in_tmp, data_root, seeds=(2, 3)))
    trials = stored(in_tmp / "runs.db", "baseline").trials
    assert sorted(t.params["seed"] for t in trials if t.state == TrialState.COMPLETE) == [1, 2, 3]
    assert not [t for t in trials if t.state == TrialState.WAITING]
