"""`python -m search.bench`: speed of the training paths, measured in one process, as ratios.

`data` (default): the baseline network, batch 64, the same real MNIST images, three paths:
  (a) conventional: a map-style Dataset of normalised per-sample tensors through
      DataLoader(shuffle=True), the literal reference module (nn.Dropout), fp32, eager;
  (b) compute floor: forward + backward + step of that module on pre-made batches;
  (c) the engine's default path: search.train.train (tensor-indexed batches, channels_last,
      the builder's cheap CPU dropout mask), fp32;
  (d) the engine with bf16 autocast (recipe precision="bf16"), for reference.
It prints images/s, the ratios (c)/(a) and (c)/(b), the process's peak memory, and (unless
--quick) one epoch on all 60,000 images with (a) and (c), (d) to show accuracy is kept.
`workers`: training images per second of a small real study (the baseline repeat study, one
epoch per trial) with 1 worker x all cores and with N single-thread workers, in one run, as
ratios, on two clocks: end to end (the whole command: process start, data loading, training,
the test-set evaluation after each epoch, the wait for the last worker) and in trials (from the
first trial's start to the last trial's end, as stored: what a long study sees per trial). The
two configurations alternate, --repeats times each; the ratios compare the fastest run of each.
Before them, the ceiling: the engine's training loop alone (--batches batches, no storage, no
evaluation) in 1 process x all cores and in N single-thread processes at once.
"""

from __future__ import annotations

import os
import sys

from search.cli import Parser, main_guard, positive_int

PROG = "python -m search.bench"


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    parser = Parser(
        prog=prog,
        description=__doc__.split("\n\n")[0],
        epilog="data: the engine's training path against a conventional DataLoader loop;"
        " workers: 1 worker x all cores against N single-thread workers on a small real study",
    )
    parser.add_argument(
        "what",
        nargs="?",
        default="data",
        choices=("data", "workers"),
        help="data (default): images/s of the training paths, as ratios; workers: trials and"
        " images/s with 1 vs --workers processes",
    )
    parser.add_argument(
        "--data-root", help="folder holding MNIST/raw/ (default: $MNIST_ROOT, else ./data)"
    )
    parser.add_argument(
        "--batches",
        type=positive_int,
        default=300,
        help="batches per path (data) or per training-loop process (workers)",
    )
    parser.add_argument("--quick", action="store_true", help="skip the 1-epoch accuracy check")
    parser.add_argument(
        "--offline", action="store_true", help="never fetch missing MNIST files (an error instead)"
    )
    parser.add_argument(
        "--workers", type=positive_int, default=2, help="workers to compare with 1"
    )
    parser.add_argument(
        "--train-images", type=positive_int, default=60000, help="per trial (workers)"
    )
    parser.add_argument("--trials", type=positive_int, default=4, help="trials per run (workers)")
    parser.add_argument(
        "--repeats", type=positive_int, default=2, help="runs of each configuration (workers)"
    )
    args = parser.parse_args(argv)
    if args.offline:  # the runs and processes the bench starts inherit it
        os.environ["MNIST_OFFLINE"] = "1"
    if args.what == "workers":
        return main_guard(
            prog,
            lambda: bench_workers(
                args.data_root,
                args.workers,
                args.train_images,
                args.trials,
                args.repeats,
                args.batches,
            ),
        )
    return main_guard(
        prog, lambda: bench_data(args.data_root, args.batches, args.quick, args.offline)
    )


def bench_workers(*args, **kwargs) -> int:
    from search.bench_measure import bench_workers as measure

    return measure(*args, **kwargs)


def bench_data(*args, **kwargs) -> int:
    from search.bench_measure import bench_data as measure

    return measure(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
