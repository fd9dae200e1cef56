"""The Part-A toy network, its lr-sweep study and report.

Gradients are proved against torch autograd (float64) and central finite differences; the initial
forward pass is checked against values worked by hand; the study runs through the real runner
into a temporary SQLite file, once per module, and its report is rendered from that storage.
"""

from __future__ import annotations

import random
import re

import optuna
import pandas as pd
import pytest
import torch
from optuna.trial import TrialState

from archs import INITIAL_WEIGHTS, descend, sheet_gradients, toy_forward, toy_gradients, toy_step
from archs.toy import COLUMNS
from search.console.events import format_event
from search.errors import UsageError
from search.reports.header import trial_devices
from search.reports.toy import render_lr_sweep
from search.runner.session import run_study
from search.study.definitions import RunOptions
from studies import STUDIES

LEARNING_RATES = [0.1, 0.2, 0.5, 0.8, 1.0, 2.0]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# By hand from the issue's formulas, i1 = 0.05, i2 = 0.1, t1 = 0.01, t2 = 0.99, w1..w8 initial:
#   h1 = 0.15·0.05 + 0.2·0.1 = 0.0275          a_h1 = 1/(1 + e^−0.0275) = 0.5068745668
#   h2 = 0.25·0.05 + 0.3·0.1 = 0.0425          a_h2 = 1/(1 + e^−0.0425) = 0.5106234010
#   o1 = 0.4·a_h1 + 0.45·a_h2 = 0.2027498267 + 0.2297805305 = 0.4325303572, a_o1 = 0.6064777322
#   o2 = 0.5·a_h1 + 0.55·a_h2 = 0.2534372834 + 0.2808428706 = 0.5342801539, a_o2 = 0.6304808355
#   E1 = ½(0.01 − 0.6064777322)² = ½·0.3557856850 = 0.1778928425
#   E2 = ½(0.99 − 0.6304808355)² = ½·0.1292540297 = 0.0646270148
#   E_total = 0.1778928425 + 0.0646270148 = 0.2425198573
BY_HAND = {
    "h1": 0.0275, "a_h1": 0.5068745668, "h2": 0.0425, "a_h2": 0.5106234010,
    "o1": 0.4325303572, "a_o1": 0.6064777322, "o2": 0.5342801539, "a_o2": 0.6304808355,
    "e1": 0.1778928425, "e2": 0.0646270148, "e_total": 0.2425198573,
}  # fmt: skip
E_TOTAL_AT_START = 0.2425198573


def torch_e_total(weights: torch.Tensor) -> torch.Tensor:
    """The same network written independently in torch, for autograd."""
    w1, w2, w3, w4, w5, w6, w7, w8 = weights
    a_h1 = torch.sigmoid(w1 * 0.05 + w2 * 0.1)
    a_h2 = torch.sigmoid(w3 * 0.05 + w4 * 0.1)
    a_o1 = torch.sigmoid(w5 * a_h1 + w6 * a_h2)
    a_o2 = torch.sigmoid(w7 * a_h1 + w8 * a_h2)
    return 0.5 * (0.01 - a_o1) ** 2 + 0.5 * (0.99 - a_o2) ** 2


def autograd(weights: tuple[float, ...]) -> tuple[float, ...]:
    tensor = torch.tensor(weights, dtype=torch.float64, requires_grad=True)
    torch_e_total(tensor).backward()
    return tuple(tensor.grad.tolist())


def finite_differences(weights: tuple[float, ...], h: float = 1e-6) -> tuple[float, ...]:
    found = []
    for k in range(8):
        up = tuple(w + h if j == k else w for j, w in enumerate(weights))
        down = tuple(w - h if j == k else w for j, w in enumerate(weights))
        found.append((toy_forward(up).e_total - toy_forward(down).e_total) / (2 * h))
    return tuple(found)


def random_weights(count: int, seed: int) -> list[tuple[float, ...]]:
    generator = random.Random(seed)
    return [tuple(generator.uniform(-3.0, 3.0) for _ in range(8)) for _ in range(count)]


def test_forward_matches_the_hand_computation():
    forward = toy_forward(INITIAL_WEIGHTS)
    for name, value in BY_HAND.items():
        assert getattr(forward, name) == pytest.approx(value, abs=1e-9), name


