"""Options that would silently do the wrong thing are one-line errors, exit 2, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import optuna
import pytest
import torch

from tests.conftest import REPO_ROOT
from tests.run_args import QUICK_TEST, one_line_error, trained
from tests.run_args import run_here as run


def test_a_storage_in_a_folder_that_does_not_exist_is_refused(tmp_path):
    missing = tmp_path / "no" / "such" / "x.db"
    result = run(["--study", "lr-sweep", "--storage", f"sqlite:///{missing}"], tmp_path)
    one_line_error(result, f"folder {missing.parent} does not exist")
    assert list(tmp_path.iterdir()) == []


def test_a_bare_path_as_storage_suggests_the_sqlite_url(tmp_path):
    result = run(["--study", "lr-sweep", "--storage", "x.db"], tmp_path)
    one_line_error(result, "is not a URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert list(tmp_path.iterdir()) == []


def test_a_new_storage_file_is_announced_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    first = run(["--study", "lr-sweep", "--storage", url, "--plain"], tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"new storage {url}" in first.stderr.splitlines()
    again = run(["--study", "lr-sweep", "--storage", url, "--plain"], tmp_path)
    assert again.returncode == 0 and "new storage" not in again.stderr


def test_val_size_0_on_a_search_is_refused_before_training(tmp_path, data_root):
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = run(
        ["--study", "cnn20k", "--val-size", "0", "--trials", "1", "--storage", url,
         "--data-root", str(data_root), "--workers", "1"],
        tmp_path,
    )  # fmt: skip
    one_line_error(result, "--val-size 0: cnn20k selects and prunes on a validation split")
    assert list(tmp_path.iterdir()) == []
    assert REPO_ROOT.is_dir()


def test_options_a_study_would_ignore_are_errors(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    for args, words in (
        (["--study", "cnn20k", "--base", "trial:0", "--from", "cnn6k"], "cnn20k trains no fixed"),
        (["--study", "baseline", "--variants", "no_bn"], "--variants applies to the ablation"),
        (["--study", "baseline", "--trials", "1"], "--trials: baseline runs a fixed list"),
        (["--study", "lr-sweep", "--seeds", "1", "2"], "--seeds: lr-sweep uses no seeds"),
        (["--study", "baseline", "--val-size", "100"], "--val-size: baseline has no validation"),
        (["--study", "lr-sweep", "--epochs", "2"], "--epochs: lr-sweep trains on no data"),
        (["--study", "baseline", "--no-confirm"], "--no-confirm: baseline confirms nothing"),
        (["--study", "cnn20k", "--replay", "0", "--trials", "3"], "--trials does not apply to"),
        (["--study", "cnn20k", "--export", "0", "x", "--epochs", "2"], "--epochs does not apply"),
    ):
        result = run([*args, "--storage", url], tmp_path)
        one_line_error(result, words)
    assert list(tmp_path.iterdir()) == []


PROBE = """
import sys
from search.run import main
code = main({args!r})
print("EXIT", code, "TORCH", "torch" in sys.modules)
"""


@pytest.mark.parametrize(
    "args, words",
    [
        (["--study", "baseline", "--trials", "1"], "--trials: baseline runs a fixed list"),
        (["--study", "cnn20k", "--epochs", "99"], "--epochs must be in 1..19"),
        (["--study", "cnn20k", "--val-size", "0"], "--val-size 0: cnn20k selects and prunes"),
    ],
)
def test_an_option_error_answers_before_torch_is_imported(args, words, tmp_path):
    """Checking options needs the study, not torch (~2 s to import): bad input answers at once."""
    argv = [*args, "--workers", "1", "--storage", f"sqlite:///{tmp_path / 's.db'}"]
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(args=argv)], cwd=tmp_path, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.stdout.split() == ["EXIT", "2", "TORCH", "False"], result.stderr
    assert words in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_study_api_counts_mnist_training_images_as_the_loader_does():
    from search.engine.idx import TEST_COUNT, TRAIN_COUNT
    from search.study.definitions import TEST_IMAGES, TRAIN_IMAGES

    assert TRAIN_IMAGES == TRAIN_COUNT == 60_000
    assert TEST_IMAGES == TEST_COUNT == 10_000


def test_modes_are_mutually_exclusive(tmp_path):
    result = run(["--study", "cnn20k", "--replay", "0", "--export", "0", str(tmp_path / "e")],
                 tmp_path)  # fmt: skip
    one_line_error(result, "--export", "not allowed with argument --replay")
    assert list(tmp_path.iterdir()) == []


def test_a_resume_with_other_settings_is_refused_and_name_stores_a_second_study(
    tmp_path, data_root
):
    url = f"sqlite:///{tmp_path / 's.db'}"
    common = ["--study", "baseline", "--seeds", "1", "--storage", url, "--data-root",
              str(data_root), "--workers", "1", "--plain", *QUICK_TEST]  # fmt: skip
    first = run([*common, "--epochs", "1", "--train-limit", "300"], tmp_path)
    assert first.returncode == 0, first.stderr
    line = one_line_error(run([*common, "--epochs", "2", "--train-limit", "200"], tmp_path))
    assert "study 'baseline' was created with other settings:" in line
    assert (
        "epochs 1 (stored) vs 2 (now)" in line and "train limit 300 (stored) vs 200 (now)" in line
    )
    assert "--name NEW" in line
    second = run([*common, "--epochs", "2", "--train-limit", "200", "--name", "short"], tmp_path)
    assert second.returncode == 0, second.stderr
    names = sorted(s.study_name for s in optuna.get_all_study_summaries(url))
    assert names == ["baseline", "short"]
    stored = optuna.load_study(study_name="short", storage=url)
    assert stored.user_attrs["settings"]["epochs"] == 2
    assert [t.user_attrs["recipe"]["epochs"] for t in stored.trials] == [2]


def test_a_bad_worker_count_names_the_option_and_what_is_allowed(tmp_path):
    for value in ("abc", "0", "-2"):
        result = run(["--study", "cnn20k", "--workers", value], tmp_path)
        one_line_error(
            result,
            f"argument --workers: must be 'auto' or a positive number of processes, got '{value}'",
        )
    assert list(tmp_path.iterdir()) == []


def test_the_run_folder_holds_the_default_storage_weights_locks_and_reports(tmp_path, data_root):
    folder = tmp_path / "my-runs"
    args = ["--study", "baseline", "--seeds", "1", "--epochs", "1", "--train-limit", "300",
            *QUICK_TEST, "--data-root", str(data_root), "--workers", "1", "--plain",
            "--run-dir", str(folder)]  # fmt: skip
    result = run(args, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"new storage sqlite:///{folder / 'optuna.sqlite3'}" in result.stderr
    stored = optuna.load_study(study_name="baseline", storage=f"sqlite:///{folder}/optuna.sqlite3")
    weights = stored.trials[0].user_attrs["weights_path"]
    assert weights.startswith(str(folder / "weights")) and weights.endswith("trial0.pt")
    assert (folder / "locks").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-runs"]  # no ./runs
    for command, extra in (("search.leaderboard", ["--study", "baseline"]), ("search.report", [])):
        shown = subprocess.run(
            [sys.executable, "-m", command, *extra, "--run-dir", str(folder)],
            cwd=tmp_path, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert shown.returncode == 0, shown.stderr
    assert (folder / "reports" / "baseline" / "README.md").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my-runs"]
    # $SEARCH_RUN_DIR does the same for a command given no --run-dir
    env_run = subprocess.run(
        [sys.executable, "-m", "search.leaderboard", "--study", "baseline"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "SEARCH_RUN_DIR": str(folder)},
    )  # fmt: skip
    assert env_run.returncode == 0 and "baseline" in env_run.stdout, env_run.stderr


def test_a_budget_option_tightens_a_search_and_names_its_study(tmp_path, data_root):
    url = f"sqlite:///{tmp_path / 's.db'}"
    args = ["--study", "cnn20k", "--max-params", "4000", "--trials", "2", "--epochs", "1",
            "--train-limit", "300", "--val-size", "200", "--storage", url, "--data-root",
            str(data_root), "--workers", "1", "--plain", "--no-confirm", *QUICK_TEST]  # fmt: skip
    result = run(args, tmp_path)
    assert result.returncode == 0, result.stderr
    names = [s.study_name for s in optuna.get_all_study_summaries(url)]
    assert names == ["cnn20k@4000"]
    stored = optuna.load_study(study_name="cnn20k@4000", storage=url)
    assert stored.user_attrs["settings"]["limits"] == (
        "params <= 4,000, epochs <= 19, no fully connected layer"
    )
    # most of cnn20k's space is over 4,000 parameters: the run may stop on its rejections
    # before two trials train; whatever trained is inside the budget, whatever was over it
    # was rejected before training, saying so. One worker: its draws follow from the study
    # seed alone (two workers' interleaving once stopped the run before any trial trained)
    used = trained(stored.trials)
    assert 1 <= len(used) <= 2 and all(t.user_attrs["params"] <= 4_000 for t in used)
    over = [t for t in stored.trials if t.user_attrs.get("params", 0) > 4_000]
    assert over and all(t.user_attrs.get("train_steps", 0) == 0 for t in over)
    assert all("> 4,000" in t.user_attrs["end_reason"] for t in over)
    baseline = stored.trials[0]  # the enqueued warm start: 10,066 parameters
    assert baseline.user_attrs["params"] == 10_066 and baseline.state.name == "PRUNED"
    assert "params 10,066 > 4,000" in baseline.user_attrs["end_reason"]
    board = subprocess.run(
        [sys.executable, "-m", "search.leaderboard", "--storage", url],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert board.returncode == 0 and "cnn20k@4000" in board.stdout, board.stderr
    for bad, words in (
        (["--study", "lr-sweep", "--max-params", "10"], "--max-params/--max-flops: lr-sweep"),
        (["--study", "cnn20k", "--max-params", "20000"], "a budget can only tighten it"),
    ):
        one_line_error(run([*bad, "--storage", url], tmp_path), words)


def test_a_test_limit_evaluates_the_first_test_images_and_the_report_says_so(tmp_path, data_root):
    from archs import ArchSpec, build
    from search.engine.data import Split, load_mnist, normalise
    from search.engine.train import evaluate
    from search.report import main as report_main

    url = f"sqlite:///{tmp_path / 's.db'}"
    args = ["--study", "baseline", "--seeds", "1", "--epochs", "1", "--train-limit", "300",
            "--test-limit", "500", "--storage", url, "--data-root", str(data_root), "--workers",
            "1", "--plain"]  # fmt: skip
    result = run(args, tmp_path)
    assert result.returncode == 0, result.stderr
    stored = optuna.load_study(study_name="baseline", storage=url)
    assert stored.user_attrs["settings"]["test limit"] == 500  # a resume must give it again
    (trial,) = stored.trials
    assert trial.user_attrs["test_images"] == 500
    net = build(ArchSpec.from_dict(trial.user_attrs["spec"]))
    net.load_state_dict(torch.load(trial.user_attrs["weights_path"], weights_only=True))
    arrays = load_mnist(data_root)
    first = Split(normalise(arrays.test_images[:500]), arrays.test_labels[:500])
    assert trial.user_attrs["test_acc"] == [round(evaluate(net, first), 6)]
    out = tmp_path / "out"
    assert report_main(["--storage", url, "--out", str(out)]) == 0
    readme = (out / "baseline" / "README.md").read_text()
    assert "- **smoke run**: test accuracies on the first 500 of the 10,000 test images" in readme
    document = json.loads((out / "baseline" / "data.json").read_text())
    assert [row["test_images"] for row in document["trials"]] == [500]  # restore reads it back
    over = run([*args, "--test-limit", "10001"], tmp_path)  # the last one given counts
    one_line_error(over, "--test-limit must be in 1..10,000, got 10001")


def test_a_study_created_without_a_test_limit_stores_no_such_setting():
    from search.store.settings import trial_settings
    from search.study.definitions import RunOptions
    from studies import STUDIES

    assert "test limit" not in trial_settings(STUDIES["baseline"], RunOptions(), 1)
    limited = trial_settings(STUDIES["baseline"], RunOptions(test_limit=700), 1)
    assert limited["test limit"] == 700
