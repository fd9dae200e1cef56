"""The recipe study: a fixed net (the baseline or a stored trial's), its recipe searched."""

from __future__ import annotations

import dataclasses

import optuna
import pytest
from optuna.trial import TrialState
from run_args import tiny_options

from archs import BASELINE
from search.errors import UsageError
from search.runner.confirm import confirm
from search.runner.session import run_study
from search.store.trials import stored_proposal
from search.study.definitions import Proposal, RunOptions
from search.study.recipe import REFERENCE_RECIPE, Recipe
from studies import STUDIES
from studies.recipe import RECIPE_SPACE, params_for, sampler

STUDY = STUDIES["recipe"]


def test_the_baseline_recipe_is_the_warm_start_and_the_net_never_changes(tmp_path):
    options = RunOptions(storage=f"sqlite:///{tmp_path / 'none-yet.db'}")
    study = STUDY.configure(options)
    assert study.name == "recipe.baseline"
    (warm,) = study.enqueued(options)  # no storage file yet: no sibling recipes
    assert study.sample(optuna.trial.FixedTrial(warm)) == Proposal(BASELINE, REFERENCE_RECIPE)
    assert "none" in study.space.schedules  # the baseline has no schedule
    drawn = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=5))
    recipes = set()
    for _ in range(20):
        trial = drawn.ask()
        proposal = study.sample(trial)
        drawn.tell(trial, 0.0)
        assert proposal.spec == BASELINE
        assert proposal.recipe.epochs == REFERENCE_RECIPE.epochs == 19
        assert set(trial.params) == set(warm)  # the same columns for every trial
        recipes.add(proposal.recipe)
    assert len(recipes) == 20


def test_a_base_value_outside_the_space_is_added_to_its_choices():
    odd = REFERENCE_RECIPE.replace(lr=0.9, batch_size=256, weight_decay=0.3, augment_degrees=4.0)
    space = RECIPE_SPACE.including(odd)
    assert space.lr == (RECIPE_SPACE.lr[0], 0.9)
    assert space.batch_sizes == (*RECIPE_SPACE.batch_sizes, 256)
    assert space.weight_decays[-1] == 0.3 and space.augment_degrees[-1] == 4.0
    assert space.optimizers == RECIPE_SPACE.optimizers  # sgd is there already
    assert params_for(odd)["lr"] == 0.9


def test_bad_base_options_are_one_line_errors():
    with pytest.raises(UsageError, match="--base trial:N needs a trial number, got 'trial:x'"):
        STUDY.configure(RunOptions(base="trial:x"))
    with pytest.raises(UsageError, match="--base 'nonsense': no such file"):
        STUDY.configure(RunOptions(base="nonsense"))
    with pytest.raises(UsageError, match="needs --from STUDY"):
        STUDY.configure(RunOptions(base="trial:0"))


def test_a_stored_trials_net_is_tuned_from_its_own_recipe_and_confirmed(
    tmp_path, data_root, monkeypatch
):
    monkeypatch.setenv("SEARCH_RUN_DIR", str(tmp_path / "runs"))
    options = tiny_options(
        tmp_path, data_root, train_limit=512, val_size=256, trials=1, seeds=(1,)
    )
    run_study(STUDIES["cnn20k"], options)  # trial 0: the baseline, enqueued
    source = optuna.load_study(study_name="cnn20k", storage=options.storage).trials[0]
    base_spec, base_recipe = stored_proposal(source)
    tuned = dataclasses.replace(options, trials=3, base="trial:0", base_study="cnn20k")
    study = STUDY.configure(tuned)
    assert study.name == "recipe.cnn20k-trial0" and study.base_spec == base_spec
    summary = run_study(study, tuned)
    assert summary.stopped_by == "budget"
    stored = optuna.load_study(study_name=study.name, storage=options.storage)
    trials = sorted(stored.trials, key=lambda t: t.number)
    assert [t.state for t in trials].count(TrialState.RUNNING) == 0 and len(trials) == 3
    proposals = [stored_proposal(t) for t in trials]
    assert all(spec == base_spec for spec, _ in proposals)
    first = proposals[0][1]
    assert first.replace(seed=0) == base_recipe.replace(seed=0, epochs=1)  # the warm start
    assert len({recipe.replace(seed=0) for _, recipe in proposals}) == 3
    assert all(t.user_attrs["val_images"] == 256 for t in trials)
    summaries = confirm(study, tuned, 1, lambda event: None)
    companion = optuna.load_study(study_name=study.name + ".confirm", storage=options.storage)
    assert len(summaries) == 1 and [t.state for t in companion.trials] == [TrialState.COMPLETE]
    assert stored_proposal(companion.trials[0])[0] == base_spec


def stored_study(storage: str, name: str, scored: list[tuple[float, Recipe]]) -> None:
    """A study in a real storage with one complete trial per (validation score, recipe), each
    drawn through the recipe study's sampler (no training: only the stored values matter)."""
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
    for value, recipe in scored:
        study.enqueue_trial(params_for(recipe))
        trial = study.ask()
        sample = sampler(BASELINE, REFERENCE_RECIPE, STUDY.space.including(recipe))
        assert sample(trial).recipe == recipe
        study.tell(trial, value)


def test_the_best_recipe_of_each_other_recipe_study_is_enqueued_after_the_bases(tmp_path):
    storage = f"sqlite:///{tmp_path / 'runs.db'}"
    winner = REFERENCE_RECIPE.replace(optimizer="adamw", lr=0.0037, schedule="onecycle")
    other = REFERENCE_RECIPE.replace(batch_size=128, augment_degrees=7.0)
    odd = REFERENCE_RECIPE.replace(batch_size=256)  # outside the space: added to its choices
    stored_study(storage, "recipe.cnn6k-trial0", [(99.1, other), (99.4, winner)])
    stored_study(storage, "recipe.cnn6k-trial0.confirm", [(99.9, other)])  # not a recipe study
    stored_study(storage, "cnn20k", [(99.9, other)])  # nor this
    stored_study(storage, "recipe.cnn6k-trial9", [(98.0, REFERENCE_RECIPE)])  # the base's: once
    stored_study(storage, "recipe.z", [(97.0, odd)])
    options = RunOptions(storage=storage)
    study = STUDY.configure(options)
    assert study.name == "recipe.baseline"
    expected = [params_for(REFERENCE_RECIPE), params_for(winner), params_for(odd)]
    assert study.enqueued(options) == expected
    assert 256 in study.space.batch_sizes
    assert study.sample(optuna.trial.FixedTrial(expected[2])).recipe == odd
    # The stored study does not list itself.
    stored_study(storage, "recipe.baseline", [(99.8, other)])
    assert STUDY.configure(options).enqueued(options) == expected


def test_a_recipe_summarises_in_one_line_what_a_recipe_search_varies():
    assert REFERENCE_RECIPE.summary == "sgd 0.1 none b64"
    winner = REFERENCE_RECIPE.replace(
        optimizer="adamw",
        lr=0.0037344,
        schedule="onecycle",
        batch_size=32,
        weight_decay=1e-4,
        augment_degrees=15.0,
        augment_translate=0.05,
    )
    assert winner.summary == "adamw 0.0037 onecycle b32 wd0.0001 rot15 shift0.05"
