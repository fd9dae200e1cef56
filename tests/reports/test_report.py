"""python -m search.report on small real studies: every number in the outputs is the storage's.

One storage is built once per module by running the real runner on tiny real data (256 training
images, 200 validation images, 1-2 epochs): a cnn20k search with its confirmation, the baseline
over two seeds, the ablation over one seed, a study with a failed, a limit-pruned and a
pruner-pruned trial, and the lr-sweep. The reports are parsed back and compared with the trials.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import os
import re
import statistics
import sys

import optuna
import pytest
import torch
from optuna.trial import FrozenTrial, TrialState
from report_helpers import (
    FAULTY,
    FAULTY_FAIL,
    FAULTY_LIMIT,
    FAULTY_PRUNED,
    PNG_SIGNATURE,
    best_val,
    pct,
    readme,
    table,
    trials_of,
)
from run_args import TEST_LIMIT, trained

from search.report import main
from search.reports.data import study_kind
from search.reports.stats import mean_interval
from search.runner.confirm import confirm
from search.runner.session import run_study
from search.study.claim import claim
from search.study.definitions import RunOptions
from search.study.limits import Limits
from search.study.recipe import REFERENCE_CURVE, Recipe
from studies import STUDIES


@pytest.fixture(scope="module")
def built(tmp_path_factory, data_root) -> dict:
    """The storage (six studies, one of them the cnn20k companion) and the report folder."""
    folder = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{folder / 'r.db'}"
    tiny = dict(storage=url, data_root=str(data_root), device="cpu", train_limit=256,
                test_limit=TEST_LIMIT)  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEARCH_RUN_DIR", str(folder / "runs"))  # locks and weights
        # 2,000 images: enough for the search's 50%-after-2-epochs floor to let trials finish
        search = {**tiny, "train_limit": 2000, "val_size": 200, "epochs": 2}
        run_study(STUDIES["cnn20k"], RunOptions(**search, trials=5))
        # the confirmation on 1,000 images: it prunes nothing, so it needs no more
        confirm(STUDIES["cnn20k"], RunOptions(**search | {"train_limit": 1000}, seeds=(1, 2)), 2)
        run_study(STUDIES["baseline"], RunOptions(**tiny, epochs=2, seeds=(1, 2)))
        # three paired seeds; widths x1.25 (15,6xx params) is over a 12,000 limit: not trained
        ablation = RunOptions(**{**tiny, "train_limit": 1000}, epochs=1, seeds=(1, 2, 3),
                              variants=("no_dropout", "widths_x1.25"))  # fmt: skip
        tight = dataclasses.replace(
            STUDIES["ablation"].configure(ablation), limits=Limits(max_params=12_000)
        )
        run_study(tight, ablation)
        run_study(FAULTY, RunOptions(**tiny, val_size=200, epochs=2))
        run_study(STUDIES["lr-sweep"], RunOptions(storage=url))
    out = folder / "out"
    return {"url": url, "out": out, "folder": folder}


@pytest.fixture(scope="module")
def rendered(built) -> list[str]:
    """The lines `python -m search.report --storage URL --out OUT` printed (one per study)."""
    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdout", stdout)
        assert main(["--storage", built["url"], "--out", str(built["out"])]) == 0
    return stdout.getvalue().splitlines()


def test_every_study_is_rendered_with_its_kind(built, rendered):
    storage = optuna.storages.RDBStorage(built["url"])
    kinds = {
        s.study_name: study_kind(optuna.load_study(study_name=s.study_name, storage=storage))
        for s in optuna.get_all_study_summaries(storage, include_best_trial=False)
    }
    assert kinds == {
        "ablation": "ablation",
        "baseline": "repeat",
        "cnn20k": "search",
        "cnn20k.confirm": "companion",
        "faulty": "search",
        "lr-sweep": "lr-sweep",
    }
    stored = {  # as the runner stored them when it created each study: nothing guessed
        s.study_name: s.user_attrs.get("kind")
        for s in optuna.get_all_study_summaries(storage, include_best_trial=False)
    }
    assert stored == kinds
    scores = {
        s.study_name: s.user_attrs["score"]
        for s in optuna.get_all_study_summaries(storage, include_best_trial=False)
    }
    assert scores["lr-sweep"].startswith("The value is E_total")
    assert "minus 0.1 points per 1,000 parameters over 5,000" in scores["cnn20k"]
    assert [line.split()[1] for line in rendered] == [
        f"{built['out'] / name}/"
        for name in ("ablation", "baseline", "cnn20k", "faulty", "lr-sweep")
    ]
    assert not (built["out"] / "cnn20k.confirm").exists()  # inside cnn20k's report
    searched = trials_of(built, "cnn20k")  # a budget of 5 trained, then rejections on top
    assert len(trained(searched)) == 5
    assert f"(search report, {len(searched)} trials + 4 confirmation runs)" in rendered[2]


def test_every_referenced_figure_is_a_png(built, rendered):
    expected = {
        "ablation": {"forest.png", "curves.png"},
        "baseline": {"curves.png"},
        "cnn20k": {"accuracy_vs_params.png", "learning_curves.png", "trial_outcomes.png"},
        "faulty": {"accuracy_vs_params.png", "learning_curves.png", "trial_outcomes.png"},
        "lr-sweep": {"curves.png", "small_multiples.png"},
    }
    for name, figures in expected.items():
        linked = set(re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", readme(built, name)))
        assert linked == figures, name
        for figure in linked:
            assert (built["out"] / name / figure).read_bytes()[:8] == PNG_SIGNATURE


def test_header_states_command_storage_machine_and_date(built, rendered):
    text = readme(built, "cnn20k")
    command = (
        f"python -m search.report --study cnn20k --storage {built['url']} --out {built['out']}"
    )
    assert f"- report: `{command}`" in text
    assert f"- storage: `{built['url']}`" in text
    trials = trials_of(built, "cnn20k") + trials_of(built, "cnn20k.confirm")
    measured = sum("device" in t.user_attrs for t in trials)  # all but invalid specs
    assert measured >= 4
    assert f"- trials ran on: cpu with torch {torch.__version__} ({measured} trials)" in text
    assert f"- date: {datetime.datetime.now(datetime.UTC).date().isoformat()} (UTC)" in text
    assert f"{os.cpu_count()} cores" in text


def test_leaderboard_rows_are_the_stored_trials(built, rendered):
    trials = {t.number: t for t in trials_of(built, "cnn20k")}
    rows = table(readme(built, "cnn20k"), "rank")
    assert [int(row["rank"]) for row in rows] == list(range(1, len(trials) + 1))
    complete = sorted(
        (t for t in trials.values() if t.state == TrialState.COMPLETE),
        key=lambda t: (-t.value, t.number),
    )
    assert [int(row["trial"]) for row in rows[: len(complete)]] == [t.number for t in complete]
    for row in rows:
        trial = trials[int(row["trial"])]
        attrs = trial.user_attrs
        assert row["state"] == trial.state.name
        assert row["params"] == (f"{attrs['params']:,}" if "params" in attrs else "-")
        assert row["FLOPs"] == (f"{attrs['flops']:,}" if "flops" in attrs else "-")
        assert row["best val %"] == pct(best_val(trial))
        assert row["test@best %"] == pct(attrs.get("test_at_best"))
        assert row["epochs"].split("/")[0] == str(len(attrs.get("val_acc") or []))
        if trial.state == TrialState.COMPLETE:
            assert row["score"] == f"{trial.value:.3f}"
            assert row["spec"] == f"`{attrs['summary']}`"
            assert row["recipe"] == f"`{Recipe.from_dict(attrs['recipe']).summary}`"


def test_confirmed_winners_are_the_companion_runs(built, rendered):
    runs = [t for t in trials_of(built, "cnn20k.confirm") if t.state == TrialState.COMPLETE]
    assert len(runs) == 4  # 2 trials x seeds 1, 2
    rows = table(readme(built, "cnn20k"), "trial")
    assert len(rows) == 2
    for row in rows:
        mine = sorted(
            (t for t in runs if t.params["source_trial"] == int(row["trial"])),
            key=lambda t: t.params["seed"],
        )
        finals = [t.user_attrs["test_acc"][-1] for t in mine]
        assert row["n"] == "2" and row["seeds"] == "1, 2"
        assert row["final test % mean ± std"] == (
            f"{statistics.fmean(finals):.2f} ± {statistics.stdev(finals):.2f}"
        )
        assert row["min %"] == pct(min(finals))
        low, high = mean_interval(finals)
        assert row["95% CI"] == f"[{low:.2f}, {high:.2f}]"
        assert row["target 99.40%"] == claim(finals) and row["target 99.40%"].startswith(
            "no: 2 seeds (< 5)"
        )
        assert row["epochs"] == str(mine[0].user_attrs["recipe"]["epochs"]) == "2"
        assert row["recipe"] == f"`{Recipe.from_dict(mine[0].user_attrs['recipe']).summary}`"
    text = readme(built, "cnn20k")  # a --train-limit confirmation says so, not "all images"
    assert "retrained on 1,000 training images (not all 60,000: --train-limit)" in text
    assert "Unfinished" not in text


def test_ablation_by_choice_counts_the_complete_trials(built, rendered):
    complete = [t for t in trials_of(built, "cnn20k") if t.state == TrialState.COMPLETE]
    rows = table(readme(built, "cnn20k"), "choice")
    for choice, read in {
        "bn": lambda t: str(t.params["bn"]),
        "dropout_at": lambda t: str(t.params.get("dropout_at", "none")),
        "head": lambda t: str(t.params["head"]),
        "optimizer": lambda t: str(t.params["optimizer"]),
        "transition": lambda t: "on" if t.params["t1_width"] > 0 else "off",
        "dropout": lambda t: str(t.params["dropout"]),
        "pool_bn": lambda t: str(t.params["pool_bn"]),
    }.items():
        mine = [row for row in rows if row["choice"] == choice]
        options = sorted({read(t) for t in complete})
        assert [row["option"] for row in mine] == options
        for row in mine:
            group = [t for t in complete if read(t) == row["option"]]
            accs = [best_val(t) for t in group]
            assert row["trials"] == str(len(group))
            assert row["best val %"] == pct(max(accs))
            assert row["median val %"] == pct(statistics.median(accs))
            median = statistics.median(t.user_attrs["params"] for t in group)
            assert row["median params"] == f"{median:,.1f}".removesuffix(".0")
    epochs = [row for row in rows if row["choice"] == "epochs"]
    assert [(row["option"], row["trials"]) for row in epochs] == [("2", str(len(complete)))]


def savings_by_hand(trials) -> tuple[int, int]:
    counted = [t for t in trials if t.user_attrs.get("end_kind") in ("complete", "pruner")]
    trained = sum(len(t.user_attrs["val_acc"]) for t in counted)
    return trained, sum(t.user_attrs["recipe"]["epochs"] for t in counted)


def pruning_line(text: str) -> tuple[int, int]:
    found = re.search(r"pruning: (\d+) epochs trained of (\d+) the same trials", text)
    return int(found.group(1)), int(found.group(2))


def test_pruning_savings_equal_a_recount_of_the_trials(built, rendered):
    for name in ("cnn20k", "faulty"):
        assert pruning_line(readme(built, name)) == savings_by_hand(trials_of(built, name))
    # faulty: trials 0 and 4 complete (2 + 2 epochs), trial 3 pruned after 1 of its 2
    assert pruning_line(readme(built, "faulty")) == (5, 6)
    data = json.loads((built["out"] / "faulty" / "data.json").read_text())
    pruning = data["summary"]["pruning"]
    assert (pruning["epochs_trained"], pruning["epochs_unpruned"]) == (5, 6)
    assert pruning["saved_percent"] == pytest.approx(100 / 6)


def test_study_with_failed_and_pruned_trials_renders(built, rendered):
    trials = trials_of(built, "faulty")
    assert [t.state for t in trials] == [
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.PRUNED,
        TrialState.PRUNED,
        TrialState.COMPLETE,
    ]
    outcomes = {row["outcome"]: row["trials"] for row in table(readme(built, "faulty"), "outcome")}
    assert outcomes == {
        "complete": "2",
        "pruned by limit": "1",
        "invalid (pruned)": "0",
        "pruned by pruner": "1",
        "diverged (pruned)": "0",
        "failed": "1",
    }
    rows = {int(row["trial"]): row for row in table(readme(built, "faulty"), "rank")}
    assert rows[FAULTY_FAIL]["state"] == "FAIL"
    assert rows[FAULTY_FAIL]["end"] == "failed: RuntimeError: boom"
    assert rows[FAULTY_LIMIT]["end"] == "pruned: params 29,178 >= 20,000"
    assert rows[FAULTY_PRUNED]["end"] == "pruned by PruneTrialThree at epoch 1"
    assert "## Parameter importance" in readme(built, "faulty")


def test_baseline_tables_are_the_stored_curves(built, rendered):
    runs = sorted(trials_of(built, "baseline"), key=lambda t: t.user_attrs["seed"])
    text = readme(built, "baseline")
    epochs = table(text, "epoch")
    assert len(epochs) == len(REFERENCE_CURVE) == 17
    for trial in runs:
        column = [row[f"seed {trial.user_attrs['seed']}"] for row in epochs]
        assert column == [pct(a) for a in trial.user_attrs["test_acc"]] + ["-"] * 15
    assert [row["reference"] for row in epochs] == [pct(a) for a in REFERENCE_CURVE]
    seeds = table(text, "seed")
    for row, trial in zip(seeds, runs, strict=True):
        curve = trial.user_attrs["test_acc"]
        assert row["final test %"] == pct(curve[-1])
        assert row["best test %"] == pct(max(curve))
        assert row["best epoch"] == str(curve.index(max(curve)) + 1)
    finals = [t.user_attrs["test_acc"][-1] for t in runs]
    mean, std = statistics.fmean(finals), statistics.stdev(finals)
    half = 12.706204736174698 * std / 2**0.5  # t(0.975, 1)
    assert (
        f"Final test accuracy over n = 2 seeds: {mean:.2f} ± {std:.2f} % (mean ± std),"
        f" 95% CI [{mean - half:.2f}, {mean + half:.2f}], min {min(finals):.2f} %."
        " Target 99.40% (mean over >= 5 seeds, no seed below 99.25%): no: 2 seeds (< 5)"
    ) in text
    assert "chose its stopping epoch on the test set" in text


def test_ablation_table_is_the_stored_variants_paired_by_seed(built, rendered):
    trials = trials_of(built, "ablation")
    finals = {
        (t.params["variant"], t.user_attrs["seed"]): t.user_attrs["test_acc"][-1]
        for t in trials
        if t.state == TrialState.COMPLETE
    }
    text = readme(built, "ablation")
    rows = {row["variant"]: row for row in table(text, "variant")}
    assert list(rows) == ["base", "no_dropout", "widths_x1.25"]
    base = [finals["base", seed] for seed in (1, 2, 3)]
    assert rows["base"]["final test % mean ± std"] == (
        f"{statistics.fmean(base):.2f} ± {statistics.stdev(base):.2f}"
    )
    deltas = [finals["no_dropout", seed] - finals["base", seed] for seed in (1, 2, 3)]
    mean = statistics.fmean(deltas)
    half = 4.302652729911275 * statistics.stdev(deltas) / 3**0.5  # t(0.975, 2)
    row = rows["no_dropout"]
    assert row["n"] == "3"
    assert row["change"] == "dropout 0.1 -> 0.0; dropout_at every_conv -> none"
    assert row["paired delta"] == f"{mean:+.2f}"
    assert row["95% CI"] == f"[{mean - half:+.2f}, {mean + half:+.2f}]"
    assert row["verdict"].startswith(
        ("lowers accuracy by", "raises accuracy by", "no detectable effect at n = 3")
    )
    over = rows["widths_x1.25"]
    assert over["n"] == "0" and over["verdict"].startswith("not trained: pruned: params 15,")
    assert "- widths_x1.25: not trained: pruned: params 15," in text
    assert "With 1 interval(s) shown" in text and "about 0.05 of them" in text
    assert "for 1 epoch(s)" in text and "(seeds 1, 2, 3)" in text
    # the base in words, as stored on the study when the run created it (not read from its name)
    assert "Base: the pinned baseline (archs.BASELINE), with the reference recipe." in text
    document = json.loads((built["out"] / "ablation" / "data.json").read_text())
    assert document["about"] == "the pinned baseline (archs.BASELINE), with the reference recipe"
    assert (
        document["score"]
        == "The value is the final epoch's test accuracy (nothing is selected on it)."
    )


def test_ablation_forest_plot_draws_the_table_deltas(built, rendered):
    document = json.loads((built["out"] / "ablation" / "data.json").read_text())
    summary = document["summary"]
    rows = {row["variant"]: row for row in summary["variants"]}
    points = summary["forest_points"]
    assert [p["variant"] for p in points] == ["no_dropout"]
    interval = rows["no_dropout"]["interval"]
    assert points[0]["delta"] == pytest.approx(interval["delta"], abs=1e-12)
    assert (points[0]["low"], points[0]["high"]) == pytest.approx(
        (interval["low"], interval["high"]), abs=1e-12
    )
    shown = table(readme(built, "ablation"), "variant")
    assert f"{points[0]['delta']:+.2f}" == shown[1]["paired delta"]


def test_json_document_holds_the_stored_trials(built, capsys):
    assert main(["--storage", built["url"], "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    names = [study["name"] for study in document["studies"]]
    assert names == ["ablation", "baseline", "cnn20k", "faulty", "lr-sweep"]
    for study in document["studies"]:
        groups = [(study["name"], study["trials"])]
        if study["companion"]:
            groups.append((study["companion"]["name"], study["companion"]["trials"]))
        for name, records in groups:
            stored = trials_of(built, name)
            assert [r["number"] for r in records] == [t.number for t in stored]
            for record, trial in zip(records, stored, strict=True):
                attrs = trial.user_attrs
                assert record["state"] == trial.state.name
                assert record["end_reason"] == attrs.get("end_reason")
                assert (record["params"], record["flops"]) == (
                    attrs.get("params"),
                    attrs.get("flops"),
                )
                assert record["summary"] == attrs.get("summary")
                assert record["val_acc"] == (attrs.get("val_acc") or [])
                assert record["test_acc"] == (attrs.get("test_acc") or [])
                assert record["sampled"] == trial.params
    cnn20k = document["studies"][2]
    confirmed = [r for r in cnn20k["trials"] if r["confirmation"]]
    runs = trials_of(built, "cnn20k.confirm")
    for record in confirmed:
        finals = [
            t.user_attrs["test_acc"][-1]
            for t in runs
            if t.params["source_trial"] == record["number"]
        ]
        assert record["confirmation"]["mean"] == pytest.approx(statistics.fmean(finals), abs=1e-12)
    assert len(confirmed) == 2


def test_csv_has_one_row_per_trial(built, capsys):
    assert main(["--storage", built["url"], "--format", "csv", "--study", "cnn20k", "faulty"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    expected = [
        (name, t.number)
        for name in ("cnn20k", "cnn20k.confirm", "faulty")
        for t in trials_of(built, name)
    ]
    assert [(row["study"], int(row["number"])) for row in rows] == expected
    assert list(rows[0]) == [
        "study", "number", "state", "end_kind", "end_reason", "params", "flops", "summary",
        "value", "best_val_acc", "test_at_best", "epochs_run",
    ]  # fmt: skip
    first = trials_of(built, "cnn20k")[0]
    assert float(rows[0]["best_val_acc"]) == best_val(first)
    assert int(rows[0]["params"]) == first.user_attrs["params"] == 10_066


def test_the_learning_curve_title_counts_the_curves_it_draws(built):
    from search.reports.search import top_curves, top_shown

    for name in ("cnn20k", "faulty"):
        stored = optuna.load_study(study_name=name, storage=built["url"])
        curves = top_curves(stored, None)
        drawn = [label for label in curves if label.startswith("#")]
        trained = [t for t in stored.trials if t.user_attrs.get("val_acc")]
        assert top_shown(stored, None) == len(drawn) == min(5, len(trained)), name


def test_where_dropout_is_is_read_from_the_net_when_the_space_implies_it():
    # frontier samples the rate only (every conv when above 0): the table must not say "none"
    from search.reports.data import choice_rows

    def trial(number: int, rate: float, at: str, acc: float, **sampled) -> FrozenTrial:
        params = {"dropout": rate, **sampled}
        made = optuna.trial.create_trial(
            params=params,
            distributions={
                key: optuna.distributions.CategoricalDistribution(sorted({value, "x"}, key=str))
                for key, value in params.items()
            },
            value=acc,
            user_attrs={
                "spec": {"dropout": rate, "dropout_at": at},
                "val_acc": [acc],
                "params": 3_000 + number,
                "end_kind": "complete",
            },  # fmt: skip
        )
        made.number = number
        return made

    frontier = [trial(0, 0.02, "every_conv", 99.1), trial(1, 0.0, "every_conv", 98.9)]
    cnn20k = [trial(2, 0.1, "block_end", 99.0, dropout_at="block_end")]
    rows = [r for r in choice_rows(frontier + cnn20k) if r["choice"] == "dropout_at"]
    assert [(r["option"], r["trials"], r["best_val_acc"]) for r in rows] == [
        ("block_end", 1, 99.0), ("every_conv", 1, 99.1), ("none", 1, 98.9),
    ]  # fmt: skip


def test_an_ablation_change_that_turns_a_newer_recipe_field_off_names_its_value():
    # Recipe.to_dict leaves label smoothing and the average out when they are 0
    from search.reports.ablation import change_text
    from search.store.record import TrialRecord

    def record(recipe: Recipe) -> TrialRecord:
        made = optuna.trial.create_trial(
            params={}, distributions={}, value=99.0,
            user_attrs={"spec": {"dropout": 0.02}, "recipe": recipe.to_dict()},
        )  # fmt: skip
        return TrialRecord.of(made)

    base = Recipe(epochs=19, seed=1, label_smoothing=0.05, ema=0.999)
    assert "ema" not in Recipe(epochs=19, seed=1).to_dict()
    assert change_text(record(base), record(base.replace(ema=0.0))) == "ema 0.999 -> 0.0"
    both_off = base.replace(ema=0.0, label_smoothing=0.0)
    assert change_text(record(both_off), record(base)) == (
        "ema 0.0 -> 0.999; label_smoothing 0.0 -> 0.05"
    )
