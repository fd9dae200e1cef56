"""A seeded generator of valid specs that exercises every option the spec has.

Only geometry rejections (the map shrinking below one pixel) are retried; any other SpecError from
a generated spec is a bug in the generator or the spec and fails the caller.
"""

from __future__ import annotations

import random

from archs import ArchSpec, SpecError, Transition
from archs.spec import BN_POSITIONS, DROPOUT_PLACES, HEADS, PADDINGS, POOLS

WIDTHS = (4, 6, 8, 12, 16)  # small: many specs build and run in milliseconds
DROPOUTS = (0.0, 0.05, 0.1, 0.25)


def random_spec(rng: random.Random, vary_io: bool = False) -> ArchSpec:
    """A valid spec drawn from `rng`; `vary_io` also varies in_channels, input_size, classes."""
    while True:
        blocks = tuple(
            tuple(rng.choice(WIDTHS) for _ in range(rng.randint(1, 3)))
            for _ in range(rng.randint(1, 4))
        )
        transitions = tuple(
            Transition(
                pool=rng.choice(POOLS), pool_bn=rng.random() < 0.5, width=rng.choice((0, 0, 4, 8))
            )
            for _ in blocks[1:]
        )
        dropout = rng.choice(DROPOUTS) if rng.random() < 0.8 else round(rng.uniform(0.01, 0.5), 3)
        io = {}
        if vary_io:
            io = {
                "in_channels": rng.choice((1, 3)),
                "input_size": rng.choice((20, 28, 32)),
                "classes": rng.choice((2, 10)),
            }
        try:
            return ArchSpec(
                blocks=blocks,
                transitions=transitions,
                padding=tuple(rng.choice(PADDINGS) for _ in blocks),
                bn=rng.choice(BN_POSITIONS),
                dropout=dropout,
                dropout_at=rng.choice(DROPOUT_PLACES),
                head=rng.choice(HEADS),
                bias=rng.choice((True, False, "needed")),
                **io,
            )
        except SpecError as error:
            assert all("collapses" in problem for problem in error.problems), error


def random_specs(count: int, seed: int, vary_io: bool = False) -> list[ArchSpec]:
    rng = random.Random(seed)
    return [random_spec(rng, vary_io) for _ in range(count)]
