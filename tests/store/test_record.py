"""The typed trial record: one module writes the stored keys and reads them back as fields."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import IntDistribution
from optuna.trial import TrialState, create_trial

from search.store.record import REJECTED_ENDS, End, TrialRecord, enqueued_of, stored_key, write


def test_fields_written_on_a_trial_come_back_typed_under_the_stored_keys():
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    trial = study.ask()
    write(trial, n_params=4686, flops_per_image=191_306, seed=7, spec={"blocks": [[10]]})
    write(trial, val_acc_pct=(98.1, 99.2), test_acc_pct=[98.3, 99.31], end=End.COMPLETE)
    study.tell(trial, 99.2)
    stored = study.trials[0]
    # the keys every earlier storage holds
    assert stored.user_attrs["params"] == 4686 and stored.user_attrs["flops"] == 191_306
    assert stored.user_attrs["val_acc"] == [98.1, 99.2]
    assert stored.user_attrs["end_kind"] == "complete"
    record = TrialRecord.of(stored)
    assert record.n_params == 4686 and record.flops_per_image == 191_306 and record.seed == 7
    assert record.val_acc_pct == (98.1, 99.2) and record.test_acc_pct == (98.3, 99.31)
    assert record.best_val_acc_pct == 99.2 and record.final_test_acc_pct == 99.31
    assert record.epochs_run == 2 and record.trained and record.finished
    assert record.end is End.COMPLETE and record.state == TrialState.COMPLETE


def test_a_running_trial_reads_as_running_and_a_typo_is_refused():
    study = optuna.create_study(storage=optuna.storages.InMemoryStorage())
    trial = study.ask()
    assert TrialRecord.of(trial).end is End.RUNNING
    with pytest.raises(TypeError, match="no stored field 'val_acc'"):
        write(trial, val_acc=[99.0])  # the stored key is not a field: val_acc_pct is


def test_an_old_trial_without_an_end_kind_reads_its_end_from_its_state():
    made = {
        state: create_trial(
            state=state,
            value=1.0 if state == TrialState.COMPLETE else None,
            params={"x": 1},
            distributions={"x": IntDistribution(0, 2)},
            user_attrs={"params": 10_066, "test_acc": [99.1]},
        )
        for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    }
    ends = {state: TrialRecord.of(trial).end for state, trial in made.items()}
    assert ends == {
        TrialState.COMPLETE: End.COMPLETE,
        TrialState.PRUNED: End.PRUNED,
        TrialState.FAIL: End.FAILED,
    }
    record = TrialRecord.of(made[TrialState.COMPLETE])
    assert record.n_params == 10_066 and record.sampled == {"x": 1} and not record.trained


def test_rejected_ends_and_stored_keys():
    assert set(REJECTED_ENDS) == {End.LIMIT, End.INVALID}
    assert "limit" in REJECTED_ENDS  # an event's plain string compares equal
    assert stored_key("n_params") == "params" and stored_key("seed") == "seed"


def test_enqueued_reads_alone_as_the_whole_record_reads_it():
    # the pruner asks at every step whether a trial was enqueued, without building the record
    trials = [
        create_trial(state=TrialState.COMPLETE, value=1.0, user_attrs=attrs)
        for attrs in ({stored_key("enqueued"): True}, {stored_key("enqueued"): False}, {})
    ]
    assert [enqueued_of(t) for t in trials] == [True, False, False]
    assert [TrialRecord.of(t).enqueued for t in trials] == [True, False, False]
