"""How a study's trial budget is spent: one rule for the runner, the workers and the console.

The budget counts finished trials (COMPLETE + PRUNED); FAIL trials do not use it up, so a failed
trial is replaced. In a search (a study that samples, `StudyDef.rejections_free`), proposals
rejected before training (over a limit, an invalid spec) do not use it up either: they cost no
training, and counting them made a narrow limit train few trials (cnn6k: 48 of 84 budgeted trials
were rejections). They are bounded instead: a search stops once its rejections reach
MAX_REJECTIONS_PER_TRIAL per budgeted trial, since its space is then all but infeasible.
"""

from __future__ import annotations

from collections.abc import Mapping

from search.store.record import REJECTED_ENDS, End

REJECTED = "REJECTED"  # pseudo-state in trial counts: PRUNED before training
INTERRUPTED = "INTERRUPTED"  # pseudo-state: FAIL by Ctrl-C or SIGTERM, counted apart from FAIL
MAX_REJECTIONS_PER_TRIAL = 10


def rejected(state: str, end_kind: str | None) -> bool:
    """Pruned before training, from a trial's state name and end_kind (stored, or an event's)."""
    return state == "PRUNED" and end_kind in REJECTED_ENDS


def state_name(state: str, end_kind: str | None) -> str:
    """The state a trial is counted under: Optuna's, except FAIL by interruption."""
    return INTERRUPTED if state == "FAIL" and end_kind == End.INTERRUPTED else state


def failed_text(counts: Mapping[str, int]) -> str:
    """'2 failed', or '2 failed, 1 interrupted' when a run was stopped."""
    stopped = counts.get(INTERRUPTED, 0)
    return f"{counts['FAIL']} failed" + (f", {stopped} interrupted" if stopped else "")


def used(counts: Mapping[str, int], rejections_free: bool) -> int:
    """The finished trials that use up the budget, from counts per state (and REJECTED)."""
    spent = counts["COMPLETE"] + counts["PRUNED"]
    return spent - counts.get(REJECTED, 0) if rejections_free else spent


def rejections_exhausted(counts: Mapping[str, int], budget: int, rejections_free: bool) -> bool:
    """Whether a search has rejected so many proposals that it should stop sampling."""
    return rejections_free and counts.get(REJECTED, 0) >= MAX_REJECTIONS_PER_TRIAL * budget
