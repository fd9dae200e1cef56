"""Nets and recipes from files: what `--base`, `--recipe` and `archs show` read.

A net is a pinned name (`baseline`), a JSON object (inline or in a file) holding a spec, or an
exported `spec.json` (`{"spec": ..., "recipe": ...}`), whose recipe comes along. A recipe is a
JSON object of recipe fields, or an exported `spec.json`, whose "recipe" is used. Every problem
is a UsageError naming the file (or "inline JSON") and what is wrong.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archs import PINNED, ArchSpec, SpecError
from search.errors import UsageError
from search.study.recipe import Recipe, RecipeError


@dataclass(frozen=True)
class NetFile:
    """A net read from `source`: its spec, the recipe it carried (if any), a short name."""

    spec: ArchSpec
    recipe: Recipe | None
    stem: str  # the file's stem, "inline" for JSON given on the command line
    source: str

    @property
    def digest(self) -> str:
        """4 hex digits of the spec's SHA-256: enough to tell two nets named alike apart."""
        return hashlib.sha256(self.spec.to_json().encode()).hexdigest()[:4]

    @property
    def key(self) -> str:
        """`<stem>-<digest>`: two files named alike never share a study."""
        return f"{self.stem}-{self.digest}"


def _read_json(text: str, what: str) -> tuple[Any, str, str]:
    """(data, stem, where) from inline JSON or a file path."""
    if text.lstrip().startswith("{"):
        source, stem, where = text, "inline", "inline JSON"
    else:
        path = Path(text)
        if not path.is_file():
            raise UsageError(f"{what} {text!r}: no such file (give a JSON file or inline JSON)")
        source, stem, where = path.read_text(), path.stem, str(path)
    try:
        return json.loads(source), stem, where
    except json.JSONDecodeError as error:
        raise UsageError(f"{where}: not valid JSON ({error})") from None


def load_net(text: str, what: str = "--base") -> NetFile:
    """A pinned name, inline JSON or a JSON file (a spec, or an exported spec.json)."""
    if text in PINNED:
        return NetFile(PINNED[text], None, text, text)
    data, stem, where = _read_json(text, what)
    recipe = None
    if isinstance(data, dict) and isinstance(data.get("spec"), dict):  # an exported spec.json
        if data.get("recipe") is not None:
            recipe = _recipe(data["recipe"], where)
        data = data["spec"]
    try:
        spec = ArchSpec.from_dict(data)
    except SpecError as error:
        raise UsageError(f"{where}: {error}") from None
    return NetFile(spec, recipe, stem, where)


def load_recipe(text: str) -> Recipe:
    """A JSON object of recipe fields, or an exported spec.json (its "recipe")."""
    data, _, where = _read_json(text, "--recipe")
    if isinstance(data, dict) and isinstance(data.get("spec"), dict):
        data = data.get("recipe")
        if data is None:
            raise UsageError(f"{where}: an exported spec.json without a recipe")
    return _recipe(data, where)


def _recipe(data: Any, where: str) -> Recipe:
    if not isinstance(data, dict):
        raise UsageError(f"{where}: a recipe must be a JSON object, got {type(data).__name__}")
    try:
        return Recipe.from_dict(data)
    except (RecipeError, TypeError) as error:
        raise UsageError(f"{where}: {error}") from None
