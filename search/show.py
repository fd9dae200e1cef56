"""`python -m archs show SPEC`: a spec's layer table with totals and the limits' verdicts.

SPEC is a pinned name (baseline), a JSON object, or a file holding one (an exported spec.json
with a "spec" key works too). Columns: layer, kind, output shape, parameters, FLOPs (fvcore's
convention: one multiply-add = one FLOP), receptive field in input pixels.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from search.cli import Parser, main_guard
from search.errors import UsageError
from search.study.recipe import MAX_EPOCHS

if TYPE_CHECKING:  # torch, rich and fvcore load only once a spec is shown, not for --help
    from rich.table import Table

    from archs import ArchSpec

PROG = "python -m archs"


def load_spec(text: str) -> ArchSpec:
    """A pinned name, a JSON object, or a path to a JSON file; UsageError when none fits."""
    from archs import PINNED
    from search.study.nets import load_net

    if text not in PINNED and not text.lstrip().startswith("{") and not Path(text).is_file():
        names = ", ".join(PINNED)
        raise UsageError(f"{text!r} is not a pinned spec ({names}), a JSON object or a file")
    return load_net(text, "spec").spec


def layer_table(spec: ArchSpec, epochs: int) -> tuple[Table, list[str]]:
    """The layer table and one line per limit verdict."""
    from rich.table import Table

    from archs import build, layer_geometry
    from search.engine.profile import profile
    from search.study.limits import Limits

    model = build(spec)
    measured = profile(model)
    receptive = {layer.name: layer.rf for layer in layer_geometry(spec)}
    table = Table(title=f"{spec.summary}", title_justify="left")
    for column in ("layer", "kind", "output", "params", "FLOPs", "rf"):
        table.add_column(column, justify="left" if column in ("layer", "kind") else "right")
    rf = 1
    for layer in measured.layers:
        rf = receptive.get(layer.name, rf)
        shape = "x".join(str(d) for d in layer.output_shape[1:])
        table.add_row(
            layer.name,
            layer.kind,
            shape,
            f"{layer.params:,}" if layer.params else "",
            f"{layer.flops:,}" if layer.flops else "",
            str(rf),
        )
    table.add_section()
    table.add_row("total", "", "", f"{measured.params:,}", f"{measured.flops:,}", "")
    verdicts = Limits().check(model, measured, epochs)
    lines = [f"{'PASS' if v.passed else 'FAIL'}  {v.reason}" for v in verdicts]
    lines.append(f"conv FLOPs {measured.conv_flops:,} (fvcore: one multiply-add = one FLOP)")
    return table, lines


def show(text: str, epochs: int, plain: bool) -> int:
    from rich.console import Console

    spec = load_spec(text)
    console = Console(width=100 if plain else None, no_color=plain, soft_wrap=False)
    table, lines = layer_table(spec, epochs)
    console.print(table)
    for line in lines:
        console.print(line, highlight=False, markup=False)
    console.print(f"spec: {spec.to_json()}", highlight=False, soft_wrap=True, markup=False)
    return 1 if any(line.startswith("FAIL") for line in lines) else 0  # a limit fails: 1


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    parser = Parser(
        prog=prog,
        description="Show an architecture spec: layers, params, FLOPs, "
        "receptive field, and the task's limits (exit 1 when a limit fails, 2 on bad input).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    shown = commands.add_parser("show", help="table of a spec's layers")
    shown.add_argument("spec", help="pinned name (baseline), JSON object, or JSON file")
    shown.add_argument("--epochs", type=int, default=MAX_EPOCHS, help="for the epochs rule")
    shown.add_argument("--plain", action="store_true", help="no colour, width 100")
    args = parser.parse_args(argv)
    plain = args.plain or not sys.stdout.isatty()
    return main_guard(prog, lambda: show(args.spec, args.epochs, plain))
