"""Confirmation, replay and export on a 2-trial real-data study."""

from __future__ import annotations

import dataclasses
import importlib.util
import statistics

import optuna
import pytest
import torch
from optuna.trial import TrialState

from archs import ArchSpec, build
from search.engine.objective import file_sha256
from search.errors import UsageError
from search.events import Done, parse
from search.reports.confirmations import confirmation_summaries
from search.runner.confirm import confirm, replay_trial
from search.runner.export import export_trial
from search.runner.session import run_study
from search.study.definitions import RunOptions
from studies import STUDIES
from tests.run_args import TEST_LIMIT, run_here


def two_trial_options(folder, data_root, epochs: int, train_limit: int) -> RunOptions:
    """A 2-trial search in `folder`, confirmed with seeds 1 and 2, on a slice of real MNIST."""
    return RunOptions(
        storage=f"sqlite:///{folder / 'r.db'}",
        data_root=str(data_root),
        device="cpu",
        epochs=epochs,
        train_limit=train_limit,
        test_limit=TEST_LIMIT,
        val_size=256,
        trials=2,
        seeds=(1, 2),
    )


@pytest.fixture(scope="module")
def two_trials(tmp_path_factory, data_root):
    folder = tmp_path_factory.mktemp("confirm")
    options = two_trial_options(folder, data_root, epochs=2, train_limit=2048)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))
        run_study(STUDIES["cnn20k"], options)
        events = []
        summaries = confirm(STUDIES["cnn20k"], options, 2, events.append)
    return folder, options, summaries, events


def load(folder, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=f"sqlite:///{folder / 'r.db'}")


def test_confirmation_retrains_the_top_trials_on_all_images_once_per_seed(two_trials):
    folder, _, summaries, events = two_trials
    study, companion = load(folder, "cnn20k"), load(folder, "cnn20k.confirm")
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    ranked = sorted(complete, key=lambda t: -t.value)
    runs = companion.trials
    assert sorted((t.params["source_trial"], t.params["seed"]) for t in runs) == sorted(
        (t.number, seed) for t in ranked[:2] for seed in (1, 2)
    )
    for run in runs:
        source = study.trials[run.params["source_trial"]]
        assert run.state == TrialState.COMPLETE
        assert run.user_attrs["seed"] == run.params["seed"]  # the seed asked for is the seed used
        assert run.user_attrs["spec"] == source.user_attrs["spec"]
        assert run.user_attrs["val_images"] == 0  # all training images: no validation split
        assert run.user_attrs["train_images"] == 2048
        assert run.value == run.user_attrs["test_acc"][-1]
    for row in summaries:
        finals = [
            t.user_attrs["test_acc"][-1]
            for t in runs
            if t.params["source_trial"] == row["source_trial"]
        ]
        assert row["mean"] == pytest.approx(statistics.fmean(finals))
        assert row["std"] == pytest.approx(statistics.stdev(finals))
        assert row["min"] == min(finals) and row["seeds"] == [1, 2]
    assert sum("confirmed trial" in e.get("message", "") for e in events) == len(summaries)
    assert confirmation_summaries(companion) == summaries


def test_confirmation_resumes_without_running_anything_twice(two_trials):
    folder, options, summaries, _ = two_trials
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))
        again = confirm(STUDIES["cnn20k"], options, 2)
    assert again == summaries
    # one run per (confirmed trial, seed), none twice: 2 seeds x the 1-2 trials that completed
    # (whether the second of 2048 images clears the pruner's 50% floor after 2 epochs varies)
    assert len(load(folder, "cnn20k.confirm").trials) == 2 * len(summaries) >= 2


def test_preparing_a_confirmation_records_the_command_on_the_companion(two_trials):
    from search.runner.confirm import prepare_confirm

    folder, options, _, _ = two_trials
    argv = ("--study", "cnn20k", "--confirm", "2", "--workers", "2")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))
        prepare_confirm(STUDIES["cnn20k"], dataclasses.replace(options, argv=argv), 2, 2)
    sessions = load(folder, "cnn20k.confirm").user_attrs["sessions"]
    assert sessions[-1]["command"].endswith("--confirm 2 --workers 2")
    assert sessions[-1]["workers"] == 2
    confirmed = {t.params["source_trial"] for t in load(folder, "cnn20k.confirm").trials}
    assert len(load(folder, "cnn20k.confirm").trials) == 2 * len(confirmed)  # none twice


