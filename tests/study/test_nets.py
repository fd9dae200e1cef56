"""Your own net: --base takes a spec file (or an exported spec.json), --recipe a recipe file."""

from __future__ import annotations

import json

import optuna
import pytest

from archs import ArchSpec
from search.errors import UsageError
from search.report import main as report_main
from search.study.definitions import RunOptions, configured
from search.study.nets import load_net, load_recipe
from search.study.recipe import REFERENCE_RECIPE, Recipe
from studies import STUDIES
from tests.conftest import REPO_ROOT
from tests.run_args import QUICK_TEST
from tests.run_args import run_here as run

WINNER = REPO_ROOT / "reports" / "cnn5k" / "trial30" / "spec.json"
SMALL = {"blocks": [[8], [12]], "transitions": [{"width": 6}], "head": "conv_reduce"}


def test_an_exported_spec_brings_its_recipe_and_names_the_study_by_file_and_hash():
    net = load_net(str(WINNER))
    exported = json.loads(WINNER.read_text())
    assert net.spec == ArchSpec.from_dict(exported["spec"])
    assert net.recipe == Recipe.from_dict(exported["recipe"])
    assert net.stem == "spec" and len(net.key) == len("spec-") + 4
    ablation = configured(STUDIES["ablation"], RunOptions(base=str(WINNER)))
    assert ablation.name == f"ablation.{net.key}"
    assert ablation.base_recipe == net.recipe and ablation.base_spec == net.spec
    assert "no_augment" in ablation.variants and "sgd_onecycle" in ablation.variants
    assert "head_gap_conv" in ablation.variants and "head_conv_gap" not in ablation.variants
    assert ablation.about == (
        f"the net in `{WINNER}` given as --base (spec hash {net.key[-4:]}), with the recipe the"
        " file carries"
    )


def test_each_base_says_in_words_what_it_is(tmp_path):
    """What a fixed-net study runs on, stored on the study when it is created (its `about`)."""
    plain = tmp_path / "net.json"
    plain.write_text(json.dumps(SMALL))
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({"optimizer": "adamw", "lr": 0.003}))
    about = {
        (study, base, given): configured(
            STUDIES[study], RunOptions(base=base, recipe=given and str(recipe))
        ).about
        for study, base, given in [
            ("ablation", None, None),
            ("ablation", str(plain), None),
            ("ablation", str(plain), "r"),
            ("baseline", str(plain), None),
            ("recipe", None, None),
        ]
    }
    assert list(about.values()) == [
        "the pinned baseline (archs.BASELINE), with the reference recipe",
        f"the net in `{plain}` given as --base (spec hash {load_net(str(plain)).key[-4:]}),"
        " with the reference recipe",
        f"the net in `{plain}` given as --base (spec hash {load_net(str(plain)).key[-4:]}),"
        f" with the recipe given by --recipe ({recipe})",
        f"the net in `{plain}` given as --base (spec hash {load_net(str(plain)).key[-4:]}),"
        " with the reference recipe",
        "the pinned baseline (archs.BASELINE), its recipe tuned starting from the reference"
        " recipe",
    ]
    assert configured(STUDIES["baseline"], RunOptions()).about is None  # the pinned baseline
    inline = configured(STUDIES["ablation"], RunOptions(base=json.dumps(SMALL))).about
    assert inline.startswith("the net in inline JSON given as --base (spec hash ")


def test_recipe_precedence_is_flag_then_file_then_default(tmp_path):
    plain = tmp_path / "net.json"
    plain.write_text(json.dumps(SMALL))
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({"optimizer": "adamw", "lr": 0.003, "batch_size": 32}))
    base = configured(STUDIES["baseline"], RunOptions(base=str(plain)))
    assert base.base_recipe == REFERENCE_RECIPE
    with_file = configured(STUDIES["baseline"], RunOptions(base=str(WINNER)))
    assert with_file.base_recipe == load_net(str(WINNER)).recipe
    flagged = configured(STUDIES["baseline"], RunOptions(base=str(WINNER), recipe=str(recipe)))
    assert flagged.base_recipe == Recipe(optimizer="adamw", lr=0.003, batch_size=32)
    assert flagged.name.startswith(with_file.name + "+recipe-")
    assert load_recipe(str(WINNER)) == load_net(str(WINNER)).recipe


def test_two_files_named_alike_never_share_a_study(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "net.json").write_text(json.dumps(SMALL))
    (tmp_path / "b" / "net.json").write_text(json.dumps({**SMALL, "blocks": [[8], [10]]}))
    names = {
        configured(STUDIES["baseline"], RunOptions(base=str(tmp_path / d / "net.json"))).name
        for d in "ab"
    }
    assert len(names) == 2 and all(name.startswith("baseline.net-") for name in names)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "no such file"),
        ("{not json", "not valid JSON"),
        ('{"blocks": [[8, 0]]}', "invalid spec: block 1: width must be an integer"),
        ('{"spec": {"blocks": [[8]]}, "recipe": {"lr": 0.1, "speed": 2}}', "unknown field"),
    ],
)
def test_bad_net_files_name_the_file_and_the_problem(tmp_path, content, words):
    path = tmp_path / "net.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=words) as caught:
        load_net(str(path))
    assert "net.json" in str(caught.value)


def test_your_own_net_repeats_over_seeds_and_renders_without_the_reference(tmp_path, data_root):
    net = tmp_path / "my_net.json"
    net.write_text(json.dumps(SMALL))
    url = f"sqlite:///{tmp_path / 's.db'}"
    result = run(
        ["--study", "baseline", "--base", str(net), "--seeds", "1", "2", "--epochs", "1",
         "--train-limit", "1000", *QUICK_TEST, "--storage", url, "--data-root", str(data_root),
         "--workers", "1", "--plain"],
        tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    name = f"baseline.{load_net(str(net)).key}"
    stored = optuna.load_study(study_name=name, storage=url)
    assert sorted(t.user_attrs["seed"] for t in stored.trials) == [1, 2]
    assert {t.user_attrs["summary"] for t in stored.trials} == {ArchSpec.from_dict(SMALL).summary}
    assert all(t.user_attrs["train_steps"] > 0 for t in stored.trials)
    assert report_main(["--storage", url, "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / name / "README.md").read_text()
    assert "Final test accuracy over n = 2 seeds" in text
    assert "reference" not in text.lower().split("## per seed")[0].split("\n", 8)[-1]
    data = json.loads((tmp_path / "out" / name / "data.json").read_text())
    assert data["summary"]["reference_curve"] is None


def test_bad_base_and_recipe_files_exit_2_and_write_nothing(tmp_path):
    recipe = tmp_path / "r.json"
    recipe.write_text('{"lr": 0.1, "speed": 2}')
    for args, words in (
        (["--base", str(tmp_path / "missing.json")], "missing.json"),
        (["--base", '{"blocks": [[8, 0]]}'], "inline JSON: invalid spec"),
        (["--recipe", str(recipe)], "r.json: invalid recipe: unknown field(s) speed"),
    ):
        result = run(["--study", "baseline", *args, "--storage", f"sqlite:///{tmp_path}/s.db"],
                     tmp_path)  # fmt: skip
        assert result.returncode == 2, result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and words in lines[0], result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]
