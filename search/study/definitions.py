"""Study definitions: the frozen data a study file declares, and what a run may change.

A study file, inside the package (studies/) or anywhere else (`python -m search.run --study
path/to/my_study.py`), imports these through the package:

    from search.study import REFERENCE_RECIPE, ArchSpec, CnnStudy, Limits, Proposal, Recipe

`CnnStudy` searches (or repeats) CNNs: its `sample(trial) -> Proposal` is the only place that
calls `trial.suggest_*`. `ToyStudy` drives the Part-A toy network. Both name their sampler and
pruner (seeded), trial budget and direction; the runner in search.runner.session does the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optuna

from archs import ArchSpec
from search.errors import UsageError
from search.study.limits import Limits
from search.study.recipe import Recipe

# MNIST's training and test sets (search.engine.idx reads as many, without Optuna; a test checks)
TRAIN_IMAGES, TEST_IMAGES = 60_000, 10_000
CONFIRM_SUFFIX = ".confirm"  # the companion study holding confirmation runs of study NAME


@dataclass(frozen=True)
class Proposal:
    spec: ArchSpec
    recipe: Recipe


@dataclass(frozen=True)
class RunOptions:
    """What one invocation of the runner may change; None keeps the study's own setting."""

    storage: str | None = None
    trials: int | None = None  # trial budget (see StudyDef.n_trials)
    timeout: float | None = None  # seconds; no new trial starts after it
    deadline: float | None = None  # time.time() after which no new trial starts: --timeout
    # counted once from the command's start, the same for every worker it launches
    data_root: str | None = None
    offline: bool = False  # never fetch missing MNIST files (also $MNIST_OFFLINE=1)
    device: str = "auto"
    epochs: int | None = None  # <= the study's cap
    seed: int | None = None  # study seed: sampler, pruner and per-trial training seeds
    seeds: tuple[int, ...] | None = None  # repeat/confirmation seeds
    train_limit: int | None = None  # first N training images only (quick looks, tests)
    test_limit: int | None = None  # first N test images only (smoke runs, tests: no result)
    val_size: int | None = None
    threads: int | None = None  # torch intra-op threads in this process
    base: str | None = None  # ablation: "baseline" or "trial:N"
    base_study: str | None = None  # ablation: the study trial:N belongs to
    variants: tuple[str, ...] | None = None  # ablation: the variants to run (None: all)
    recipe: str | None = None  # a fixed net's recipe: a JSON file or object (--recipe)
    name: str | None = None  # store the study under this name instead of its own
    max_params: int | None = None  # a tighter parameter budget (inclusive): NAME@N
    max_flops: int | None = None  # a FLOP budget per image (inclusive): NAME@flopsN
    argv: tuple[str, ...] | None = None  # the command's arguments, recorded on the study
    worker: int = 0  # this process's index among the launcher's workers


def configured(study: StudyDef, options: RunOptions) -> StudyDef:
    """The study this invocation runs: configured by its options, its limits tightened by
    --max-params/--max-flops (stored as NAME@N, NAME@flopsM), stored under --name if given."""
    study = study.configure(options)
    if isinstance(study, CnnStudy) and (options.max_params or options.max_flops):
        limits = study.limits.tightened(options.max_params, options.max_flops)
        study = dataclasses.replace(study, limits=limits, name=budget_name(study.name, options))
    return dataclasses.replace(study, name=options.name) if options.name else study


def budget_name(name: str, options: RunOptions) -> str:
    """cnn20k with --max-params 4000 -> cnn20k@4000; with --max-flops 500000 too ->
    cnn20k@4000@flops500000."""
    if options.max_params:
        name += f"@{options.max_params}"
    if options.max_flops:
        name += f"@flops{options.max_flops}"
    return name


def derive_seed(study_seed: int, trial_number: int) -> int:
    """A trial's training seed from the study seed and its number: same for any worker."""
    return (study_seed * 1_000_003 + trial_number) % 2**31


@dataclass(frozen=True)
class StudyDef:
    name: str
    description: str
    direction: str  # maximize | minimize
    # Trial budget: complete + pruned trials. A search (rejections_free) does not count the
    # proposals rejected before training (over a limit, invalid spec): they cost no training.
    n_trials: int
    seed: int
    make_sampler: Callable[[int], optuna.samplers.BaseSampler]
    make_pruner: Callable[[int], optuna.pruners.BasePruner] = lambda seed: (
        optuna.pruners.NopPruner()
    )
    needs_data: bool = True
    source: str | None = None  # the file that defined a study from outside the package
    source_sha256: str | None = None  # of that file's text, recorded on the stored study
    # What the study is run on, in words (an ablation's base net and recipe), stored on the
    # study when it is created, so a report says it without reading it back from the name.
    about: str | None = None

    def enqueued(self, options: RunOptions) -> list[dict[str, Any]]:
        """Parameter sets to run before sampling (warm starts, one per seed, ...)."""
        return []

    def configure(self, options: RunOptions) -> StudyDef:
        """The study this invocation runs (a study with options such as --base resolves them)."""
        return self

    def budget(self, options: RunOptions) -> int:
        return options.trials if options.trials is not None else self.n_trials

    @property
    def rejections_free(self) -> bool:
        """Whether trials rejected before training stay out of the budget (sampling searches)."""
        return False

    @property
    def kind(self) -> str:
        """What the study is, stored on it when created, so a report never guesses: search,
        repeat, ablation, companion (a confirmation) or lr-sweep."""
        return "other"

    @property
    def score_text(self) -> str:
        """What a trial's value is, in one sentence (stored with the kind, shown by reports)."""
        return "The value (score) is the study's objective at the best validation epoch."


