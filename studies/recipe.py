"""recipe: tune the training recipe of one fixed architecture, searched with pruning.

`python -m search.run --study recipe --base trial:N --from STUDY` (or `--base baseline`) keeps
the base's architecture and searches how to train it: optimizer, peak learning rate, schedule,
batch size, weight decay, rotation and shift augmentation, at the base's epochs. The base's own
recipe is the warm start (its values are added to the choices if the space lacks them), so the
study starts from what is known and its leaderboard shows whether anything beats it. The best
recipe (on validation) of every other recipe study in the same storage is enqueued next: a
recipe that won on a sibling net is worth one trial on this one. Same rules
as cnn20k: limits before training, selection on the validation split carved from the training
set (test accuracy never ranks), Hyperband per epoch, the winners confirmed on all 60,000
training images over 3 seeds. Stored as `recipe.<study>-trial<N>` (or `recipe.baseline`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial

import optuna

from archs import BASELINE, ArchSpec
from search.study import CnnStudy, Proposal, RunOptions
from search.study.limits import Limits
from search.study.recipe import REFERENCE_RECIPE, Recipe
from studies import cnn20k
from studies.ablation import base_from


@dataclass(frozen=True)
class RecipeSpace:
    """The choices; `lr` is a log-scale range, the rest are lists."""

    optimizers: tuple[str, ...] = ("adamw", "sgd")
    lr: tuple[float, float] = (3e-3, 0.3)
    schedules: tuple[str, ...] = ("onecycle", "step", "none")
    batch_sizes: tuple[int, ...] = (32, 64, 128)
    weight_decays: tuple[float, ...] = (0.0, 1e-5, 1e-4, 5e-4, 1e-3, 1e-2)  # SGD ... AdamW
    augment_degrees: tuple[float, ...] = (0.0, 3.0, 5.0, 7.0, 10.0, 12.0, 15.0)
    augment_translate: tuple[float, ...] = (0.0, 0.03, 0.05, 0.08, 0.1)

    def including(self, recipe: Recipe) -> RecipeSpace:
        """This space with the recipe's values added where missing (so it can be enqueued)."""

        def union(choices: tuple, value) -> tuple:
            return choices if value in choices else (*choices, value)

        low, high = self.lr
        return RecipeSpace(
            optimizers=union(self.optimizers, recipe.optimizer),
            lr=(min(low, recipe.lr), max(high, recipe.lr)),
            schedules=union(self.schedules, recipe.schedule),
            batch_sizes=union(self.batch_sizes, recipe.batch_size),
            weight_decays=union(self.weight_decays, recipe.weight_decay),
            augment_degrees=union(self.augment_degrees, recipe.augment_degrees),
            augment_translate=union(self.augment_translate, recipe.augment_translate),
        )


RECIPE_SPACE = RecipeSpace()


def sampler(spec: ArchSpec, base: Recipe, space: RecipeSpace):
    """`sample(trial)`: the fixed `spec` with a recipe drawn from `space` (the base's epochs,
    momentum and step settings)."""

    def sample(trial: optuna.trial.BaseTrial) -> Proposal:
        recipe = base.replace(
            optimizer=trial.suggest_categorical("optimizer", list(space.optimizers)),
            lr=trial.suggest_float("lr", *space.lr, log=True),
            schedule=trial.suggest_categorical("schedule", list(space.schedules)),
            batch_size=trial.suggest_categorical("batch_size", list(space.batch_sizes)),
            weight_decay=trial.suggest_categorical("weight_decay", list(space.weight_decays)),
            augment_degrees=trial.suggest_categorical(
                "augment_degrees", list(space.augment_degrees)
            ),
            augment_translate=trial.suggest_categorical(
                "augment_translate", list(space.augment_translate)
            ),
        )
        return Proposal(spec, recipe)

    return sample


PARAM_NAMES = (
    "optimizer",
    "lr",
    "schedule",
    "batch_size",
    "weight_decay",
    "augment_degrees",
    "augment_translate",
)


def params_for(recipe: Recipe) -> dict:
    """The trial params that make `sample` return `recipe` (a warm start)."""
    return {name: getattr(recipe, name) for name in PARAM_NAMES}


def sibling_recipes(options: RunOptions, name: str) -> list[Recipe]:
    """The best recipe, ranked on validation, of every other `recipe.*` study stored where this
    one is (by study name; none when the storage file does not exist yet)."""
    from search.store.storage import open_storage, resolve_url, storage_file

    url = resolve_url(options.storage)
    path = storage_file(url)
    if path is not None and not path.is_file():
        return []
    summaries = optuna.get_all_study_summaries(open_storage(url), include_best_trial=True)
    recipes = []
    for summary in sorted(summaries, key=lambda s: s.study_name):
        other, best = summary.study_name, summary.best_trial
        if not other.startswith("recipe.") or other.endswith(".confirm") or other == name:
            continue
        if best is not None and set(PARAM_NAMES) <= set(best.params):
            recipes.append(REFERENCE_RECIPE.replace(**{k: best.params[k] for k in PARAM_NAMES}))
    return recipes


@dataclass(frozen=True)
class RecipeStudy(CnnStudy):
    base_spec: ArchSpec = BASELINE
    base_recipe: Recipe = REFERENCE_RECIPE
    space: RecipeSpace = RECIPE_SPACE

    def configure(self, options: RunOptions) -> RecipeStudy:
        base = base_from(options, prefix="recipe")  # seeds: derived per trial
        name, spec, recipe = base.name, base.spec, base.recipe
        warm = [params_for(recipe)]
        space = self.space.including(recipe)
        for sibling in sibling_recipes(options, name):
            params = params_for(recipe.replace(**params_for(sibling)))
            if params not in warm:
                warm.append(params)
                space = space.including(sibling)
        return dataclasses.replace(
            self,
            name=name,
            about=f"{base.net_text}, its recipe tuned starting from {base.recipe_text}",
            base_spec=spec,
            base_recipe=recipe,
            space=space,
            sample=sampler(spec, recipe, space),
            warm_start=tuple(warm),
        )


# Few random trials before TPE models the space (it has 7 dimensions and a good start point).
make_sampler = partial(cnn20k.make_sampler, startup_trials=6)

STUDY = RecipeStudy(
    name="recipe",
    description="tune the training recipe of a fixed net (--base baseline|trial:N --from S)",
    direction="maximize",
    n_trials=24,
    seed=1,
    make_sampler=make_sampler,
    make_pruner=cnn20k.make_pruner,  # Hyperband rungs at epochs 2 and 6 (18: too late)
    sample=sampler(BASELINE, REFERENCE_RECIPE, RECIPE_SPACE.including(REFERENCE_RECIPE)),
    limits=Limits(max_params=20_000, max_epochs=19, no_fc=True),
    seeds=(1, 2, 3, 4, 5),  # confirmation: a claim needs >= 5 seeds (search.study.claim)
    val_size=10_000,
    warm_start=(params_for(REFERENCE_RECIPE),),
    confirm_top=3,
)
