"""Finished runs written back from a committed report into a storage.

A run storage may not outlive the machine or the session that ran it; the report's `data.json`
is the record that stays. `planned` turns the report's finished (COMPLETE and PRUNED) trials into
new trials with the same parameters, value and record, each marked `imported_from`
(the report file, its storage and study, the trial's number there). Then `python -m search.run`
resumes the study without running them again (their parameter sets are taken), and the next
report shows them beside the new runs.

Nothing is written unless every check passes: the study's kind, direction and settings (when
both sides have them) agree with the report; each parameter is drawn from the same
distribution; no trial in the storage already has (or is queued with) a restored trial's
parameters; and a restored run of a net the storage also ran (the same parameters but the
seed) has the same spec, recipe but the seed, and image counts.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path

import optuna
from optuna.distributions import (
    BaseDistribution,
    check_distribution_compatibility,
    json_to_distribution,
)
from optuna.trial import FrozenTrial, TrialState

from search.errors import UsageError
from search.store.record import End, stored_key
from search.store.settings import SETTINGS_KEY
from search.store.trials import queued_params

# data.json trial key -> record field (search.reports.data.trial_record writes them)
_FIELDS = {
    "end_kind": "end",
    "end_reason": "end_reason",
    "params": "n_params",
    "flops": "flops_per_image",
    "summary": "summary",
    "seed": "seed",
    "spec": "spec",
    "recipe": "recipe",
    "device": "device",
    "torch_version": "torch_version",
    "val_acc": "val_acc_pct",
    "test_acc": "test_acc_pct",
    "best_epoch": "best_epoch",
    "test_at_best": "test_at_best_pct",
    "train_images": "train_images",
    "val_images": "val_images",
    "test_images": "test_images",
}
# study attribute -> the report's key: what a restore that creates the study copies
TRIAL_KEYS = frozenset({"number", "state", "value", "sampled"})  # what every trial entry holds
STUDY_ATTRS = {
    "description": "description",
    "about": "about",
    "kind": "kind",
    "score": "score",
    "seed": "study_seed",
}


def read_report(path: Path) -> dict:
    """The JSON document of one study's report (`reports/NAME/data.json`)."""
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError as error:
        raise UsageError(f"{path} is not JSON ({error})") from None
    if not isinstance(document, dict):
        missing = ["study"]
    else:
        missing = [k for k in ("name", "kind", "direction", "trials") if k not in document]
        trials = document.get("trials")
        if not missing and not (
            isinstance(trials, list)
            and all(isinstance(t, dict) and set(t) >= TRIAL_KEYS for t in trials)
        ):
            missing = [f"trials with {', '.join(sorted(TRIAL_KEYS))}"]
    if missing:
        raise UsageError(
            f"{path} is not a study report's data.json (no {', '.join(missing)}); pass"
            " reports/NAME/data.json as `python -m search.report` wrote it"
        )
    return document


def finished(document: dict) -> list[dict]:
    """The report's trials that restore writes back: COMPLETE ones with a value, and PRUNED
    ones (stopped by the pruner, over a limit, invalid, diverged), so that a resumed study
    neither runs their parameters again nor spends its budget anew."""
    return [
        t
        for t in document["trials"]
        if (t["state"] == "COMPLETE" and t["value"] is not None) or t["state"] == "PRUNED"
    ]


def check_study(optuna_study: optuna.Study, document: dict) -> None:
    """UsageError when the stored study and the report's disagree on what a trial means."""
    name, attrs = optuna_study.study_name, optuna_study.user_attrs
    if attrs.get("kind") and attrs["kind"] != document["kind"]:
        raise UsageError(
            f"study {name!r} here is of kind {attrs['kind']}, the report's of kind"
            f" {document['kind']}; nothing restored"
        )
    if optuna_study.direction.name.lower() != document["direction"]:
        raise UsageError(f"study {name!r} here and the report optimise in other directions")
    ours, theirs = attrs.get(SETTINGS_KEY), document.get("settings")
    if ours is not None and theirs is not None and ours != theirs:
        differ = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
        raise UsageError(
            f"study {name!r} here was created with other settings than the report's"
            f" ({', '.join(differ)}); nothing restored"
        )


def planned(optuna_study: optuna.Study, document: dict, source: str) -> list[FrozenTrial]:
    """The report's finished trials as trials to add, after every check (nothing written)."""
    check_study(optuna_study, document)
    existing = [t for t in optuna_study.get_trials(deepcopy=False) if t.state != TrialState.FAIL]
    known = _known_distributions(existing)
    taken: list[tuple[dict, FrozenTrial | None]] = [(queued_params(t), t) for t in existing]
    runs = finished(document)
    if not runs:
        raise UsageError(f"{source} holds no finished trial to restore")
    trials = []
    for run in map(partial(_with_image_count, document), runs):
        twin = next((trial for params, trial in taken if params == run["sampled"]), False)
        if twin is not False:
            raise UsageError(_taken_text(twin, optuna_study.study_name, run))
        taken.append((run["sampled"], None))
        _check_same_net(run, existing)
        trials.append(_trial(run, _distributions(run, known, source), document, source))
    return trials


