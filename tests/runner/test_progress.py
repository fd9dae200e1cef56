"""How a run ends (search.runner.progress): the one auto-confirmation rule for both paths."""

from __future__ import annotations

import dataclasses
import time

import pytest

from search.run_options import build_parser, options_from
from search.runner.progress import confirm_after, untimed
from studies import STUDIES


@pytest.mark.parametrize(
    ("stopped_by", "auto", "expected"),
    [
        ("budget", True, 3),
        ("budget", False, 0),  # --no-confirm
        ("timeout", True, 0),
        ("interruption or timeout", True, 0),
        ("failures", True, 0),
        ("rejections", True, 0),
    ],
)
def test_a_search_confirms_its_top_3_only_when_its_budget_is_spent(stopped_by, auto, expected):
    assert STUDIES["cnn20k"].confirm_top == 3
    assert confirm_after(STUDIES["cnn20k"], stopped_by, auto) == expected


def test_studies_that_confirm_nothing_never_do():
    assert STUDIES["baseline"].confirm_top == 0
    assert confirm_after(STUDIES["baseline"], "budget") == 0
    assert confirm_after(STUDIES["lr-sweep"], "budget") == 0  # a toy study: no confirm_top
    one = dataclasses.replace(STUDIES["cnn20k"], confirm_top=1)
    assert confirm_after(one, "budget") == 1


def parsed(*argv: str):
    args = build_parser().parse_args(argv)
    args.argv = argv  # as search.run.main records them
    return options_from(args)


def test_timeout_is_one_deadline_from_the_commands_start_and_the_confirmation_runs_whole():
    before = time.time()
    options = parsed("--study", "cnn20k", "--timeout", "90")
    assert options.timeout == 90 and before + 90 <= options.deadline <= time.time() + 90
    assert (untimed(options).timeout, untimed(options).deadline) == (None, None)
    assert untimed(options).storage == options.storage and untimed(options).trials is None
    plain = parsed("--study", "cnn20k")
    assert (plain.timeout, plain.deadline) == (None, None)