def test_replay_reproduces_a_trial_exactly(two_trials):
    folder, options, _, _ = two_trials
    events = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))
        assert replay_trial(STUDIES["cnn20k"], options, 0, events.append) == 0
    messages = [e["message"] for e in events]
    assert sum(m.endswith("| same") for m in messages) == 2  # two epochs, both identical
    assert messages[-2].startswith("trial 0: reproduced exactly on cpu")
    saved = f"trial 0: the replayed weights saved to {folder / 'runs' / 'weights'}/"
    assert messages[-1].startswith(saved), messages[-1]


def test_export_writes_a_standalone_module_with_identical_outputs(two_trials, tmp_path):
    folder, options, _, _ = two_trials
    out = tmp_path / "exported"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))
        assert export_trial(STUDIES["cnn20k"], options, 0, str(out), onnx=False) == 0
        with pytest.raises(UsageError, match="holds another export; --force replaces it"):
            export_trial(STUDIES["cnn20k"], options, 0, str(out))
    files = ["README.md", "model.py", "spec.json", "weights.pt"]  # no model.onnx, as asked
    assert sorted(p.name for p in out.iterdir()) == files
    assert "no `model.onnx` (exported with `--no-onnx`)." in (out / "README.md").read_text()
    module_spec = importlib.util.spec_from_file_location("exported_model", out / "model.py")
    exported = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(exported)
    net = exported.Net()
    state = torch.load(out / "weights.pt", weights_only=True)
    net.load_state_dict(state)
    reference = build(ArchSpec.from_dict(exported.SPEC))
    reference.load_state_dict(state)
    images = torch.randn(5, 1, 28, 28)
    assert torch.equal(net.eval()(images), reference.eval()(images))
    assert (
        "torch" in (out / "model.py").read_text() and "archs" not in (out / "model.py").read_text()
    )


def test_cli_confirm_replay_export_errors(two_trials, tmp_path):
    folder, _, _, _ = two_trials
    storage = f"sqlite:///{folder / 'r.db'}"
    for args, message in (
        (["--replay", "99"], "has no trial 99"),
        (["--export", "x", str(tmp_path / "e")], "N must be a trial number"),
        (["--export", "99", str(tmp_path / "e")], "has no trial 99"),
        (["--confirmation-seed", "1"], "--confirmation-seed applies to --export only"),
        (["--confirm", "2", "--study", "baseline"], "--confirm applies to search studies"),
    ):
        study = [] if "--study" in args else ["--study", "cnn20k"]
        result = run_here([*study, *args, "--storage", storage], folder)
        assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "e").exists()


def test_a_changed_top_k_and_a_left_over_run_are_confirmed_too(tmp_path, data_root):
    """Confirming K again after the ranking changed runs the new winner's seeds (the runs stored
    for the old winner do not use up the budget), and a run an earlier confirmation left
    waiting runs as well."""
    options = two_trial_options(tmp_path, data_root, epochs=1, train_limit=1024)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(tmp_path / "runs"))
        run_study(STUDIES["cnn20k"], options)
        first = confirm(STUDIES["cnn20k"], options, 1)
        parent = load(tmp_path, "cnn20k")
        old = first[0]["source_trial"]
        donor = next(t for t in parent.trials if t.state == TrialState.COMPLETE)
        recipe = {**donor.user_attrs["recipe"], "lr": donor.user_attrs["recipe"]["lr"] / 2}
        parent.add_trial(  # a new best trial, distinct from the old winner
            optuna.trial.create_trial(
                params=donor.params,
                distributions=donor.distributions,
                value=max(t.value for t in parent.trials if t.value is not None) + 1,
                user_attrs={**donor.user_attrs, "recipe": recipe},
            )
        )
        new = len(parent.trials) - 1
        load(tmp_path, "cnn20k.confirm").enqueue_trial({"source_trial": old, "seed": 3})
        second = confirm(STUDIES["cnn20k"], options, 1)
    runs = load(tmp_path, "cnn20k.confirm").trials
    assert sorted((t.params["source_trial"], t.params["seed"]) for t in runs) == sorted(
        [(old, 1), (old, 2), (old, 3), (new, 1), (new, 2)]
    )
    assert all(t.state == TrialState.COMPLETE for t in runs)
    assert [row["source_trial"] for row in second] == sorted([old, new])
    assert next(r for r in second if r["source_trial"] == old)["seeds"] == [1, 2, 3]


