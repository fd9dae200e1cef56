"""The options of `python -m search.run`: the parser, the RunOptions they make, and the options
a study or mode would ignore (each an error naming it). Imports only the standard library and
search.cli, so the command parses its arguments, and starts its workers, before the heavy
imports.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from search.cli import Parser, add_storage, positive_int
from search.errors import UsageError

if TYPE_CHECKING:
    from search.study.definitions import RunOptions

PROG = "python -m search.run"


def build_parser(prog: str = PROG) -> Parser:
    parser = Parser(
        prog=prog,
        description="Run or resume an architecture-search study stored in an Optuna storage.",
        epilog="Examples: --list | --study cnn20k | --study baseline --seeds 1 2 3 4 5 |"
        " --study cnn20k --workers 2 | --study cnn20k --confirm 3 | --study cnn20k --replay 7 |"
        " --study recipe --base trial:0 --from cnn6k",
    )
    parser.add_argument("--study", help="study name (see --list)")
    parser.add_argument(
        "--name",
        help="store the study under NAME (a second, independent study of the same definition,"
        " e.g. with other --epochs or --train-limit)",
    )
    parser.add_argument("--list", action="store_true", help="list the studies and exit")
    add_storage(parser)
    parser.add_argument(
        "--trials",
        type=positive_int,
        help="trial budget: trials that train (proposals rejected before training are free)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        help="seconds from the command's start after which no new trial starts (the trials"
        " running then finish; the confirmation of a search that spent its budget runs whole)",
    )
    parser.add_argument(
        "--data-root", help="folder holding MNIST/raw/ (default: $MNIST_ROOT, else ./data)"
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="never fetch MNIST: missing files are an error (also $MNIST_OFFLINE=1); by default"
        " missing files are fetched, hash-checked, from the public mirrors or $MNIST_MIRROR",
    )
    parser.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="where trials train; auto: cuda when a GPU is visible, else cpu",
    )
    parser.add_argument(
        "--epochs", type=positive_int, help="epochs per trial (<= the study's cap)"
    )
    parser.add_argument("--seed", type=int, help="study seed: sampler, pruner, training seeds")
    parser.add_argument(
        "--seeds", type=int, nargs="+", help="seeds for repeat and confirmation runs"
    )
    parser.add_argument(
        "--train-limit", type=positive_int, help="train on the first N images only"
    )
    parser.add_argument(
        "--max-params",
        type=positive_int,
        metavar="N",
        help="a parameter budget: at most N (inclusive), checked before training; the study is"
        " stored as NAME@N",
    )
    parser.add_argument(
        "--max-flops",
        type=positive_int,
        metavar="N",
        help="a FLOP budget per image (fvcore): at most N, checked before training; stored as"
        " NAME@flopsN",
    )
    parser.add_argument(
        "--val-size",
        type=int,
        help="validation images carved from training (search studies; default 10000)",
    )
    parser.add_argument("--threads", type=positive_int, help="torch threads in this process")
    parser.add_argument(
        "--workers",
        type=workers_arg,
        default="auto",
        help="worker processes on this machine sharing the storage; auto (default): one per"
        " core (max 8), each with 1 torch thread, on CPU; on a GPU, the count measured best"
        " there (see README)",
    )
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument(
        "--confirm",
        type=positive_int,
        metavar="K",
        help="retrain the top K trials on all training images, once per seed",
    )
    parser.add_argument(
        "--no-confirm",
        action="store_true",
        help="do not confirm the winners when the trial budget ends",
    )
    parser.add_argument(
        "--base",
        help="baseline, ablation, recipe: the net, 'baseline' (default), 'trial:N' with --from,"
        " or a spec as a JSON file or object (an exported spec.json brings its recipe)",
    )
    parser.add_argument(
        "--recipe",
        metavar="FILE",
        help="baseline, ablation: the recipe of the --base net, a JSON file or object of recipe"
        " fields or an exported spec.json (default: the --base file's, else the reference's)",
    )
    parser.add_argument(
        "--from",
        dest="base_study",
        metavar="STUDY",
        help="ablation, recipe: the study whose trial --base trial:N names",
    )
    parser.add_argument(
        "--variants",
        nargs="+",
        metavar="NAME",
        help="ablation: the variants to run (default: every one that changes the base)",
    )
    modes.add_argument(
        "--replay", type=int, metavar="N", help="retrain trial N from its stored spec"
    )
    modes.add_argument(
        "--export",
        nargs=2,
        metavar=("N", "DIR"),
        help="write trial N's spec, weights and a standalone module to DIR",
    )
    parser.add_argument(
        "--confirmation-seed",
        type=int,
        metavar="S",
        help="--export: the weights of trial N's confirmation run with seed S (all training"
        " images) instead of the search trial's",
    )
    parser.add_argument(
        "--force", action="store_true", help="--export: replace an earlier export in DIR"
    )
    parser.add_argument("--plain", action="store_true", help="line-per-event output, no live view")
    return parser


def workers_arg(text: str) -> str | int:
    if text == "auto":
        return text
    try:
        return positive_int(text)
    except (ValueError, argparse.ArgumentTypeError):
        raise argparse.ArgumentTypeError(
            f"must be 'auto' or a positive number of processes, got {text!r}"
        ) from None


def options_from(args) -> RunOptions:
    import time

    from search.study.definitions import RunOptions

    return RunOptions(
        storage=args.storage,
        trials=args.trials,
        timeout=args.timeout,
        deadline=time.time() + args.timeout if args.timeout else None,
        data_root=args.data_root,
        offline=args.offline,
        device=args.device,
        epochs=args.epochs,
        seed=args.seed,
        seeds=tuple(args.seeds) if args.seeds else None,
        train_limit=args.train_limit,
        val_size=args.val_size,
        threads=args.threads,
        base=args.base,
        base_study=args.base_study,
        variants=tuple(args.variants) if args.variants else None,
        recipe=args.recipe,
        name=args.name,
        max_params=args.max_params,
        max_flops=args.max_flops,
        argv=args.argv,
    )


def check_used(args, study) -> None:
    """An option this study or mode would ignore is a UsageError naming it."""
    for problem in unused(args, study):
        raise UsageError(problem)


def unused(args, study) -> list[str]:
    from search.study.definitions import CnnStudy

    name = args.study
    cnn = isinstance(study, CnnStudy)
    fixed = cnn and (study.repeat_seeds or study.queue_only)
    confirms = cnn and not fixed and (study.confirm_top or args.confirm is not None)
    found = []
    if (args.base or args.base_study) and not hasattr(study, "base_spec"):
        found.append(
            f"--base/--from: {name} trains no fixed net (they apply to baseline, ablation, recipe)"
        )
    if args.recipe and not (hasattr(study, "base_spec") and name != "recipe"):
        found.append(f"--recipe: {name} has no fixed recipe to replace (baseline, ablation do)")
    if args.variants and not hasattr(study, "variants"):
        found.append(f"--variants applies to the ablation study only, not {name}")
    if args.trials is not None and fixed:
        found.append(
            f"--trials: {name} runs a fixed list (one run per seed or variant); use --seeds"
        )
    if args.seeds and not (fixed or confirms):
        found.append(f"--seeds: {name} uses no seeds (repeat, ablation and confirmation do)")
    if args.no_confirm and not (cnn and not fixed):
        found.append(f"--no-confirm: {name} confirms nothing")
    if args.val_size is not None and not (cnn and study.val_size):
        found.append(f"--val-size: {name} has no validation split (it trains on all images)")
    for option in ("epochs", "train_limit"):
        if getattr(args, option) is not None and not study.needs_data:
            found.append(f"--{option.replace('_', '-')}: {name} trains on no data")
    mode = "--replay" if args.replay is not None else "--export" if args.export else None
    if mode:  # a stored trial is retrained or written as it was stored
        for option in ("trials", "timeout", "seeds", "epochs", "train_limit", "val_size"):
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                found.append(f"{flag} does not apply to {mode} (the trial runs as stored)")
        if args.no_confirm:
            found.append(f"--no-confirm does not apply to {mode}")
    if (args.max_params or args.max_flops) and not cnn:
        found.append(f"--max-params/--max-flops: {name} trains no CNN (they apply to CNN studies)")
    for option in ("confirmation_seed", "force"):
        if getattr(args, option) not in (None, False) and mode != "--export":
            found.append(f"--{option.replace('_', '-')} applies to --export only")
    return found


def export_trial_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--export N DIR: N must be a trial number, got {text!r}") from None
