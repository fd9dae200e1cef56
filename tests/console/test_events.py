"""The event schema: each event type built, sent as a dict and parsed back; bad ones refused."""

from __future__ import annotations

import json

import pytest

from search.events import EVENTS, Done, EpochEnded, Log, parse


def test_an_event_goes_through_json_and_comes_back_equal():
    epoch = EpochEnded(3, 19, 2, 0.12, 96.5, 97.25, 97.8, 12.5, 4321.0, 0.05)
    wire = json.loads(json.dumps(epoch.to_dict()))
    assert wire["type"] == "epoch" and wire["val_acc"] == 97.25
    assert parse(wire) == epoch
    relayed = {**Log("hello").to_dict(), "worker": 1}  # the pool adds the worker's index
    assert parse(relayed) == Log("hello")


def test_unknown_types_and_fields_are_refused_by_name():
    with pytest.raises(ValueError, match="unknown event type 'epochs'"):
        parse({"type": "epochs"})
    done = Done("s", {"COMPLETE": 1}, 1, True, "budget").to_dict()
    with pytest.raises(ValueError, match=r"missing \['stopped_by'\], unknown \['stoped_by'\]"):
        parse({**{k: v for k, v in done.items() if k != "stopped_by"}, "stoped_by": "budget"})
    assert set(EVENTS) == {
        "log", "study", "trial_start", "progress", "epoch", "trial_end", "leaderboard", "done",
    }  # fmt: skip
