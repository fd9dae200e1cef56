"""Export: a trial leaves the toolkit as spec.json, weights.pt, model.py, model.onnx, README.md.

The weights are checked before anything is written: their bytes must have the SHA-256 the trial
recorded when it saved them (so another run's file under the same path is refused), and they must
load into the trial's spec. They are the search trial's, or with `confirmation_seed` those of the
trial's confirmation run with that seed (trained on all training images). Their test accuracy is
measured again at export, and the ONNX graph is checked against torch in onnxruntime on the
10,000 test images (search.runner.export_onnx). The folder is written under a temporary name
and moved into place: nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import optuna
import torch
from optuna.trial import TrialState
from torch import nn

from archs import ArchSpec, build
from search.engine import data as mnist
from search.engine.objective import file_sha256
from search.engine.train import evaluate
from search.errors import StudyFailed, UsageError
from search.runner import export_onnx
from search.runner.confirm import REPLAYED_KEY
from search.runner.export_source import standalone_source
from search.store.provenance import SESSIONS_KEY
from search.store.record import TrialRecord
from search.store.trials import load_existing, stored_proposal, trial_by_number
from search.study.definitions import CONFIRM_SUFFIX, RunOptions
from search.study.recipe import Recipe

FILES = ("spec.json", "weights.pt", "model.py", "model.onnx", "README.md")


def export_trial(
    study,
    options: RunOptions,
    number: int,
    out_dir: str,
    confirmation_seed: int | None = None,
    force: bool = False,
    onnx: bool = True,
) -> int:
    """Write the export of trial `number` (or of its confirmation run with `confirmation_seed`)
    to out_dir after every check (model.onnx unless `onnx` is False); one error line and nothing
    written otherwise."""
    searched = load_existing(study.name, options)
    trial = trial_by_number(searched, number)
    spec, recipe = stored_proposal(trial)
    target = Path(out_dir)
    export_folder_ok(target, force)
    source = trial if confirmation_seed is None else confirmation_run(
        study, options, number, confirmation_seed
    )  # fmt: skip
    replayed = {} if source is not trial else searched.user_attrs.get(REPLAYED_KEY, {})
    path, digest = weights_of(source, replayed)
    model = checked_model(number, path, digest, spec)
    arrays = mnist.load_mnist(options.data_root, options.offline or None)
    test = mnist.Split(mnist.normalise(arrays.test_images), arrays.test_labels)
    accuracy = evaluate(model, test)
    record = export_record(study, trial, spec, recipe, source, path, digest, accuracy)
    sessions = searched.user_attrs.get(SESSIONS_KEY, [])
    check = _write_export(target, record, spec, path, model, test, sessions, onnx)
    what = "" if confirmation_seed is None else f" (confirmation run, seed {confirmation_seed})"
    _say_exported(f"trial {number}{what} ({spec.summary})", target, accuracy, len(test), check,
                  onnx)  # fmt: skip
    return 0


def _say_exported(what: str, target: Path, accuracy: float, images: int, check, onnx: bool):
    """What an export wrote, the accuracy it measured, and how its ONNX file fared."""
    written = " ".join(f for f in FILES if (target / f).exists())
    print(f"exported {what} to {target}: {written}")
    print(f"test accuracy of these weights: {accuracy:.2f}% on {images:,} images")
    if not onnx:
        print("no model.onnx (--no-onnx)")
    elif check is None:
        print(f"no model.onnx: ONNX export needs {', '.join(export_onnx.missing_packages())};"
              f" {export_onnx.EXTRA_HINT}")  # fmt: skip
    else:
        print(f"model.onnx (opset {check.opset}) in onnxruntime: {onnx_text(check)}")


def _write_export(
    target: Path, record: dict, spec, weights: Path, model, test, sessions, onnx: bool = True
):
    """Write the export into a staging folder beside `target`, then move it into place in one
    rename, so that a failure leaves nothing half-written; the ONNX check (None: no ONNX)."""
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        (staging / "spec.json").write_text(json.dumps(record, indent=2) + "\n")
        shutil.copyfile(weights, staging / "weights.pt")  # the bytes that were hashed
        (staging / "model.py").write_text(standalone_source(spec))
        check = onnx_files(model, staging, test.images) if onnx else None
        (staging / "README.md").write_text(readme(record, check, sessions, onnx))
        if target.exists():
            shutil.rmtree(target)  # empty, or an export --force replaces (checked above)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return check


def confirmation_run(study, options: RunOptions, number: int, seed: int):
    """The complete confirmation run of trial `number` with `seed` (from NAME.confirm)."""
    name = f"{study.name}{CONFIRM_SUFFIX}"
    try:
        companion = load_existing(name, options)
    except UsageError:
        raise UsageError(
            f"--confirmation-seed {seed}: trial {number} was never confirmed (no {name} in this"
            f" storage); run --confirm K first"
        ) from None
    runs = [
        t
        for t in companion.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.params.get("source_trial") == number
    ]
    chosen = [t for t in runs if t.params.get("seed") == seed]
    if not chosen:
        seeds = sorted(t.params.get("seed") for t in runs)
        have = f"its complete confirmation seeds are {seeds}" if seeds else "it has none"
        raise UsageError(f"--confirmation-seed {seed}: trial {number} has no such run; {have}")
    return chosen[0]


def onnx_files(model, folder: Path, images: torch.Tensor) -> export_onnx.OnnxCheck | None:
    """model.onnx in `folder`, checked against torch on `images`; None without the packages."""
    if export_onnx.missing_packages():
        return None
    path = folder / "model.onnx"
    export_onnx.write_onnx(model, path)
    check = export_onnx.check_onnx(path, model, images)
    if not check.ok:
        raise StudyFailed(
            f"model.onnx disagrees with torch: {onnx_text(check)} (at least"
            f" {export_onnx.MIN_AGREEMENT:.1%} agreement needed); nothing written"
        )
    return check


def onnx_text(check: export_onnx.OnnxCheck) -> str:
    return (
        f"argmax agrees with torch on {check.agreement:.2%} of {check.images:,} test images,"
        f" largest output difference {check.max_abs_diff:.2e}"
    )


def export_folder_ok(target: Path, force: bool = False) -> None:
    if target.exists() and not target.is_dir():
        raise UsageError(f"--export N DIR: {target} is a file, not a folder; name a new folder")
    if target.is_dir() and any(target.iterdir()):
        holds_export = (target / "spec.json").is_file() and (target / "weights.pt").is_file()
        if not holds_export:
            raise UsageError(
                f"--export N DIR: {target} exists and is not empty (and holds no export);"
                " choose a new folder"
            )
        if not force:
            raise UsageError(
                f"--export N DIR: {target} holds another export; --force replaces it, or choose"
                " a new folder"
            )
    parent = target.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise UsageError(f"--export N DIR: cannot write in {parent} (missing or not writable)")


def weights_of(trial: optuna.trial.FrozenTrial, replayed: dict) -> tuple[str, str | None]:
    """The weights file and its recorded SHA-256: the trial's own while its file exists, else
    the ones `--replay N` saved for it (`replayed`: the study's record of them)."""
    record = TrialRecord.of(trial)
    own = record.weights_path or ""
    again = replayed.get(str(trial.number))
    if (not own or not Path(own).is_file()) and again and Path(again["path"]).is_file():
        return again["path"], again["sha256"]
    return own, record.weights_sha256


def checked_model(number: int, path: str, recorded: str | None, spec: ArchSpec) -> nn.Module:
    """`spec` built with trial `number`'s saved weights at `path` (eval mode), only if their
    bytes are the ones it recorded and they load into it (same keys and shapes)."""
    weights = Path(path)
    if not path or not weights.is_file():
        raise UsageError(
            f"trial {number}'s weights are not on this machine ({path or 'none saved'}): they"
            " are saved for complete trials in the run folder of the machine that ran them;"
            f" `--replay {number}` retrains the trial here and saves its weights for export"
        )
    if recorded is None:
        raise UsageError(
            f"trial {number} recorded no hash of its weights (stored by an older version), so"
            f" {weights} cannot be told from another run's; retrain it with --replay {number}"
        )
    found = file_sha256(weights)
    if found != recorded:
        raise UsageError(
            f"{weights} is not trial {number}'s weights (SHA-256 {found[:12]}..., the trial"
            f" recorded {recorded[:12]}...): another run overwrote it; retrain with --replay"
        )
    state = torch.load(weights, map_location="cpu", weights_only=True)
    model = build(spec)
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise UsageError(f"{weights} does not load into trial {number}'s spec ({first})") from None
    return model.eval()


def export_record(
    study, trial, spec: ArchSpec, recipe: Recipe, source, path: str, digest: str, accuracy: float
) -> dict:
    """spec.json: what `--base` and `--recipe` read back, and where the weights came from
    (`source`: the trial or its confirmation run; `path`: the file checked, `digest` its hash)."""
    confirmation = source is not trial
    searched, trained = TrialRecord.of(trial), TrialRecord.of(source)
    origin = "confirmation run" if confirmation else "search trial"
    if not confirmation and path != searched.weights_path:
        origin = "search trial, retrained by --replay"
    return {
        "study": study.name,
        "trial": trial.number,
        "spec": spec.to_dict(),
        "summary": spec.summary,
        "recipe": recipe.to_dict(),
        "params": searched.n_params,
        "flops": searched.flops_per_image,
        "val_acc": list(searched.val_acc_pct),
        "test_acc": list(searched.test_acc_pct),
        "weights": {
            "from": origin,
            "seed": source.params.get("seed") if confirmation else recipe.seed,
            "train_images": trained.train_images,
            "test_acc_per_epoch": list(trained.test_acc_pct),
            "test_acc_at_export": round(accuracy, 2),
            "sha256": digest,
        },
        "weights_sha256": digest,
    }


def readme(
    record: dict, check: export_onnx.OnnxCheck | None, sessions: list[dict], onnx: bool = True
) -> str:
    """The export's README.md: its numbers, its input, its files, where it came from."""
    weights = record["weights"]
    onnx_line = (
        f"`model.onnx`: opset {check.opset}, input `input` float32 (batch, 1, 28, 28), batch"
        f" dynamic, output `log_softmax` (batch, 10); checked in onnxruntime on the"
        f" {check.images:,} test images: {onnx_text(check)}."
        if check is not None
        else f"no `model.onnx`: ONNX export needs {export_onnx.EXTRA_HINT}."
        if onnx
        else "no `model.onnx` (exported with `--no-onnx`)."
    )
    made_by = "\n".join(f"- `{s['command']}` ({s['started']}, {s['machine']})" for s in sessions)
    flops = f"{record['flops']:,}" if record.get("flops") else "-"
    source = f"{weights['from']}, seed {weights['seed']}, {weights['train_images']:,} images"
    measured = f"{weights['test_acc_at_export']:.2f}% (10,000 test images)"
    return f"""# {record["study"]} trial {record["trial"]}: `{record["summary"]}`

| | |
|---|---|
| parameters | {record["params"]:,} |
| FLOPs per image (fvcore) | {flops} |
| weights | {source} |
| test accuracy of these weights, measured at export | {measured} |
| recipe | `{json.dumps(record["recipe"])}` |

Input: MNIST digits as float32 (N, 1, 28, 28), pixels scaled to [0, 1] then normalised with mean
0.1307 and std 0.3081, i.e. `(x / 255 - 0.1307) / 0.3081` (not folded into the model or the
graph). Output: log-probabilities of the 10 classes; the prediction is the argmax.

Files: `spec.json` (spec, recipe and provenance: `--base spec.json` trains it again),
`weights.pt` (state_dict, SHA-256 `{weights["sha256"]}`), `model.py` (needs only torch:
`Net().load_state_dict(torch.load("weights.pt"))`), README.md.
{onnx_line}

Made by:
{made_by or "- (no session recorded)"}
"""
