"""python -m search.restore: a report's finished runs written back into a storage, on real runs.

An ablation (base and no_dropout, 1 epoch on 256 real images) runs seeds 1-2 in one storage and
is rendered; that storage is then dropped, as a session's run storage is. Seed 3 runs in a new
storage, the report's runs are restored beside it, and the study resumes and renders as one.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search.report import main as report_main
from search.restore import main as restore_main
from search.runner.session import open_study, run_study
from search.study.definitions import RunOptions
from studies import STUDIES
from studies.ablation import VARIANTS
from tests.run_args import TEST_LIMIT


def ablation(url: str, data_root: Path, seeds: tuple[int, ...]) -> tuple:
    options = RunOptions(
        storage=url, data_root=str(data_root), device="cpu", epochs=1, train_limit=256,
        test_limit=TEST_LIMIT,
        seeds=seeds, variants=("no_dropout",),
    )  # fmt: skip
    return STUDIES["ablation"].configure(options), options


def finished(url: str, name: str = "ablation") -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=url)
    return [t for t in study.get_trials() if t.state == TrialState.COMPLETE]


def report(url: str, out: Path) -> dict:
    assert report_main(["--storage", url, "--out", str(out), "--force"]) == 0
    return json.loads((out / "ablation" / "data.json").read_text())


@pytest.fixture(scope="module")
def first(tmp_path_factory, data_root) -> dict:
    """Seeds 1-2 run and rendered; the storage file removed afterwards."""
    folder = tmp_path_factory.mktemp("first")
    url = f"sqlite:///{folder / 'gone.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))
        run_study(*ablation(url, data_root, (1, 2)))
        document = report(url, folder / "reports")
    (folder / "gone.db").unlink()
    return {"document": document, "path": folder / "reports" / "ablation" / "data.json"}


@pytest.fixture(scope="module")
def seed3(tmp_path_factory, data_root) -> Path:
    """A new storage where seed 3 ran (base and no_dropout); each test copies it."""
    folder = tmp_path_factory.mktemp("seed3")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))
        run_study(*ablation(f"sqlite:///{folder / 'seed3.db'}", data_root, (3,)))
    return folder / "seed3.db"


@pytest.fixture
def run_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SEARCH_RUN_DIR", str(tmp_path / "runs"))
    return tmp_path


def copy_of(seed3: Path, folder: Path) -> str:
    shutil.copy(seed3, folder / "new.db")
    return f"sqlite:///{folder / 'new.db'}"


def restore(path: Path, url: str, capsys) -> tuple[int, str]:
    status = restore_main([str(path), "--storage", url])
    captured = capsys.readouterr()
    return status, (captured.out + captured.err).strip()


def test_restored_runs_resume_and_render_with_the_new_seed(
    first, seed3, run_dir, data_root, capsys
):
    url = copy_of(seed3, run_dir)
    assert len(finished(url)) == 2
    status, said = restore(first["path"].parent, url, capsys)  # the folder names its data.json
    assert status == 0, said
    assert said.startswith("restored 4 finished trials of ablation from ")
    restored = [t for t in finished(url) if "imported_from" in t.user_attrs]
    assert len(restored) == 4
    before = {(t["sampled"]["variant"], t["seed"]): t for t in first["document"]["trials"]}
    for trial in restored:
        old = before[(trial.params["variant"], trial.params["seed"])]
        assert trial.value == old["value"]
        assert trial.user_attrs["test_acc"] == old["test_acc"]
        assert trial.user_attrs["spec"] == old["spec"]
        assert trial.user_attrs["recipe"] == old["recipe"]
        assert trial.user_attrs["imported_from"]["number"] == old["number"]
        assert trial.user_attrs["imported_from"]["report"] == str(first["path"])
    # resuming over seeds 1-3 trains nothing: the restored parameter sets are taken
    run_study(*ablation(url, data_root, (1, 2, 3)))
    assert len(finished(url)) == 6
    study = optuna.load_study(study_name="ablation", storage=url)
    assert not study.get_trials(states=(TrialState.WAITING, TrialState.RUNNING))
    document = report(url, run_dir / "out")
    rows = {row["variant"]: row for row in document["summary"]["variants"]}
    assert rows["no_dropout"]["seeds"] == [1, 2, 3]
    assert len(rows["no_dropout"]["deltas"]) == 3  # paired over the restored and the new seeds
    old_rows = {row["variant"]: row for row in first["document"]["summary"]["variants"]}
    assert rows["base"]["final_test_acc"][:2] == old_rows["base"]["final_test_acc"]
    assert document["summary"]["train_images"] == [256]
    readme = (run_dir / "out" / "ablation" / "README.md").read_text()
    assert "restored 4 finished trials of study" in readme
    assert sum(t["imported_from"] is not None for t in document["trials"]) == 4


def test_a_second_restore_writes_nothing(first, run_dir, data_root, capsys):
    url = f"sqlite:///{run_dir / 'twice.db'}"
    logged: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())
    optuna.logging.get_logger("optuna").addHandler(handler)
    try:
        assert restore(first["path"], url, capsys)[0] == 0  # a new storage: the report's settings
    finally:
        optuna.logging.get_logger("optuna").removeHandler(handler)
    assert not [line for line in logged if "in memory" in line]  # the checks' scratch study
    status, said = restore(first["path"], url, capsys)
    assert status == 2
    assert "already has the parameters of the report's trial 0" in said
    assert len(finished(url)) == 4
    study = optuna.load_study(study_name="ablation", storage=url)
    assert [s["command"].split()[2] for s in study.user_attrs["sessions"]] == ["search.restore"]
    assert study.user_attrs["about"] == first["document"]["about"]  # the base, in words
    assert first["document"]["about"].startswith("the pinned baseline (archs.BASELINE)")
    # the study restored into a new storage resumes under its settings: nothing left to train
    run_study(*ablation(url, data_root, (1, 2)))
    assert sorted(t.params["seed"] for t in finished(url)) == [1, 1, 2, 2]


def edited(first: dict, folder: Path, change) -> Path:
    document = json.loads(json.dumps(first["document"]))
    change(document)
    path = folder / "edited.json"
    path.write_text(json.dumps(document))
    return path


def test_runs_of_another_recipe_or_settings_are_refused(first, seed3, run_dir, data_root, capsys):
    url = copy_of(seed3, run_dir)

    def other_lr(document):
        for trial in document["trials"]:
            trial["recipe"]["lr"] *= 2

    status, said = restore(edited(first, run_dir, other_lr), url, capsys)
    assert status == 2
    assert "trained another net, recipe or number of images than trial" in said

    def other_epochs(document):
        document["settings"]["epochs"] = 2

    status, said = restore(edited(first, run_dir, other_epochs), url, capsys)
    assert (status, "other settings than the report's (epochs)" in said) == (2, True)
    assert len(finished(url)) == 2  # nothing written by either
    open_study(*ablation(url, data_root, (1, 2, 3)))  # seeds 1-2 queued, not yet run
    status, said = restore(first["path"], url, capsys)
    assert status == 2
    assert "is queued with the parameters of the report's trial 0" in said
    assert len(optuna.load_study(study_name="ablation", storage=url).trials) == 2 + 4


def test_an_old_report_cannot_start_a_study(first, run_dir, capsys):
    def old(document):  # as reports were written before they stored settings and distributions
        del document["settings"]
        for trial in document["trials"]:
            del trial["distributions"]

    path = edited(first, run_dir, old)
    status, said = restore(path, f"sqlite:///{run_dir / 'none.db'}", capsys)
    assert status == 2
    assert "run the study there first" in said
    assert not (run_dir / "none.db").exists()  # no storage file created


def test_bad_reports_are_one_line_errors(run_dir, capsys):
    url = f"sqlite:///{run_dir / 'bad.db'}"
    (run_dir / "not.json").write_text("{")
    (run_dir / "no-trials.json").write_text('{"name": "x"}')
    for path, words in [
        (run_dir / "missing.json", "cannot read"),
        (run_dir / "not.json", "is not JSON"),
        (run_dir / "no-trials.json", "is not a study report's data.json"),
    ]:
        status, said = restore(path, url, capsys)
        assert status == 2 and words in said and len(said.splitlines()) == 1, said
    assert not (run_dir / "bad.db").exists()


def test_an_old_report_restores_into_a_study_that_ran_here(first, seed3, run_dir, capsys):
    """A report written before reports stored settings and distributions (the cnn5k winner's
    seeds 1-2, 2026-11-28) restores into a storage where the study already ran: the parameters'
    distributions come from its trials there, the same-net check from their specs and recipes."""

    def old(document):
        del document["settings"]
        for trial in document["trials"]:
            for key in ("distributions", "train_images", "val_images", "torch_version"):
                del trial[key]

    url = copy_of(seed3, run_dir)
    status, said = restore(edited(first, run_dir, old), url, capsys)
    assert status == 0, said
    restored = [t for t in finished(url) if "imported_from" in t.user_attrs]
    assert len(restored) == 4
    assert {t.user_attrs["train_images"] for t in restored} == {256}  # from the summary
    assert {t.distributions["variant"] for t in restored} == {
        optuna.distributions.CategoricalDistribution(list(VARIANTS))
    }


def test_pruned_runs_restore_and_conflicts_write_nothing(first, seed3, run_dir, capsys):
    def one_pruned(document):  # as a variant over a limit is stored: pruned before training
        document["trials"][1] |= {"state": "PRUNED", "value": None, "end_kind": "limit"}

    url = f"sqlite:///{run_dir / 'pruned.db'}"
    assert restore(edited(first, run_dir, one_pruned), url, capsys)[0] == 0
    study = optuna.load_study(study_name="ablation", storage=url)
    pruned = [t for t in study.trials if t.state == TrialState.PRUNED]
    assert [t.user_attrs["end_kind"] for t in pruned] == ["limit"]
    assert pruned[0].params == first["document"]["trials"][1]["sampled"]

    here = copy_of(seed3, run_dir)

    def other_choices(document):
        for trial in document["trials"]:
            trial["distributions"]["variant"] = optuna.distributions.distribution_to_json(
                optuna.distributions.CategoricalDistribution(["base", "no_dropout"])
            )

    def twice(document):
        document["trials"].append(document["trials"][0])

    def other_kind(document):
        document["kind"] = "repeat"

    for change, words in [
        (other_choices, "parameter 'variant' of trial 0 was drawn from"),
        (twice, "the report holds two finished trials with the parameters of"),
        (other_kind, "is of kind ablation, the report's of kind repeat"),
    ]:
        status, said = restore(edited(first, run_dir, change), here, capsys)
        assert status == 2 and words in said, said
    assert len(optuna.load_study(study_name="ablation", storage=here).trials) == 2
