"""Export: a trial leaves the toolkit as spec.json, weights.pt and a standalone model.py.

The weights are checked before anything is written: their bytes must have the SHA-256 the trial
recorded when it saved them (so another run's file under the same path is refused), and they must
load into the trial's spec. The folder is written under a temporary name and moved into place.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import optuna
import torch

from archs import ArchSpec, build
from search.confirm import load_existing, stored_proposal
from search.errors import UsageError
from search.objective import file_sha256
from search.recipe import Recipe
from search.runner import trial_by_number
from search.study import RunOptions


def export_trial(study, options: RunOptions, number: int, out_dir: str) -> int:
    """Write spec.json, weights.pt (saved when the trial completed) and model.py to out_dir,
    after checking that the weights are this trial's (their recorded SHA-256) and load into its
    spec; one UsageError and nothing written otherwise."""
    trial = trial_by_number(load_existing(study.name, options), number)
    spec, recipe = stored_proposal(trial)
    target = Path(out_dir)
    export_folder_ok(target)
    state = checked_weights(trial, spec)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        (staging / "spec.json").write_text(json.dumps(export_record(study, trial, spec, recipe),
                                                      indent=2) + "\n")  # fmt: skip
        torch.save(state, staging / "weights.pt")
        (staging / "model.py").write_text(standalone_source(spec))
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(f"exported trial {number} ({spec.summary}) to {target}: spec.json weights.pt model.py")
    return 0


def export_folder_ok(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise UsageError(f"--export N DIR: {target} is a file, not a folder; name a new folder")
    if target.is_dir() and any(target.iterdir()):
        raise UsageError(f"--export N DIR: {target} exists and is not empty; choose a new folder")
    parent = target.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise UsageError(f"--export N DIR: cannot write in {parent} (missing or not writable)")


def checked_weights(trial: optuna.trial.FrozenTrial, spec: ArchSpec) -> dict:
    """The trial's saved weights, only if their bytes are the ones it recorded and they load
    into `spec` (same keys and shapes)."""
    number = trial.number
    weights = Path(trial.user_attrs.get("weights_path", ""))
    recorded = trial.user_attrs.get("weights_sha256")
    if not trial.user_attrs.get("weights_path") or not weights.is_file():
        raise UsageError(
            f"trial {number}'s weights are not on this machine ({weights or 'none saved'});"
            " they are saved for complete trials in the run folder of the machine that ran them"
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
    try:
        build(spec).load_state_dict(state)
    except RuntimeError as error:
        first = str(error).strip().splitlines()[0]
        raise UsageError(f"{weights} does not load into trial {number}'s spec ({first})") from None
    return state


def export_record(study, trial, spec: ArchSpec, recipe: Recipe) -> dict:
    return {
        "study": study.name,
        "trial": trial.number,
        "spec": spec.to_dict(),
        "summary": spec.summary,
        "recipe": recipe.to_dict(),
        "params": trial.user_attrs.get("params"),
        "val_acc": trial.user_attrs.get("val_acc"),
        "test_acc": trial.user_attrs.get("test_acc"),
        "weights_sha256": trial.user_attrs.get("weights_sha256"),
    }


def standalone_source(spec: ArchSpec) -> str:
    """Python source of `Net`, the built network as plain torch modules (same state_dict keys)."""
    lines = []
    for name, module in build(spec).named_children():
        lines.append(f"            ({name!r}, {_constructor(module)}),")
    body = "\n".join(lines)
    return f'''"""Exported network {spec.summary!r}: needs only torch.

    import torch
    from model import Net
    net = Net()
    net.load_state_dict(torch.load("weights.pt"))
    net.eval()  # input: (N, 1, 28, 28) normalised with mean 0.1307, std 0.3081
"""

from collections import OrderedDict

from torch import nn

SPEC = {json.dumps(spec.to_dict())!r}


class Net(nn.Sequential):
    def __init__(self):
        super().__init__(OrderedDict([
{body}
        ]))
'''


def _constructor(module: torch.nn.Module) -> str:
    kind = type(module).__name__
    if isinstance(module, torch.nn.Conv2d):
        return (
            f"nn.Conv2d({module.in_channels}, {module.out_channels}, {module.kernel_size[0]},"
            f" padding={module.padding[0]}, bias={module.bias is not None})"
        )
    if isinstance(module, torch.nn.BatchNorm2d):
        return f"nn.BatchNorm2d({module.num_features})"
    if isinstance(module, torch.nn.Dropout):
        return f"nn.Dropout({module.p})"
    if isinstance(module, torch.nn.MaxPool2d):
        return f"nn.MaxPool2d({module.kernel_size})"
    if isinstance(module, torch.nn.AdaptiveAvgPool2d):
        return f"nn.AdaptiveAvgPool2d({module.output_size})"
    if isinstance(module, torch.nn.LogSoftmax):
        return f"nn.LogSoftmax(dim={module.dim})"
    if kind in ("ReLU", "Flatten"):
        return f"nn.{kind}()"
    raise ValueError(f"no standalone constructor for {kind}")