def test_export_of_a_confirmation_run_checks_its_onnx_on_real_test_images(
    two_trials, tmp_path, data_root, capsys
):
    import json

    import onnxruntime

    from search.engine.data import Split, load_mnist, normalise
    from search.engine.train import evaluate

    folder, options, _, _ = two_trials
    companion = load(folder, "cnn20k.confirm")
    run = next(t for t in companion.trials if t.params["seed"] == 2)
    number = run.params["source_trial"]
    out = tmp_path / "confirmed"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))
        assert export_trial(STUDIES["cnn20k"], options, number, str(out), 2) == 0
        with pytest.raises(UsageError, match=r"has no such run; its complete confirmation seeds"
                           r" are \[1, 2\]"):  # fmt: skip
            export_trial(STUDIES["cnn20k"], options, number, str(tmp_path / "none"), 7)
    printed = capsys.readouterr().out
    assert not (tmp_path / "none").exists()
    assert file_sha256(out / "weights.pt") == run.user_attrs["weights_sha256"]
    record = json.loads((out / "spec.json").read_text())
    assert record["weights"]["from"] == "confirmation run" and record["weights"]["seed"] == 2
    assert record["weights"]["train_images"] == run.user_attrs["train_images"] == 2048
    # the run was evaluated on 1,000 test images (--test-limit); the export on all 10,000
    assert run.user_attrs["test_images"] == TEST_LIMIT
    arrays = load_mnist(data_root)
    net = build(ArchSpec.from_dict(record["spec"]))
    net.load_state_dict(torch.load(out / "weights.pt", weights_only=True))
    every = Split(normalise(arrays.test_images), arrays.test_labels)
    assert record["weights"]["test_acc_at_export"] == round(evaluate(net, every), 2)
    # onnxruntime predicts what torch predicts on real test images
    images = normalise(arrays.test_images[:2000])
    session = onnxruntime.InferenceSession(str(out / "model.onnx"))
    theirs = session.run(None, {"input": images.numpy()})[0]
    with torch.no_grad():
        ours = net.eval()(images)
    assert (torch.from_numpy(theirs).argmax(1) == ours.argmax(1)).float().mean() >= 0.999
    assert float((torch.from_numpy(theirs) - ours).abs().max()) < 1e-3
    readme = (out / "README.md").read_text()
    assert "confirmation run, seed 2, 2,048 images" in readme
    assert "argmax agrees with torch on" in readme and "opset 18" in readme
    assert "argmax agrees with torch on" in printed


def test_export_without_the_onnx_packages_writes_the_rest_and_force_replaces(
    two_trials, tmp_path, capsys
):
    from search.runner import export_onnx

    folder, options, _, _ = two_trials
    first = next(
        t.number for t in load(folder, "cnn20k").trials if t.user_attrs.get("weights_path")
    )
    confirmed = next(t for t in load(folder, "cnn20k.confirm").trials if t.params["seed"] == 1)
    out = tmp_path / "plain"
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))
        patch.setattr(export_onnx, "missing_packages", lambda: ["onnxruntime"])
        assert export_trial(STUDIES["cnn20k"], options, first, str(out)) == 0
        earlier = (out / "spec.json").read_text()
        second = confirmed.params["source_trial"]
        assert export_trial(STUDIES["cnn20k"], options, second, str(out), 1, force=True) == 0
        with pytest.raises(UsageError, match="not empty \\(and holds no export\\)"):
            export_trial(STUDIES["cnn20k"], options, first, str(other), force=True)
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == [
        "README.md", "model.py", "spec.json", "weights.pt"
    ]  # fmt: skip
    assert (out / "spec.json").read_text() != earlier  # the confirmation run replaced the trial
    assert file_sha256(out / "weights.pt") == confirmed.user_attrs["weights_sha256"]
    assert 'no model.onnx: ONNX export needs onnxruntime; pip install -e ".[export]"' in printed
    assert "no `model.onnx`" in (out / "README.md").read_text()
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_every_event_of_a_real_confirmation_is_a_typed_event(two_trials):
    _, _, summaries, events = two_trials
    parsed = [parse(event) for event in events]  # raises on a missing or misspelt field
    assert [event.to_dict() for event in parsed] == events
    assert {event.type for event in parsed} >= {
        "study", "trial_start", "epoch", "trial_end", "leaderboard", "done", "log",
    }  # fmt: skip
    done = [event for event in parsed if isinstance(event, Done)]
    runs = sum(len(row["seeds"]) for row in summaries)  # one per (trial, seed)
    assert len(done) == 1 and done[0].stopped_by == "budget" and done[0].counts["COMPLETE"] == runs
