"""search.store.storage.open_storage: one storage per URL per process, reopened when its file
was replaced."""

from __future__ import annotations

import optuna

from search.store.storage import open_storage


def test_a_storage_is_opened_once_per_process_and_reopened_when_its_file_goes(tmp_path):
    url = f"sqlite:///{tmp_path / 'one.db'}"
    first = open_storage(url)
    assert open_storage(url) is first
    assert open_storage(url, heartbeat=False) is not first  # a reader's: no heartbeats
    assert open_storage(url, heartbeat=False) is open_storage(url, heartbeat=False)
    optuna.create_study(study_name="s", storage=first)
    (tmp_path / "one.db").unlink()
    again = open_storage(url)
    assert again is not first
    assert optuna.get_all_study_summaries(again) == []  # the new, empty file: not the old one


def test_a_process_keeps_a_few_storages_open(tmp_path):
    opened = [open_storage(f"sqlite:///{tmp_path / f'{n}.db'}") for n in range(6)]
    assert open_storage(f"sqlite:///{tmp_path / '5.db'}") is opened[5]  # the latest are kept
    assert open_storage(f"sqlite:///{tmp_path / '0.db'}") is not opened[0]  # the oldest closed
    memory = "sqlite:///:memory:"
    assert open_storage(memory, heartbeat=False) is not open_storage(memory, heartbeat=False)
