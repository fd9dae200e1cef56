"""Export refuses weights that are not the trial's: two storages, one study name, one folder.

Weights live under the run folder by the study's UUID and each trial records their SHA-256, so
the same study name in two storages can neither overwrite the other's weights nor export them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import optuna
import torch

from archs import ArchSpec, build
from search.engine.data import load_mnist, normalise
from search.engine.objective import file_sha256
from tests.conftest import REPO_ROOT
from tests.run_args import run_here


def repeat(folder: Path, storage: str, seed: int, data_root) -> optuna.trial.FrozenTrial:
    """The baseline, one epoch on 300 images with `seed`, in `storage`; its trial 0."""
    result = run_here(
        ["--study", "baseline", "--seeds", str(seed), "--epochs", "1", "--train-limit", "300",
         "--storage", storage, "--data-root", str(data_root), "--workers", "1", "--plain"],
        folder,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return optuna.load_study(study_name="baseline", storage=storage).trials[0]


def test_two_storages_with_one_study_name_keep_their_own_weights(tmp_path, data_root):
    first_url, second_url = f"sqlite:///{tmp_path}/s1.db", f"sqlite:///{tmp_path}/s3.db"
    first = repeat(tmp_path, first_url, 1, data_root)
    second = repeat(tmp_path, second_url, 3, data_root)
    assert first.user_attrs["weights_path"] != second.user_attrs["weights_path"]
    assert first.user_attrs["weights_sha256"] != second.user_attrs["weights_sha256"]

    out = tmp_path / "exported"
    result = run_here(["--study", "baseline", "--export", "0", str(out), "--storage", first_url,
                         "--data-root", str(data_root), "--no-onnx"], tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "no model.onnx (--no-onnx)" in result.stdout  # ONNX: tests/runner/test_confirm.py
    assert not (out / "model.onnx").exists()
    state = torch.load(out / "weights.pt", weights_only=True)
    net = build(ArchSpec.from_dict(first.user_attrs["spec"]))
    net.load_state_dict(state)
    arrays = load_mnist(data_root)
    with torch.no_grad():
        predicted = net.eval()(normalise(arrays.test_images)).argmax(1)
    accuracy = 100.0 * (predicted == arrays.test_labels).sum().item() / len(arrays.test_labels)
    assert round(accuracy, 2) == round(first.user_attrs["test_acc"][-1], 2)

    # another run's file under the first trial's path (what a shared path allowed): refused
    shutil.copy(second.user_attrs["weights_path"], first.user_attrs["weights_path"])
    again = tmp_path / "again"
    args = ["--study", "baseline", "--export", "0", str(again), "--storage", first_url,
            "--data-root", str(data_root)]  # fmt: skip
    result = run_here(args, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "is not trial 0's weights" in lines[0], result.stderr
    assert not again.exists()


def test_export_into_a_file_or_a_full_folder_is_refused(tmp_path, data_root):
    url = f"sqlite:///{tmp_path}/s.db"
    repeat(tmp_path, url, 1, data_root)
    a_file = tmp_path / "file.txt"
    a_file.write_text("mine")
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    for target, words in (
        (a_file, "is a file, not a folder"),
        (full, "exists and is not empty"),
        (tmp_path / "no" / "such" / "dir", "cannot write in"),
    ):
        args = ["--study", "baseline", "--export", "0", str(target), "--storage", url,
                "--data-root", str(data_root)]  # fmt: skip
        result = run_here(args, tmp_path)
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.splitlines()) == 1 and words in result.stderr, result.stderr
    assert a_file.read_text() == "mine" and sorted(p.name for p in full.iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt", "full", "runs", "s.db"]
    assert REPO_ROOT.is_dir()


def test_a_trial_whose_weights_are_gone_is_exported_after_replay(tmp_path, data_root):
    url = f"sqlite:///{tmp_path}/s.db"
    trial = repeat(tmp_path, url, 1, data_root)
    Path(trial.user_attrs["weights_path"]).unlink()  # as on another machine
    common = ["--study", "baseline", "--storage", url, "--data-root", str(data_root)]
    out = tmp_path / "out"
    result = run_here([*common, "--export", "0", str(out)], tmp_path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert "`--replay 0` retrains the trial here and saves its weights" in result.stderr
    assert not out.exists()

    replay = run_here([*common, "--replay", "0", "--plain"], tmp_path)
    assert replay.returncode == 0, replay.stderr
    assert "trial 0: reproduced exactly" in replay.stdout
    assert "trial 0: the replayed weights saved to" in replay.stdout
    saved = optuna.load_study(study_name="baseline", storage=url).user_attrs["replayed_weights"]
    result = run_here([*common, "--export", "0", str(out), "--no-onnx"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert file_sha256(out / "weights.pt") == saved["0"]["sha256"]
    # the same numbers as the trial's own weights had: its stored final test accuracy
    record = json.loads((out / "spec.json").read_text())
    assert record["weights"]["test_acc_at_export"] == round(trial.user_attrs["test_acc"][-1], 2)
    assert record["weights"]["from"] == "search trial, retrained by --replay"


def test_an_onnx_graph_that_disagrees_with_torch_is_an_error_and_nothing_is_written(
    tmp_path, data_root, monkeypatch
):
    import pytest

    from search.errors import StudyFailed
    from search.runner import export_onnx
    from search.runner.export import export_trial
    from search.study.definitions import RunOptions
    from studies import STUDIES

    url = f"sqlite:///{tmp_path}/s.db"
    repeat(tmp_path, url, 1, data_root)
    disagreeing = export_onnx.OnnxCheck(opset=18, images=10_000, agreement=0.998, max_abs_diff=3.0)
    monkeypatch.setattr(export_onnx, "check_onnx", lambda path, model, images: disagreeing)
    monkeypatch.setattr(export_onnx, "write_onnx", lambda model, path: path.write_bytes(b"onnx"))
    options = RunOptions(storage=url, data_root=str(data_root))
    out = tmp_path / "out"
    with pytest.raises(StudyFailed) as caught:
        export_trial(STUDIES["baseline"], options, 0, str(out))
    assert str(caught.value) == (
        "model.onnx disagrees with torch: argmax agrees with torch on 99.80% of 10,000 test"
        " images, largest output difference 3.00e+00 (at least 99.9% agreement needed);"
        " nothing written"
    )
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out-")]  # no staging left