def _with_image_count(document: dict, run: dict) -> dict:
    """The run, with the training-image count of its report's summary when the run itself does
    not carry one (reports written before 2026-11-28) and the summary names a single count."""
    counts = (document.get("summary") or {}).get("train_images") or []
    if run.get("train_images") is None and run.get("spec") is not None and len(counts) == 1:
        return {**run, "train_images": counts[0]}
    return run


def _taken_text(trial: FrozenTrial | None, name: str, run: dict) -> str:
    where = f"the report's trial {run['number']} ({run['sampled']})"
    if trial is None:
        return f"the report holds two finished trials with the parameters of {where}"
    if trial.state == TrialState.WAITING:
        return (
            f"trial {trial.number} of study {name!r} here is queued with the parameters of"
            f" {where}: restore into a storage before running these seeds there (or into a new"
            " storage); nothing restored"
        )
    return (
        f"trial {trial.number} of study {name!r} here already has the parameters of {where};"
        " nothing restored (restored before?)"
    )


def _trial(run: dict, distributions: dict, document: dict, source: str) -> FrozenTrial:
    attrs = {
        stored_key(field): run[key] for key, field in _FIELDS.items() if run.get(key) is not None
    }
    attrs[stored_key("end")] = run.get("end_kind") or (
        End.COMPLETE.value if run["state"] == "COMPLETE" else End.PRUNED.value
    )
    attrs[stored_key("imported_from")] = run.get("imported_from") or {
        "report": source,
        "storage": document.get("storage"),
        "study": document["name"],
        "uuid": document.get("uuid"),
        "number": run["number"],
    }
    complete = run["state"] == "COMPLETE"
    return optuna.trial.create_trial(
        state=TrialState.COMPLETE if complete else TrialState.PRUNED,
        value=run["value"] if complete else None,
        params=run["sampled"],
        distributions=distributions,
        user_attrs=attrs,
    )


def _known_distributions(trials: list[FrozenTrial]) -> dict[str, BaseDistribution]:
    known: dict[str, BaseDistribution] = {}
    for trial in trials:
        for name, distribution in trial.distributions.items():
            known.setdefault(name, distribution)
    return known


def _distributions(run: dict, known: dict, source: str) -> dict[str, BaseDistribution]:
    """Each parameter's distribution: the report's (written since 2026-11-28), else the one the
    study here already uses (the storage refuses a parameter whose distribution changes)."""
    stored = run.get("distributions") or {}
    found = {}
    for name in run["sampled"]:
        if name in stored:
            found[name] = json_to_distribution(stored[name])
            if name in known:
                try:
                    check_distribution_compatibility(known[name], found[name])
                except ValueError:
                    raise UsageError(
                        f"{source}: parameter {name!r} of trial {run['number']} was drawn from"
                        f" {found[name]}, the study here draws it from {known[name]}: not one"
                        " study's runs; nothing restored"
                    ) from None
            known.setdefault(name, found[name])
        elif name in known:
            found[name] = known[name]
        else:
            raise UsageError(
                f"{source} does not say how parameter {name!r} was drawn (a report written"
                " before reports stored it) and no trial here has it: start the study here"
                " first (python -m search.run with the same options), then restore"
            )
    return found


def _check_same_net(run: dict, existing: list[FrozenTrial]) -> None:
    """A run of a net also run here (same parameters but the seed) must have trained the same
    spec with the same recipe but the seed, on as many images: else the two are not one study's
    runs."""
    if run.get("spec") is None:  # not built (an invalid proposal): nothing to compare
        return
    unseeded = {k: v for k, v in run["sampled"].items() if k != "seed"}
    for trial in existing:
        spec, recipe = trial.user_attrs.get("spec"), trial.user_attrs.get("recipe")
        if spec is None or {k: v for k, v in trial.params.items() if k != "seed"} != unseeded:
            continue
        counts = [(trial.user_attrs.get(k), run.get(k)) for k in ("train_images", "val_images")]
        other_counts = any(here is not None and there is not None and here != there
                           for here, there in counts)  # fmt: skip
        if (
            spec != run.get("spec")
            or _but_seed(recipe) != _but_seed(run.get("recipe"))
            or other_counts
        ):
            raise UsageError(
                f"the report's trial {run['number']} ({unseeded}) trained another net, recipe"
                f" or number of images than trial {trial.number} here; nothing restored"
            )
        return


def _but_seed(recipe: dict | None) -> dict | None:
    return None if recipe is None else {k: v for k, v in recipe.items() if k != "seed"}