def test_gradients_equal_autograd_at_initial_and_100_random_weights():
    for weights in [INITIAL_WEIGHTS, *random_weights(100, seed=0)]:
        expected = autograd(weights)
        assert toy_gradients(weights) == pytest.approx(expected, abs=1e-12, rel=0)
        e_total = torch_e_total(torch.tensor(weights, dtype=torch.float64)).item()
        assert toy_forward(weights).e_total == pytest.approx(e_total, abs=1e-15, rel=0)


def test_gradients_equal_central_finite_differences():
    for weights in [INITIAL_WEIGHTS, *random_weights(100, seed=1)]:
        expected = finite_differences(weights)
        assert toy_gradients(weights) == pytest.approx(expected, abs=1e-7, rel=0)


def test_sheet_formulas_are_wrong_for_exactly_w1_w2_w6_w7_w8():
    correct, sheet = toy_gradients(INITIAL_WEIGHTS), sheet_gradients(INITIAL_WEIGHTS)
    wrong = [f"w{k + 1}" for k in range(8) if abs(sheet[k] - correct[k]) > 1e-7]
    assert wrong == ["w1", "w2", "w6", "w7", "w8"]
    assert [sheet[k] == correct[k] for k in (2, 3, 4)] == [True, True, True]  # same formula
    assert (sheet[6], sheet[7]) == (correct[7], correct[6])  # w7, w8: a_h1 and a_h2 swapped


def test_one_update_matches_an_autograd_step():
    tensor = torch.tensor(INITIAL_WEIGHTS, dtype=torch.float64, requires_grad=True)
    torch_e_total(tensor).backward()
    stepped = (tensor - 0.5 * tensor.grad).detach()
    assert toy_step(INITIAL_WEIGHTS, 0.5) == pytest.approx(stepped.tolist(), abs=1e-12, rel=0)
    rows = descend(0.5, steps=1)
    assert rows[1]["E_total"] == pytest.approx(torch_e_total(stepped).item(), abs=1e-12, rel=0)


def test_descend_rows_are_the_sheet_columns_one_per_step():
    rows = descend(0.5)
    assert len(rows) == 101
    assert list(rows[0]) == list(COLUMNS)
    assert list(COLUMNS) == [
        "t1", "t2", "i1", "i2", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8",
        "h1", "a_h1", "h2", "a_h2", "o1", "a_o1", "o2", "a_o2", "E1", "E2", "E_total",
        "dE/dw1", "dE/dw2", "dE/dw3", "dE/dw4", "dE/dw5", "dE/dw6", "dE/dw7", "dE/dw8",
    ]  # fmt: skip
    assert [rows[0][f"w{k}"] for k in range(1, 9)] == list(INITIAL_WEIGHTS)
    weights_after_one = toy_step(INITIAL_WEIGHTS, 0.5)
    assert [rows[1][f"w{k}"] for k in range(1, 9)] == list(weights_after_one)
    assert [rows[0][f"dE/dw{k}"] for k in range(1, 9)] == list(toy_gradients(INITIAL_WEIGHTS))


@pytest.mark.parametrize("lr", LEARNING_RATES)
def test_curve_starts_at_the_initial_error_and_falls_every_step(lr):
    curve = [row["E_total"] for row in descend(lr)]
    assert curve[0] == pytest.approx(E_TOTAL_AT_START, abs=1e-9)
    falling = [curve[k + 1] < curve[k] for k in range(100)]
    assert falling == [True] * 100


def test_the_study_is_registered_with_the_issue_grid():
    study = STUDIES["lr-sweep"]
    assert (study.learning_rates, study.steps, study.n_trials) == (tuple(LEARNING_RATES), 100, 6)
    assert (study.direction, study.needs_data) == ("minimize", False)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """The lr-sweep study run once through the real runner into a temporary SQLite file."""
    folder = tmp_path_factory.mktemp("lr-sweep")
    url = "sqlite:///" + str(folder / "s.db")
    events: list[dict] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))  # the runner's lock files
        summary = run_study(STUDIES["lr-sweep"], RunOptions(storage=url), events.append)
        # budget used: no trial, and "budget" (its winners confirmed) though the deadline passed
        again = run_study(STUDIES["lr-sweep"], RunOptions(storage=url, timeout=1e-9))
    study = optuna.load_study(study_name="lr-sweep", storage=url)
    return summary, again, study, events, folder


