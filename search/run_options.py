"""The options of `python -m search.run`: the parser and the RunOptions they make (the options a
study or mode would ignore are search.run_checks'). Imports only the standard library and
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
    _study_options(parser.add_argument_group("study and storage"))
    _budget_options(parser.add_argument_group("budget, limits and time"))
    _training_options(parser.add_argument_group("training"))
    _net_options(
        parser.add_argument_group("the net of a fixed-net study (baseline, ablation, recipe)")
    )
    _mode_options(parser.add_argument_group("after a search: confirm, replay, export"))
    return parser


def _study_options(group) -> None:
    """Which study, where it is stored, and how it shows its progress."""
    group.add_argument("--study", help="study name (see --list)")
    group.add_argument(
        "--name",
        help="store the study under NAME (a second, independent study of the same definition,"
        " e.g. with other --epochs or --train-limit)",
    )
    group.add_argument("--list", action="store_true", help="list the studies and exit")
    add_storage(group)
    group.add_argument("--plain", action="store_true", help="line-per-event output, no live view")


def _budget_options(group) -> None:
    """How much it may run, and what a net may cost."""
    group.add_argument(
        "--trials",
        type=positive_int,
        help="trial budget: trials that train (proposals rejected before training are free)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        help="seconds from the command's start after which no new trial starts (the trials"
        " running then finish; the confirmation of a search that spent its budget runs whole)",
    )
    group.add_argument(
        "--max-params",
        type=positive_int,
        metavar="N",
        help="a parameter budget: at most N (inclusive), checked before training; the study is"
        " stored as NAME@N",
    )
    group.add_argument(
        "--max-flops",
        type=positive_int,
        metavar="N",
        help="a FLOP budget per image (fvcore): at most N, checked before training; stored as"
        " NAME@flopsN",
    )


def _training_options(group) -> None:
    """Data, device, epochs, seeds and processes."""
    group.add_argument(
        "--data-root", help="folder holding MNIST/raw/ (default: $MNIST_ROOT, else ./data)"
    )
    group.add_argument(
        "--offline",
        action="store_true",
        help="never fetch MNIST: missing files are an error (also $MNIST_OFFLINE=1); by default"
        " missing files are fetched, hash-checked, from the public mirrors or $MNIST_MIRROR",
    )
    group.add_argument(
        "--device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="where trials train; auto: cuda when a GPU is visible, else cpu",
    )
    group.add_argument("--epochs", type=positive_int, help="epochs per trial (<= the study's cap)")
    group.add_argument("--seed", type=int, help="study seed: sampler, pruner, training seeds")
    group.add_argument(
        "--seeds", type=int, nargs="+", help="seeds for repeat, ablation and confirmation runs"
    )
    group.add_argument("--train-limit", type=positive_int, help="train on the first N images only")
    group.add_argument(
        "--test-limit",
        type=positive_int,
        help="evaluate on the first N of the 10,000 test images only (a smoke run's speed; such"
        " accuracies are no result)",
    )
    group.add_argument(
        "--val-size",
        type=int,
        help="validation images carved from training (search studies; default 10000)",
    )
    group.add_argument("--threads", type=positive_int, help="torch threads in this process")
    group.add_argument(
        "--workers",
        type=workers_arg,
        default="auto",
        help="worker processes on this machine sharing the storage; auto (default): one per"
        " core (max 8), each with 1 torch thread, on CPU; on a GPU, the count measured best"
        " there (see README)",
    )


def _net_options(group) -> None:
    """The net, recipe and variants of a study that trains a fixed net."""
    group.add_argument(
        "--base",
        help="baseline, ablation, recipe: the net, 'baseline' (default), 'trial:N' with --from,"
        " or a spec as a JSON file or object (an exported spec.json brings its recipe)",
    )
    group.add_argument(
        "--recipe",
        metavar="FILE",
        help="baseline, ablation: the recipe of the --base net, a JSON file or object of recipe"
        " fields or an exported spec.json (default: the --base file's, else the reference's)",
    )
    group.add_argument(
        "--from",
        dest="base_study",
        metavar="STUDY",
        help="ablation, recipe: the study whose trial --base trial:N names",
    )
    group.add_argument(
        "--variants",
        nargs="+",
        metavar="NAME",
        help="ablation: the variants to run (default: every one that changes the base)",
    )


def _mode_options(group) -> None:
    """The modes that follow a search (one at a time)."""
    modes = group.add_mutually_exclusive_group()
    modes.add_argument(
        "--confirm",
        type=positive_int,
        metavar="K",
        help="retrain the top K trials on all training images, once per seed",
    )
    group.add_argument(
        "--no-confirm",
        action="store_true",
        help="do not confirm the winners when the trial budget ends",
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
    group.add_argument(
        "--confirmation-seed",
        type=int,
        metavar="S",
        help="--export: the weights of trial N's confirmation run with seed S (all training"
        " images) instead of the search trial's",
    )
    group.add_argument(
        "--force", action="store_true", help="--export: replace an earlier export in DIR"
    )
    group.add_argument(
        "--no-onnx",
        action="store_true",
        help="--export: write no model.onnx (its export and check take 10-20 s on a 2-core CPU)",
    )


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
        test_limit=args.test_limit,
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


def export_trial_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--export N DIR: N must be a trial number, got {text!r}") from None
