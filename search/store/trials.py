"""Stored trials read back by number, and the net (spec and recipe) each one trained: what the
runner's confirmation, replay and export and a study's `--base trial:N --from STUDY` read.
"""

from __future__ import annotations

import optuna

from archs import ArchSpec
from search.errors import UsageError
from search.store.record import TrialRecord
from search.store.storage import open_storage, require_existing, resolve_url
from search.study.definitions import RunOptions
from search.study.recipe import Recipe


def load_existing(name: str, options: RunOptions) -> optuna.Study:
    url = resolve_url(options.storage)
    require_existing(url)  # nothing created for a mistyped path
    storage = open_storage(url)
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise UsageError(
            f"study {name!r} is not in storage {url}; run"
            f" `python -m search.run --study {name}` first (or pass its --storage)"
        ) from None


def queued_params(trial: optuna.trial.FrozenTrial) -> dict:
    """The trial's parameters, or, for an enqueued trial that has not drawn them yet (WAITING,
    or RUNNING just taken from the queue), the parameters it was enqueued with."""
    return trial.system_attrs.get("fixed_params") or trial.params


def trial_by_number(optuna_study: optuna.Study, number: int) -> optuna.trial.FrozenTrial:
    for trial in optuna_study.get_trials(deepcopy=False):
        if trial.number == number:
            return trial
    raise UsageError(f"study {optuna_study.study_name} has no trial {number}")


def stored_proposal(trial: optuna.trial.FrozenTrial) -> tuple[ArchSpec, Recipe]:
    record = TrialRecord.of(trial)
    if not record.trained:
        raise UsageError(
            f"trial {trial.number} stored no spec (it ended: "
            f"{record.end_reason or trial.state.name})"
        )
    return ArchSpec.from_dict(record.spec), Recipe.from_dict(record.recipe)
