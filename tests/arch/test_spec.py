"""The spec: construction, validation messages, normalisation, serialisation, summary, geometry.

Every invalid spec is checked for its exact message (one problem, one message); the baseline's
summary, output sizes and receptive fields are worked out by hand in the comments.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from random_specs import random_specs

from archs import BASELINE, ArchSpec, SpecError, Transition, layer_geometry
from archs.spec import BN_POSITIONS, DROPOUT_PLACES, HEADS, PADDINGS

TWO_BLOCKS = {"blocks": ((8,), (16,)), "transitions": (Transition(),)}


def problems_of(**fields) -> list[str]:
    with pytest.raises(SpecError) as caught:
        ArchSpec(**fields)
    assert str(caught.value) == "invalid spec: " + "; ".join(caught.value.problems)
    return caught.value.problems


# --- validation: one clear message per problem --------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"blocks": ((8, 0),)}, "block 1: width must be an integer in 1..4096, got 0"),
        ({"blocks": ((8,), (-4,)), "transitions": (Transition(),)},
         "block 2: width must be an integer in 1..4096, got -4"),
        ({"blocks": ((8.0,),)}, "block 1: width must be an integer in 1..4096, got 8.0"),
        ({"blocks": ((True,),)}, "block 1: width must be an integer in 1..4096, got True"),
        ({"blocks": ((4097,),)}, "block 1: width must be an integer in 1..4096, got 4097"),
        ({"blocks": ()}, "blocks: at least one block of 3x3 convs is needed"),
        ({"blocks": ((8,), ()), "transitions": (Transition(),)},
         "block 2: a block needs at least one 3x3 conv"),
        ({"blocks": ((8,),), "dropout": 1.0}, "dropout: must be in [0, 1), got 1.0"),
        ({"blocks": ((8,),), "dropout": -0.1}, "dropout: must be in [0, 1), got -0.1"),
        ({"blocks": ((8,),), "dropout": "0.1"}, "dropout: must be a number in [0, 1), got '0.1'"),
        ({"blocks": ((8,),), "bn": "after"},
         "bn: unknown kind 'after' (known: after_relu, before_relu, none)"),
        ({"blocks": ((8,),), "head": "fc"},
         "head: unknown kind 'fc' (known: gap_conv, conv_gap, conv_reduce)"),
        ({"blocks": ((8,),), "dropout_at": "everywhere"},
         "dropout_at: unknown kind 'everywhere' (known: every_conv, block_end, none)"),
        ({"blocks": ((8,), (16,)), "transitions": (Transition(pool="avg"),)},
         "transition 1: unknown pool kind 'avg' (known: max, conv)"),
        ({"blocks": ((8,), (16,)), "transitions": (Transition(width=-1),)},
         "transition 1: 1x1 width must be an integer in 0..4096, got -1"),
        ({"blocks": ((8,), (16,)), "transitions": (Transition(pool_bn="yes"),)},
         "transition 1: pool_bn must be true or false, got 'yes'"),
        ({"blocks": ((8,), (16,))}, "transitions: 2 blocks need 1 transitions, got 0"),
        ({"blocks": ((8,),), "transitions": (Transition(),)},
         "transitions: 1 blocks need 0 transitions, got 1"),
        ({"blocks": ((8,), (16,)), "transitions": ("max",)},
         "transitions: each must be a Transition or an object with its fields"),
        ({**TWO_BLOCKS, "padding": (2, 0)}, "padding: one of (0, 1) per block, got [2, 0]"),
        ({**TWO_BLOCKS, "padding": (1,)}, "padding: one of (0, 1) per block, got [1]"),
        ({"blocks": ((8,),), "bias": 1}, 'bias: must be true, false or "needed", got 1'),
        ({"blocks": ((8,),), "classes": 0}, "classes: must be a positive integer, got 0"),
        ({"blocks": ((8,),), "in_channels": 1.5},
         "in_channels: must be a positive integer, got 1.5"),
        ({"blocks": ((8,),), "input_size": -28},
         "input_size: must be a positive integer, got -28"),
    ],
)  # fmt: skip
def test_each_invalid_spec_has_its_own_message(fields, message):
    assert problems_of(**fields) == [message]


def test_four_blocks_of_three_valid_convs_collapse_the_map():
    # 28 -conv-> 26, 24, 22 -pool-> 11 -conv-> 9, 7, 5 -pool-> 2 -conv7-> 0: gone before the head
    spec = {"blocks": ((8, 8, 8),) * 4, "transitions": (Transition(),) * 3}
    assert problems_of(**spec) == ["spatial size collapses to 0 at conv7, before the head"]


def test_a_pool_on_a_one_pixel_map_collapses_it():
    # 5 -conv-> 3, 1 -pool-> 0
    fields = {"blocks": ((8, 8), (8,)), "transitions": (Transition(),), "input_size": 5}
    assert problems_of(**fields) == ["spatial size collapses to 0 at pool1, before the head"]


def test_a_map_of_exactly_one_pixel_at_the_head_is_valid():
    # 5 -conv-> 3 -conv-> 1: the head still sees one pixel
    spec = ArchSpec(blocks=((8, 8),), input_size=5)
    assert [layer.size for layer in layer_geometry(spec)] == [3, 1, 1, 1]


def test_every_problem_is_reported_at_once():
    problems = problems_of(blocks=((0,),), bn="x", dropout=2.0, classes=0)
    assert problems == [
        "bn: unknown kind 'x' (known: after_relu, before_relu, none)",
        "block 1: width must be an integer in 1..4096, got 0",
        "dropout: must be in [0, 1), got 2.0",
        "classes: must be a positive integer, got 0",
    ]


def test_blocks_of_the_wrong_type_are_a_spec_error_not_a_type_error():
    assert problems_of(blocks=8) == ["blocks: must be a list of lists of widths, got 8"]
    assert problems_of(blocks=((8,),), padding=1) == ["padding: must be a list of 0 or 1, got 1"]


def test_an_unknown_transition_field_lists_the_known_ones():
    with pytest.raises(SpecError) as caught:
        ArchSpec.from_dict({"blocks": [[8], [8]], "transitions": [{"widht": 4}]})
    assert caught.value.problems == [
        "transition: unknown field 'widht' (known: pool, pool_bn, width, act, bn)"
    ]


# --- normalisation: settings that cannot change the network ---------------------------------


def test_zero_dropout_means_no_dropout_anywhere():
    spec = ArchSpec(blocks=((8,),), dropout=0, dropout_at="every_conv")
    assert (spec.dropout, spec.dropout_at) == (0.0, "none")
    assert spec == ArchSpec(blocks=((8,),), dropout=0.3, dropout_at="none")


def test_no_batchnorm_means_no_batchnorm_after_the_pools():
    spec = ArchSpec(
        blocks=((8,), (8,), (8,)),
        transitions=(Transition(pool_bn=True), Transition(pool_bn=True, width=4)),
        bn="none",
    )
    assert [t.pool_bn for t in spec.transitions] == [False, False]
    assert spec.transitions[1].width == 4
    unnormalised = dataclasses.replace(
        spec, transitions=(Transition(pool_bn=False), Transition(pool_bn=True, width=4))
    )
    assert unnormalised == spec


def test_lists_and_dicts_are_normalised_to_tuples_and_transitions():
    spec = ArchSpec(blocks=[[8, 16, 16], [16, 32]], transitions=[{"width": 8}], padding=[0, 0])
    assert spec == BASELINE
    assert hash(spec) == hash(BASELINE)


def test_padding_defaults_to_valid_convs_everywhere():
    spec = ArchSpec(**TWO_BLOCKS)
    assert spec.padding == (0, 0)


# --- serialisation --------------------------------------------------------------------------


def test_baseline_to_dict_is_plain_json():
    assert BASELINE.to_dict() == {
        "blocks": [[8, 16, 16], [16, 32]],
        "transitions": [{"pool": "max", "pool_bn": True, "width": 8}],
        "padding": [0, 0],
        "bn": "after_relu",
        "dropout": 0.1,
        "dropout_at": "every_conv",
        "head": "gap_conv",
        "bias": True,
        "in_channels": 1,
        "input_size": 28,
        "classes": 10,
    }


@pytest.mark.parametrize("spec", [BASELINE, *random_specs(50, seed=11, vary_io=True)])
def test_dict_and_json_round_trips(spec):
    data = spec.to_dict()
    assert json.loads(json.dumps(data)) == data  # JSON types only
    assert ArchSpec.from_dict(data) == spec
    assert ArchSpec.from_dict(json.loads(json.dumps(data))) == spec
    text = spec.to_json()
    assert list(json.loads(text)) == sorted(data)  # keys sorted: one spec, one text
    assert ArchSpec.from_json(text) == spec
    assert ArchSpec.from_json(text).to_json() == text


def test_from_dict_names_each_unknown_field():
    data = {**BASELINE.to_dict(), "depth": 3, "act": "gelu"}
    with pytest.raises(SpecError) as caught:
        ArchSpec.from_dict(data)
    known = (
        "bias, blocks, bn, classes, dilations, dropout, dropout_at, head, in_channels,"
        " input_size, kernels, padding, separable, transitions"
    )
    assert caught.value.problems == [
        f"unknown field 'act' (known: {known})",
        f"unknown field 'depth' (known: {known})",
    ]


def test_from_dict_unknown_transition_field():
    data = {**BASELINE.to_dict(), "transitions": [{"pool": "max", "kind": "avg"}]}
    with pytest.raises(SpecError) as caught:
        ArchSpec.from_dict(data)
    assert caught.value.problems == [
        "transition: unknown field 'kind' (known: pool, pool_bn, width, act, bn)"
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "a spec must be a JSON object, got list"),
        ({"head": "gap_conv"}, "blocks: missing"),
    ],
)
def test_from_dict_rejects_non_specs(data, message):
    with pytest.raises(SpecError) as caught:
        ArchSpec.from_dict(data)
    assert caught.value.problems == [message]


@pytest.mark.parametrize("text", ["", "{blocks: [[8]]}", "not json", '{"blocks": [[8]]'])
def test_from_json_rejects_text_that_is_not_json(text):
    with pytest.raises(SpecError) as caught:
        ArchSpec.from_json(text)
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].startswith("not valid JSON: ")


def test_from_json_validates_the_spec_too():
    with pytest.raises(SpecError) as caught:
        ArchSpec.from_json('{"blocks": [[8]], "head": "fc"}')
    assert caught.value.problems == [
        "head: unknown kind 'fc' (known: gap_conv, conv_gap, conv_reduce)"
    ]


# --- summary ----------------------------------------------------------------------------------


def test_baseline_summary():
    assert BASELINE.summary == "8-16-16|P|T8|16-32|GAP"


@pytest.mark.parametrize(
    ("changes", "summary"),
    [
        ({"bias": False}, "8-16-16|P|T8|16-32|GAP nobias"),
        ({"bn": "before_relu"}, "8-16-16|P|T8|16-32|GAP bn:pre"),
        ({"bn": "none"}, "8-16-16|P|T8|16-32|GAP bn:none"),
        ({"dropout": 0.0}, "8-16-16|P|T8|16-32|GAP drop:0"),
        ({"dropout": 0.05}, "8-16-16|P|T8|16-32|GAP drop:0.05"),
        ({"dropout_at": "block_end"}, "8-16-16|P|T8|16-32|GAP drop:0.1@end"),
        ({"head": "conv_gap"}, "8-16-16|P|T8|16-32|C1-GAP"),
        ({"head": "conv_reduce"}, "8-16-16|P|T8|16-32|CR"),
        ({"padding": (1, 0)}, "8-16-16s|P|T8|16-32|GAP"),
        ({"padding": (0, 1)}, "8-16-16|P|T8|16-32s|GAP"),
        ({"transitions": (Transition(pool_bn=False, width=8),)}, "8-16-16|Pn|T8|16-32|GAP"),
        ({"transitions": (Transition(),)}, "8-16-16|P|16-32|GAP"),
        ({"in_channels": 3}, "8-16-16|P|T8|16-32|GAP in:3x28 classes:10"),
        ({"bias": False, "bn": "none", "dropout": 0.25},
         "8-16-16|P|T8|16-32|GAP bn:none drop:0.25 nobias"),
    ],
)  # fmt: skip
def test_summary_shows_every_setting_that_differs_from_the_reference(changes, summary):
    assert dataclasses.replace(BASELINE, **changes).summary == summary


def test_summary_tells_apart_dropouts_that_agree_to_six_digits():
    first = dataclasses.replace(BASELINE, dropout=0.1234561)
    second = dataclasses.replace(BASELINE, dropout=0.1234562)
    assert first.summary != second.summary


def test_random_specs_cover_every_option():
    specs = random_specs(50, seed=7, vary_io=True)
    transitions = [t for spec in specs for t in spec.transitions]
    assert {spec.bn for spec in specs} == set(BN_POSITIONS)
    assert {spec.head for spec in specs} == set(HEADS)
    assert {spec.dropout_at for spec in specs} == set(DROPOUT_PLACES)
    assert {p for spec in specs for p in spec.padding} == set(PADDINGS)
    assert {spec.bias for spec in specs} == {True, False, "needed"}
    assert {len(spec.blocks) for spec in specs} == {1, 2, 3, 4}
    assert {t.pool_bn for t in transitions} == {True, False}
    assert {t.width > 0 for t in transitions} == {True, False}
    assert len({(s.in_channels, s.input_size, s.classes) for s in specs}) > 4


def test_summaries_of_random_specs_are_unique_per_distinct_spec():
    specs = random_specs(50, seed=7, vary_io=True) + random_specs(50, seed=8)
    by_summary: dict[str, set[ArchSpec]] = {}
    for spec in specs:
        by_summary.setdefault(spec.summary, set()).add(spec)
    assert all(len(same) == 1 for same in by_summary.values())
    assert len(by_summary) == len(set(specs)) > 90  # and the draws are mostly distinct


# --- geometry ---------------------------------------------------------------------------------


def test_baseline_geometry_by_hand():
    # sizes: 3x3 valid convs take 2 each (28 -> 26 -> 24 -> 22), the pool halves (-> 11), the 1x1
    # keeps 11, convs again (-> 9 -> 7), the GAP and the 1x1 head leave one pixel.
    # receptive fields, rf += (k - 1) * jump: 3, 5, 7 (jump 1); pool k=2: 8, jump 2; 1x1: 8;
    # 3x3 at jump 2: 12, 16; the GAP's 7x7 window at jump 2: 16 + 6 * 2 = 28; head 1x1: 28.
    layers = layer_geometry(BASELINE)
    assert [layer.name for layer in layers] == [
        "conv1", "conv2", "conv3", "pool1", "trans1", "conv4", "conv5", "gap", "head",
    ]  # fmt: skip
    assert [layer.size for layer in layers] == [26, 24, 22, 11, 11, 9, 7, 1, 1]
    assert [layer.rf for layer in layers] == [3, 5, 7, 8, 8, 12, 16, 28, 28]
    assert [layer.jump for layer in layers] == [1, 1, 1, 2, 2, 2, 2, 2, 2]
    assert [layer.out_channels for layer in layers] == [8, 16, 16, 16, 8, 16, 32, 32, 10]
    assert [layer.in_channels for layer in layers] == [1, 8, 16, 16, 16, 8, 16, 32, 32]
    assert [layer.kernel for layer in layers] == [3, 3, 3, 2, 1, 3, 3, 7, 1]


def test_same_padding_and_a_whole_map_head_geometry_by_hand():
    # two padded 3x3 convs keep 28; the conv_reduce head's kernel is the whole 28x28 map:
    # rf 3, 5, then 5 + 27 * 1 = 32.
    spec = ArchSpec(blocks=((8, 8),), padding=(1,), head="conv_reduce")
    layers = layer_geometry(spec)
    assert [(layer.name, layer.size, layer.rf, layer.kernel) for layer in layers] == [
        ("conv1", 28, 3, 3),
        ("conv2", 28, 5, 3),
        ("head", 1, 32, 28),
    ]
