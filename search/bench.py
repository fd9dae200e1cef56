"""`python -m search.bench`: speed of the training paths, measured in one process, as ratios.

`data` (default): the baseline network, batch 64, the same real MNIST images, three paths:
  (a) conventional: a map-style Dataset of normalised per-sample tensors through
      DataLoader(shuffle=True), the literal reference module (nn.Dropout), fp32, eager;
  (b) compute floor: forward + backward + step of that module on pre-made batches;
  (c) the engine's default path: search.engine.train.train (tensor-indexed batches, channels_last,
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
`--device cuda` (search.benchmarks.gpu): `data` gives images/s of the baseline and of the
<= 5,000-parameter winner at their batch sizes, fp32 and bf16, and the host-device
synchronisations per epoch; `workers` gives trials/hour with 1, 2, 4, ... --workers processes
sharing the GPU, and the best count.
"""

from __future__ import annotations

import os
import sys

from search.cli import Parser, main_guard, positive_int

PROG = "python -m search.bench"


def build_parser(prog: str = PROG) -> Parser:
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
        "--device",
        default="cpu",
        choices=("cpu", "cuda"),
        help="cpu: the paths above, as ratios; cuda: the GPU path (images/s, syncs per epoch,"
        " trials/hour per worker count)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        help="workers to compare with 1 (default 2); with --device cuda: compare 1, 2, 4, ..."
        " up to this (default 8)",
    )
    parser.add_argument(
        "--train-images", type=positive_int, default=60000, help="per trial (workers)"
    )
    parser.add_argument(
        "--trials", type=positive_int, help="trials per run (workers; default 4, cuda: 8)"
    )
    parser.add_argument(
        "--json", metavar="FILE", help="--device cuda: also write the numbers here"
    )
    parser.add_argument(
        "--repeats", type=positive_int, default=2, help="runs of each configuration (workers)"
    )
    return parser


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.offline:  # the runs and processes the bench starts inherit it
        os.environ["MNIST_OFFLINE"] = "1"
    if args.device == "cuda":
        return main_guard(prog, lambda: bench_cuda(args))
    if args.json:
        parser.error("--json: only with --device cuda")
    args.workers, args.trials = args.workers or 2, args.trials or 4
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


def bench_cuda(args) -> int:
    from search.benchmarks import gpu as bench_gpu

    if args.what == "workers":
        top = args.workers or 8
        counts = tuple(c for c in bench_gpu.WORKER_COUNTS + (top,) if c <= top)
        trials = args.trials or max(8, top)
        return bench_gpu.bench_workers_device(
            args.data_root,
            "cuda",
            tuple(sorted(set(counts))),
            args.train_images,
            trials,
            args.json,
        )
    return bench_gpu.bench_device(args.data_root, "cuda", args.batches, args.json)


def bench_workers(*args, **kwargs) -> int:
    from search.benchmarks.cpu import bench_workers as measure

    return measure(*args, **kwargs)


def bench_data(*args, **kwargs) -> int:
    from search.benchmarks.cpu import bench_data as measure

    return measure(*args, **kwargs)


if __name__ == "__main__":
    sys.exit(main())
