"""What a trial means, recorded on its study when created, so that a resume cannot mix kinds.

Epochs, the training-image limit, the validation size, the study seed, the limits and, for a
study that trains a fixed net, its spec, recipe and variants: a resume with other values is a
UsageError naming each difference (`--name` stores a separate study instead).
"""

from __future__ import annotations

import json

import optuna

from search.errors import UsageError
from search.study.definitions import CnnStudy, RunOptions, StudyDef

SETTINGS_KEY = "settings"  # what a trial means, as the study was created


def trial_settings(study: StudyDef, options: RunOptions, seed: int) -> dict:
    """The settings that change what a trial means (plain JSON): a resume must match them."""
    settings: dict = {"study seed": seed}
    if study.source_sha256:
        settings["study file sha256"] = study.source_sha256
    if isinstance(study, CnnStudy):
        settings |= {
            "epochs": options.epochs if options.epochs is not None else "each proposal's own",
            "train limit": options.train_limit if options.train_limit else "all images",
            "validation images": study.val_images(options),
            "limits": study.limits.describe(),
        }
        if options.test_limit:  # only when given: studies stored before it resume unchanged
            settings["test limit"] = options.test_limit
        for name in ("base_spec", "base_recipe"):
            if getattr(study, name, None) is not None:
                settings[name.replace("_", " ")] = getattr(study, name).to_dict()
        if getattr(study, "variants", None):
            settings["variants"] = list(study.variants)
    return json.loads(json.dumps(settings))


def check_settings(optuna_study: optuna.Study, settings: dict) -> None:
    """Record the settings on a new study; on a resume, UsageError naming each difference."""
    stored = optuna_study.user_attrs.get(SETTINGS_KEY)
    if stored is None:
        optuna_study.set_user_attr(SETTINGS_KEY, settings)
        return
    changed = [
        f"{key} {_short(stored.get(key))} (stored) vs {_short(settings.get(key))} (now)"
        for key in sorted(set(stored) | set(settings))
        if stored.get(key) != settings.get(key)
    ]
    if changed:
        raise UsageError(
            f"study {optuna_study.study_name!r} was created with other settings: "
            + "; ".join(changed)
            + "; rerun with the original options to resume it, or pass --name NEW to store a"
            " separate study"
        )


def _short(value) -> str:
    text = json.dumps(value) if isinstance(value, (dict, list)) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."
