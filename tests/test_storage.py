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
