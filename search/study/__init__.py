"""The study API: what a study file imports.

    from search.study import REFERENCE_RECIPE, ArchSpec, CnnStudy, Limits, Proposal, Transition

A study file (built in under studies/, or a user's own .py) defines one study with these; the
definitions live in search.study.definitions, the recipe, limits, pruner helpers and net files
beside it. The names load on first use, so a command that needs only a constant of this package
(`--help`, say) does not import torch or Optuna.
"""

import importlib

_HOMES = {
    "REFERENCE_RECIPE": "search.study.recipe",
    "Recipe": "search.study.recipe",
    "ArchSpec": "archs",
    "Transition": "archs",
    "Limits": "search.study.limits",
    "CnnStudy": "search.study.definitions",
    "Proposal": "search.study.definitions",
    "RunOptions": "search.study.definitions",
    "StudyDef": "search.study.definitions",
    "ToyStudy": "search.study.definitions",
}

__all__ = [  # the public API for study files
    "REFERENCE_RECIPE",
    "ArchSpec",
    "CnnStudy",
    "Limits",
    "Proposal",
    "Recipe",
    "RunOptions",
    "StudyDef",
    "Transition",
    "ToyStudy",  # the Part-A toy study (studies/lr_sweep.py)
]


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module 'search.study' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