@dataclass(frozen=True)
class CnnStudy(StudyDef):
    sample: Callable[[optuna.trial.BaseTrial], Proposal] = None  # type: ignore[assignment]
    limits: Limits = field(default_factory=Limits)
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)  # confirmation seeds (or repeat seeds)
    val_size: int = 10_000  # validation split carved from training; 0 = train on all
    value: str = "best_val_acc"  # best_val_acc | final_test_acc (repeat studies: no selection)
    repeat_seeds: bool = False  # one trial per seed, seed as the trial's "seed" param
    queue_only: bool = False  # run exactly the enqueued trials (confirmation); --trials ignored
    warm_start: tuple[dict[str, Any], ...] = ()  # params enqueued first
    confirm_top: int = 0  # confirm this many winners when the trial budget ends
    # Selection pressure towards small nets, on top of the hard limits: the trial's score is
    # val_acc - params_penalty * max(0, params - params_target) / 1000 (accuracy points).
    params_target: int | None = None
    params_penalty: float = 0.0  # accuracy points per 1,000 parameters over params_target

    def score(self, val_acc: float, params: int) -> float:
        if self.params_target is None or params <= self.params_target:
            return val_acc
        return val_acc - self.params_penalty * (params - self.params_target) / 1000

    def val_images(self, options: RunOptions) -> int:
        """The validation split this run carves: --val-size, except that a study training on
        all images (val_size 0) keeps doing so."""
        if self.val_size and options.val_size is not None:
            return options.val_size
        return self.val_size

    def run_seeds(self, options: RunOptions) -> tuple[int, ...]:
        return tuple(options.seeds) if options.seeds else self.seeds

    def enqueued(self, options: RunOptions) -> list[dict[str, Any]]:
        if self.repeat_seeds:
            return [{"seed": seed} for seed in self.run_seeds(options)]
        return list(self.warm_start)

    def budget(self, options: RunOptions) -> int:
        if self.repeat_seeds or self.queue_only:
            return len(self.enqueued(options))
        return super().budget(options)

    @property
    def kind(self) -> str:
        if self.name.endswith(CONFIRM_SUFFIX):
            return "companion"
        return "repeat" if self.repeat_seeds else "search"

    @property
    def score_text(self) -> str:
        if self.value == "final_test_acc":
            return "The value is the final epoch's test accuracy (nothing is selected on it)."
        if self.params_target is None:
            return super().score_text
        return (
            "The score ranks trials: best validation accuracy minus"
            f" {self.params_penalty:g} points per 1,000 parameters over"
            f" {self.params_target:,} (see studies/{self.name.split('@')[0]}.py)."
        )

    @property
    def rejections_free(self) -> bool:
        # A fixed list (seeds, ablation variants, a confirmation) runs each entry once, rejected
        # or not; a search keeps sampling until that many proposals have trained.
        return not (self.repeat_seeds or self.queue_only)


@dataclass(frozen=True)
class ToyStudy(StudyDef):
    """The Part-A toy network: gradient descent at each learning rate of a grid."""

    learning_rates: tuple[float, ...] = ()
    steps: int = 100
    needs_data: bool = False

    @property
    def kind(self) -> str:
        return "lr-sweep"

    @property
    def score_text(self) -> str:
        return "The value is E_total after the last gradient step (lower is better)."


def validate_options(study: StudyDef, options: RunOptions) -> None:
    """Option values that make no sense for this study: UsageError, before anything is written."""
    if isinstance(study, CnnStudy):
        cap = study.limits.max_epochs
        if options.epochs is not None and not 1 <= options.epochs <= cap:
            raise UsageError(
                f"--epochs must be in 1..{cap} (the study's cap), got {options.epochs}"
            )
        if study.val_size and options.val_size == 0:
            raise UsageError(
                f"--val-size 0: {study.name} selects and prunes on a validation split; give"
                f" 1..{TRAIN_IMAGES - 1} images (default {study.val_size})"
            )
    for name in ("trials", "train_limit", "threads"):
        value = getattr(options, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be a positive integer, got {value}")
    if options.timeout is not None and options.timeout <= 0:
        raise UsageError(f"--timeout must be a positive number of seconds, got {options.timeout}")
    if options.test_limit is not None and not 1 <= options.test_limit <= TEST_IMAGES:
        raise UsageError(f"--test-limit must be in 1..{TEST_IMAGES:,}, got {options.test_limit}")
    if options.val_size is not None and not 0 <= options.val_size < TRAIN_IMAGES:
        raise UsageError(f"--val-size must be in 0..{TRAIN_IMAGES - 1}, got {options.val_size}")
    if options.seeds is not None and len(set(options.seeds)) != len(options.seeds):
        raise UsageError(f"--seeds must be distinct, got {list(options.seeds)}")
