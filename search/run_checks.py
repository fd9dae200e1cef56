"""The options of `python -m search.run` that the chosen study or mode would ignore: each one is
a UsageError naming it, so that nothing given on the command line is silently dropped.
"""

from __future__ import annotations

from search.errors import UsageError


def check_used(args, study) -> None:
    """An option this study or mode would ignore is a UsageError naming it."""
    for problem in unused(args, study):
        raise UsageError(problem)


def unused(args, study) -> list[str]:
    """Each option given that the study or the mode (--replay, --export) would ignore."""
    return _unused_by_study(args, study) + _unused_by_mode(args)


def _unused_by_study(args, study) -> list[str]:
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
    for option in ("epochs", "train_limit", "test_limit"):
        if getattr(args, option) is not None and not study.needs_data:
            found.append(f"--{option.replace('_', '-')}: {name} trains on no data")
    if (args.max_params or args.max_flops) and not cnn:
        found.append(f"--max-params/--max-flops: {name} trains no CNN (they apply to CNN studies)")
    return found


def _unused_by_mode(args) -> list[str]:
    found = []
    mode = "--replay" if args.replay is not None else "--export" if args.export else None
    if mode:  # a stored trial is retrained or written as it was stored
        for option in ("trials", "timeout", "seeds", "epochs", "train_limit", "test_limit",
                       "val_size"):  # fmt: skip
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                found.append(f"{flag} does not apply to {mode} (the trial runs as stored)")
        if args.no_confirm:
            found.append(f"--no-confirm does not apply to {mode}")
    for option in ("confirmation_seed", "force", "no_onnx"):
        if getattr(args, option) not in (None, False) and mode != "--export":
            found.append(f"--{option.replace('_', '-')} applies to --export only")
    return found
