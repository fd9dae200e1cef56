"""A study file outside the package: the README's example, copied into a temporary folder."""

from __future__ import annotations

import re

import optuna

from tests.conftest import REPO_ROOT
from tests.run_args import QUICK_TEST
from tests.run_args import run_here as run


def readme_example() -> str:
    text = (REPO_ROOT / "README.md").read_text()
    found = re.search(r"<!-- example-study -->\n```python\n(.*?)```", text, re.S)
    assert found is not None, "README lost its example study"
    return found.group(1)


def test_the_readme_example_is_at_most_40_lines():
    assert len(readme_example().splitlines()) <= 40


def test_the_readme_example_runs_from_anywhere_with_workers_and_resumes(tmp_path, data_root):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    study_file = folder / "my_study.py"
    study_file.write_text(readme_example())
    url = f"sqlite:///{tmp_path / 's.db'}"
    common = ["--study", str(study_file), "--epochs", "1", "--train-limit", "300", "--val-size",
              "200", *QUICK_TEST, "--storage", url, "--data-root", str(data_root),
              "--plain"]  # fmt: skip
    first = run([*common, "--trials", "2", "--workers", "2"], tmp_path)
    assert first.returncode == 0, first.stderr
    stored = optuna.load_study(study_name="my-study", storage=url)
    trained = [t for t in stored.trials if t.user_attrs.get("train_steps", 0) > 0]
    assert len(trained) == 2
    assert all(t.user_attrs["params"] < 10_000 for t in trained)
    assert stored.user_attrs["study_file"] == str(study_file.resolve())
    assert set(trained[0].params) == {"first", "second", "lr"}

    resumed = run([*common, "--trials", "3", "--workers", "1"], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    stored = optuna.load_study(study_name="my-study", storage=url)
    assert sum(t.user_attrs.get("train_steps", 0) > 0 for t in stored.trials) == 3

    study_file.write_text(readme_example() + "\n# changed\n")
    changed = run([*common, "--trials", "4", "--workers", "1"], tmp_path)
    assert changed.returncode == 2
    line = changed.stderr.strip()
    assert "study file sha256" in line and "(stored) vs" in line and "--name NEW" in line


def test_bad_study_files_are_one_line_and_exit_2(tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import no_such_module_here\n")
    empty = tmp_path / "empty.py"
    empty.write_text("X = 1\n")
    for path, words in (
        (tmp_path / "missing.py", "no such file"),
        (broken, "failed to import: ModuleNotFoundError"),
        (empty, "defines no STUDY"),
    ):
        result = run(["--study", str(path), "--storage", f"sqlite:///{tmp_path}/s.db"], tmp_path)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and words in lines[0] and path.name in lines[0], result.stderr
    assert not (tmp_path / "s.db").exists()


def test_five_failures_in_a_row_exit_1_in_process_and_on_workers(tmp_path, data_root):
    # A study whose every proposal raises: each trial is FAIL (not trained), and the run stops
    # after five in a row with exit status 1, in the launcher's process and on two workers.
    study_file = tmp_path / "faulty.py"
    study_file.write_text(
        readme_example().replace(
            '    first = trial.suggest_int("first", 4, 16, step=4)\n',
            '    first = trial.suggest_int("first", 4, 16, step=4)\n'
            '    raise RuntimeError("a bug in sample")\n',
        )
    )
    for workers in ("1", "2"):
        url = f"sqlite:///{tmp_path / f'w{workers}.db'}"
        result = run(
            [
                "--study",
                str(study_file),
                "--trials",
                "20",
                "--workers",
                workers,
                "--epochs",
                "1",
                "--train-limit",
                "300",
                "--val-size",
                "200",
                *QUICK_TEST,
                "--storage",
                url,
                "--data-root",
                str(data_root),
                "--plain",
                "--no-confirm",
            ],  # fmt: skip
            tmp_path,
        )
        assert result.returncode == 1, (workers, result.stdout[-2000:], result.stderr)
        assert "repeated trial failures" in result.stdout + result.stderr
        stored = optuna.load_study(study_name="my-study", storage=url)
        states = [t.state for t in stored.trials]
        assert all(s == optuna.trial.TrialState.FAIL for s in states)
        # each process stops at its fifth failure in a row: 5 in one process, 5-10 on two
        assert 5 <= len(states) <= 5 * int(workers), (workers, len(states))
        assert "RuntimeError: a bug in sample" in result.stdout + result.stderr


def test_a_search_confirms_its_top_trial_only_when_its_budget_is_spent(tmp_path, data_root):
    # One rule (search.runner.progress.confirm_after) in the launcher's process and on two
    # workers: a study with confirm_top = 1 confirms its best trial once its 2 trials are spent;
    # stopped by --timeout before its budget, it confirms nothing (--no-confirm: test_progress).
    study_file = tmp_path / "confirming.py"
    study_file.write_text(
        readme_example().replace("    limits=Limits(", "    confirm_top=1,\n    limits=Limits(")
    )
    for workers in ("1", "2"):
        url = f"sqlite:///{tmp_path / f'w{workers}.db'}"
        common = ["--study", str(study_file), "--workers", workers, "--epochs", "1",
                  "--train-limit", "300", "--val-size", "200", "--seeds", "1", "--storage", url,
                  *QUICK_TEST, "--data-root", str(data_root), "--plain",
                  "--trials", "2"]  # fmt: skip
        result = run([*common, "--timeout", "0.01"], tmp_path)  # passed before any trial starts
        assert result.returncode == 0, (workers, result.stderr)
        assert re.search(r"0/2 trials used \(stopped by [a-z ]*timeout\)", result.stdout), workers
        assert "my-study.confirm" not in optuna.get_all_study_names(url), workers
        assert optuna.load_study(study_name="my-study", storage=url).trials == [], workers
        result = run(common, tmp_path)
        assert result.returncode == 0, (workers, result.stderr)
        if workers == "2":  # a pool never starts more workers than it has runs: 2 trials, 1 run
            assert "starting 2 workers x " in result.stdout, result.stdout
            assert "starting 1 worker x " in result.stdout, result.stdout
        searched = optuna.load_study(study_name="my-study", storage=url)
        finished = [t for t in searched.trials if t.state.is_finished()]
        best = max(
            (t for t in finished if t.state == optuna.trial.TrialState.COMPLETE),
            key=lambda t: t.value,
        )
        companion = optuna.load_study(study_name="my-study.confirm", storage=url)
        runs = [t for t in companion.trials if t.state == optuna.trial.TrialState.COMPLETE]
        recorded = [s.user_attrs["sessions"][-1]["workers"] for s in (searched, companion)]
        assert recorded == [int(workers), 1], (workers, recorded)  # the workers that ran
        assert len(finished) == 2 and len(runs) == 1, (workers, len(finished), len(runs))
        assert runs[0].user_attrs["params"] == best.user_attrs["params"]