def test_study_stores_six_complete_trials_of_101_steps(swept):
    summary, again, study, _, _ = swept
    assert (summary.counts["COMPLETE"], summary.counts["FAIL"], summary.stopped_by) == (
        6, 0, "budget",
    )  # fmt: skip
    assert (again.counts["COMPLETE"], again.stopped_by) == (6, "budget")
    trials = study.get_trials()
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6
    assert sorted(t.params["lr"] for t in trials) == LEARNING_RATES
    for trial in trials:
        values = trial.intermediate_values
        assert sorted(values) == list(range(101))
        assert values[0] == pytest.approx(E_TOTAL_AT_START, abs=1e-9)
        curve = [row["E_total"] for row in descend(trial.params["lr"])]
        assert [values[k] for k in range(101)] == curve  # float64 stored exactly
        assert trial.value == curve[100] == trial.user_attrs["final_e_total"]
        assert trial.user_attrs["e_total"] == curve
        assert trial.user_attrs["lr"] == trial.params["lr"]
        assert (trial.user_attrs["end_kind"], trial.user_attrs["end_reason"]) == (
            "complete", "complete",
        )  # fmt: skip
    assert trial_devices(trials) == "cpu, pure Python (6 trials)"  # the report header's line


def test_study_emits_console_events_the_console_can_print(swept):
    _, _, _, events, _ = swept
    starts = [e for e in events if e["type"] == "trial_start"]
    ends = [e for e in events if e["type"] == "trial_end"]
    assert (len(starts), len(ends)) == (6, 6)
    assert sorted(e["summary"] for e in starts) == [f"toy 2-2-2 lr={lr}" for lr in LEARNING_RATES]
    assert set(ends[0]) == {
        "type", "trial", "state", "value", "end_kind", "end_reason", "summary", "params",
        "flops", "epochs_run", "best_val_acc", "seconds",
    }  # fmt: skip
    assert [(e["state"], e["params"], e["epochs_run"]) for e in ends] == [("COMPLETE", 8, 100)] * 6
    lines = [format_event(e) for e in events if e["type"] != "leaderboard"]  # live view only
    assert all(line is not None and not line.startswith("unreadable") for line in lines)
    assert [e["type"] for e in events].count("leaderboard") == 6  # one after each trial


def test_report_writes_its_files_from_the_stored_trials(swept):
    _, _, study, _, folder = swept
    out_dir = folder / "report"
    paths = render_lr_sweep(study, out_dir, "# lr-sweep\n\nheader line")
    names = sorted(path.name for path in paths)
    steps_files = [f"steps_lr{lr}.csv" for lr in LEARNING_RATES]
    expected = ["README.md", "curves.png", "e_total_table.csv", "sheet_effect.csv"]
    assert names == sorted(expected + ["small_multiples.png", *steps_files])
    for name in ("curves.png", "small_multiples.png"):
        assert (out_dir / name).read_bytes()[:8] == PNG_SIGNATURE
    readme = (out_dir / "README.md").read_text()
    assert readme.startswith("# lr-sweep\n\nheader line\n")
    stored = next(t for t in study.get_trials() if t.params["lr"] == 0.5).intermediate_values
    table = readme.split("## E_total by learning rate", 1)[1]
    row = re.search(r"^\| 0\.5 \| (.+) \|$", table, re.MULTILINE).group(1).split(" | ")
    assert len(row) == 5  # steps 0, 1, 10, 50, 100
    assert float(row[0]) == pytest.approx(stored[0], abs=5e-11)
    assert float(row[4]) == pytest.approx(stored[100], abs=5e-11)
    steps = pd.read_csv(out_dir / "steps_lr0.5.csv")
    assert list(steps.columns) == ["step", *COLUMNS]
    assert steps["E_total"].tolist() == [stored[k] for k in range(101)]


def test_report_of_an_empty_study_is_a_usage_error(tmp_path):
    study = optuna.create_study(study_name="lr-sweep")
    with pytest.raises(UsageError, match="no complete trials"):
        render_lr_sweep(study, tmp_path / "report", "# lr-sweep")
    assert not (tmp_path / "report").exists()
